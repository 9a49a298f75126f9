"""Lösung Woche 1 / solution week 1: lists and loops."""

zahlen = [3, 1, 4, 1, 5]
zahlen.append(9)
print(sorted(zahlen))
print([z * z for z in zahlen])
