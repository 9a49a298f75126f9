"""Small helpers for the loops slides; pulled into the file topic because it imports them."""


def countdown(start):
    """Yield start, start - 1, ..., 1."""
    while start > 0:
        yield start
        start -= 1


def running_total(values):
    """Return the running totals of values as a list."""
    totals = []
    total = 0
    for value in values:
        total += value
        totals.append(total)
    return totals
