"""Semantic version parsing, ordering and range matching."""

import functools
import re

_NUM = r"0|[1-9]\d*"
_PRE_ID = r"0|[1-9]\d*|\d*[A-Za-z-][0-9A-Za-z-]*"
_PATTERN = re.compile(
    rf"({_NUM})\.({_NUM})\.({_NUM})(?:-((?:{_PRE_ID})(?:\.(?:{_PRE_ID}))*))?(?:\+([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?",
    re.ASCII,
)


@functools.total_ordering
class Version:
    def __init__(self, major, minor, patch, prerelease=(), build=()):
        self.major, self.minor, self.patch = major, minor, patch
        self.prerelease, self.build = tuple(prerelease), tuple(build)

    @classmethod
    def parse(cls, text):
        match = _PATTERN.fullmatch(text) if isinstance(text, str) else None
        if not match:
            raise ValueError(f"not a semantic version: {text!r}")
        major, minor, patch, pre, build = match.groups()
        return cls(int(major), int(minor), int(patch), pre.split(".") if pre else (), build.split(".") if build else ())

    def __str__(self):
        text = f"{self.major}.{self.minor}.{self.patch}"
        if self.prerelease:
            text += "-" + ".".join(self.prerelease)
        if self.build:
            text += "+" + ".".join(self.build)
        return text

    def __repr__(self):
        return f"Version.parse({str(self)!r})"

    def _key(self):
        pre = tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in self.prerelease)
        return (self.major, self.minor, self.patch, 0 if self.prerelease else 1, pre)

    def __eq__(self, other):
        if not isinstance(other, Version):
            return NotImplemented
        return self._key() == other._key()

    def __lt__(self, other):
        if not isinstance(other, Version):
            return NotImplemented
        return self._key() < other._key()

    def __hash__(self):
        return hash(self._key())


_OPS = {
    ">=": lambda a, b: a >= b, "<=": lambda a, b: a <= b, ">": lambda a, b: a > b,
    "<": lambda a, b: a < b, "=": lambda a, b: a == b,
}


def _parse_spec(spec):
    comparators = []
    for part in spec.split():
        match = re.fullmatch(r"(>=|<=|>|<|=)?(.*)", part)
        comparators.append((match.group(1) or "=", Version.parse(match.group(2))))
    if not comparators:
        raise ValueError("empty spec")
    return comparators


def max_satisfying(versions, spec):
    comparators = _parse_spec(spec)
    best = None
    for text in versions:
        try:
            v = Version.parse(text)
        except ValueError:
            continue
        if v.prerelease and not any(
            c.prerelease and (c.major, c.minor, c.patch) == (v.major, v.minor, v.patch) for _, c in comparators
        ):
            continue
        if all(_OPS[op](v, c) for op, c in comparators) and (best is None or v > best[0]):
            best = (v, text)
    return best[1] if best else None
