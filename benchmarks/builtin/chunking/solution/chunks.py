"""Splitting iterables into chunks and sliding windows."""

import itertools


def _check(name, value):
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{name} must be an integer >= 1, not {value!r}")


def chunked(iterable, size):
    """Iterator over lists of size consecutive items (the last may be shorter)."""
    _check("size", size)
    iterator = iter(iterable)

    def generate():
        while True:
            chunk = list(itertools.islice(iterator, size))
            if not chunk:
                return
            yield chunk

    return generate()


def windows(seq, size, step=1):
    """All full sliding windows of seq as tuples."""
    _check("size", size)
    _check("step", step)
    items = list(seq)
    return [tuple(items[i : i + size]) for i in range(0, len(items) - size + 1, step)]
