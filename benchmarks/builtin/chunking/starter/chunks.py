"""Splitting iterables into chunks and sliding windows."""


def chunked(iterable, size):
    """Iterator over lists of size consecutive items (the last may be shorter)."""
    raise NotImplementedError


def windows(seq, size, step=1):
    """All full sliding windows of seq as tuples."""
    raise NotImplementedError
