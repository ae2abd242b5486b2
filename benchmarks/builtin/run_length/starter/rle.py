"""Run-length encoding of strings."""


def encode(text: str) -> str:
    """Encode runs of repeated characters as <count><char> (count omitted when 1)."""
    raise NotImplementedError


def decode(code: str) -> str:
    """Invert encode(); raise ValueError for malformed input."""
    raise NotImplementedError
