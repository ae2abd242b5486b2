"""Run-length encoding of strings."""

import itertools


def encode(text: str) -> str:
    """Encode runs of repeated characters as <count><char> (count omitted when 1)."""
    if any(ch.isdecimal() for ch in text):
        raise ValueError("text must not contain digits")
    parts = []
    for ch, run in itertools.groupby(text):
        n = len(list(run))
        parts.append(ch if n == 1 else f"{n}{ch}")
    return "".join(parts)


def decode(code: str) -> str:
    """Invert encode(); raise ValueError for malformed input."""
    out = []
    count = ""
    for ch in code:
        if ch.isdecimal():
            if not count and ch == "0":
                raise ValueError(f"count with a leading zero or zero count in {code!r}")
            count += ch
        else:
            out.append(ch * int(count or "1"))
            count = ""
    if count:
        raise ValueError(f"count without a character at the end of {code!r}")
    return "".join(out)
