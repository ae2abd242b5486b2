"""Flattening of nested lists and tuples."""


def flatten(items, depth=None):
    """Flatten nested lists and tuples up to depth levels (None: all the way)."""
    raise NotImplementedError
