"""Conversion between integers and Roman numerals."""

_VALUES = [
    (1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"),
    (50, "L"), (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I"),
]


def to_roman(n: int) -> str:
    """Return the canonical Roman numeral for 1 <= n <= 3999."""
    if type(n) is not int or not 1 <= n <= 3999:
        raise ValueError(f"cannot convert {n!r} to a Roman numeral")
    parts = []
    for value, symbol in _VALUES:
        count, n = divmod(n, value)
        parts.append(symbol * count)
    return "".join(parts)


_CANONICAL = {}


def from_roman(s: str) -> int:
    """Parse a canonical Roman numeral; raise ValueError for anything else."""
    if not _CANONICAL:
        _CANONICAL.update((to_roman(i), i) for i in range(1, 4000))
    if not isinstance(s, str) or s not in _CANONICAL:
        raise ValueError(f"not a canonical Roman numeral: {s!r}")
    return _CANONICAL[s]
