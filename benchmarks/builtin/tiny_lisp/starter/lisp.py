"""A tiny Lisp interpreter."""

OUTPUT = []


class LispError(Exception):
    """An error in a Lisp program."""


def run(source):
    raise NotImplementedError
