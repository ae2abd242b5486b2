"""A small regular expression engine."""


def fullmatch(pattern, text):
    raise NotImplementedError


def search(pattern, text):
    raise NotImplementedError
