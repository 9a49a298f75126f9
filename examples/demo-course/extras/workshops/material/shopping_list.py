"""Workshop starter: a tiny shopping list."""

einkauf = ["Äpfel", "Brot", "Käse"]
for nummer, artikel in enumerate(einkauf, start=1):
    print(nummer, artikel)
