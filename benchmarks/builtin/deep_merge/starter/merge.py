"""Recursive merging of nested dictionaries."""

DELETE = object()


def deep_merge(base, override):
    """A new dict: base updated recursively with override; DELETE values remove keys."""
    raise NotImplementedError
