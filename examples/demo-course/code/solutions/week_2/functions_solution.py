"""Lösung Woche 2 / solution week 2: functions and files."""


def potenz(basis, exponent=2):
    return basis**exponent


if __name__ == "__main__":
    print(potenz(3), potenz(2, 10))
