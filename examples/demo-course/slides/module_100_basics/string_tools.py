"""A helper that no file topic imports: it belongs to the module but to no topic."""


def shout(text):
    return text.upper() + "!"
