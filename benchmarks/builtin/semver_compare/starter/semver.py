"""Semantic version parsing, ordering and range matching."""


class Version:
    @classmethod
    def parse(cls, text):
        raise NotImplementedError


def max_satisfying(versions, spec):
    raise NotImplementedError
