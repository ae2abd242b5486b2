"""Parsing and formatting of durations like 1h30m."""

import re

UNITS = [("d", 86400), ("h", 3600), ("m", 60), ("s", 1)]
_PATTERN = re.compile(r"\s*" + "".join(rf"(?:([0-9]+){u}\s*)?" for u, _ in UNITS), re.ASCII)


def parse_duration(text):
    """Seconds in a duration such as '2d 4h' or '90m'."""
    match = _PATTERN.fullmatch(text) if isinstance(text, str) else None
    if match is None or not any(match.groups()):
        raise ValueError(f"not a duration: {text!r}")
    return sum(int(amount) * size for amount, (_, size) in zip(match.groups(), UNITS) if amount)


def format_duration(seconds):
    """Canonical text for a number of seconds, e.g. '1d2h3m4s'."""
    if not isinstance(seconds, int) or isinstance(seconds, bool) or seconds < 0:
        raise ValueError(f"not a non-negative integer: {seconds!r}")
    parts = []
    for unit, size in UNITS:
        amount, seconds = divmod(seconds, size)
        if amount:
            parts.append(f"{amount}{unit}")
    return "".join(parts) or "0s"
