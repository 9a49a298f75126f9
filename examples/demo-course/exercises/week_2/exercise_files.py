"""Übung / exercise: Zählen Sie die Zeilen einer Textdatei. Count the lines of a text file."""

from pathlib import Path


def zeilen(pfad):
    ...


if __name__ == "__main__":
    print(zeilen(Path(__file__)))
