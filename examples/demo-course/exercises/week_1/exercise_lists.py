"""Übung / exercise: Schreiben Sie eine Funktion, die das größte Element einer Liste liefert.

Write a function that returns the largest element of a list (without max()).
"""


def groesstes(liste):
    ...
