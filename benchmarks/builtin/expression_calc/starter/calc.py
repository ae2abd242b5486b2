"""Exact evaluation of arithmetic expressions."""

from fractions import Fraction


class CalcError(ValueError):
    """A malformed expression or an impossible computation."""


def evaluate(expression, variables=None):
    """The exact value of expression as a Fraction."""
    raise NotImplementedError
