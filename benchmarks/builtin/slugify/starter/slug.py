"""Turning titles into URL slugs."""


def slugify(text, max_length=None, separator="-"):
    """An ASCII, lower-case, separator-joined slug of text."""
    raise NotImplementedError
