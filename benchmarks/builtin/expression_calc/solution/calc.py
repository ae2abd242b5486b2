"""Exact evaluation of arithmetic expressions."""

import re
from fractions import Fraction


class CalcError(ValueError):
    """A malformed expression or an impossible computation."""


_TOKEN = re.compile(r"\s*(?:(\d+\.?\d*|\.\d+)|([A-Za-z_]\w*)|(.))", re.ASCII)


def _tokens(text):
    tokens = []
    for match in _TOKEN.finditer(text):
        number, name, op = match.groups()
        if number:
            tokens.append(("num", Fraction(number)))
        elif name:
            tokens.append(("name", name))
        elif op is not None and not op.isspace():
            if op not in "+-*/^()":
                raise CalcError(f"unexpected character {op!r}")
            tokens.append(("op", op))
    tokens.append(("end", None))
    return tokens


class _Parser:
    def __init__(self, text, variables):
        self.tokens = _tokens(text)
        self.pos = 0
        self.variables = variables

    def peek(self):
        return self.tokens[self.pos]

    def take(self, op=None):
        token = self.tokens[self.pos]
        if op is not None and token != ("op", op):
            raise CalcError(f"expected {op!r}")
        self.pos += 1
        return token

    def parse(self):
        value = self.sum()
        if self.peek()[0] != "end":
            raise CalcError(f"unexpected {self.peek()[1]!r}")
        return value

    def sum(self):
        value = self.product()
        while self.peek() in (("op", "+"), ("op", "-")):
            op = self.take()[1]
            right = self.product()
            value = value + right if op == "+" else value - right
        return value

    def product(self):
        value = self.unary()
        while self.peek() in (("op", "*"), ("op", "/")):
            op = self.take()[1]
            right = self.unary()
            if op == "*":
                value *= right
            elif right == 0:
                raise CalcError("division by zero")
            else:
                value /= right
        return value

    def unary(self):
        if self.peek() in (("op", "-"), ("op", "+")):
            op = self.take()[1]
            value = self.unary()
            return -value if op == "-" else value
        return self.power()

    def power(self):
        base = self.atom()
        if self.peek() == ("op", "^"):
            self.take()
            exponent = self.unary()
            if exponent.denominator != 1:
                raise CalcError("exponent must be an integer")
            if base == 0 and exponent < 0:
                raise CalcError("division by zero")
            return base ** int(exponent)
        return base

    def atom(self):
        kind, value = self.take()
        if kind == "num":
            return value
        if kind == "name":
            if value not in self.variables:
                raise CalcError(f"unknown variable {value!r}")
            return Fraction(self.variables[value])
        if (kind, value) == ("op", "("):
            inner = self.sum()
            self.take(")")
            return inner
        raise CalcError("unexpected end of expression" if kind == "end" else f"unexpected {value!r}")


def evaluate(expression, variables=None):
    """The exact value of expression as a Fraction."""
    return _Parser(expression, dict(variables or {})).parse()
