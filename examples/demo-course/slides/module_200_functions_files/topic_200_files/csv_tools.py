"""Helpers for the files slides; importable because it is copied next to the notebook."""

import csv


def read_scores(path):
    """Read name/punkte rows from a CSV file; punkte becomes an int."""
    with open(path, encoding="utf-8", newline="") as f:
        return [{"name": row["name"], "punkte": int(row["punkte"])} for row in csv.DictReader(f)]


def average(rows):
    """Average of the punkte column."""
    return sum(row["punkte"] for row in rows) / len(rows)
