"""Turning titles into URL slugs."""

import re
import unicodedata


def slugify(text, max_length=None, separator="-"):
    """An ASCII, lower-case, separator-joined slug of text."""
    if max_length is not None and (not isinstance(max_length, int) or isinstance(max_length, bool) or max_length < 1):
        raise ValueError("max_length must be None or a positive integer")
    if not isinstance(separator, str) or not separator or any(ch.isalnum() for ch in separator):
        raise ValueError("separator must be a non-empty string without letters or digits")
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    words = re.split(r"[^a-z0-9]+", ascii_text.lower().replace("'", ""))
    words = [w for w in words if w]
    slug = separator.join(words)
    if max_length is None or len(slug) <= max_length:
        return slug
    if len(words[0]) > max_length:
        return words[0][:max_length]
    kept = words[0]
    for word in words[1:]:
        candidate = kept + separator + word
        if len(candidate) > max_length:
            break
        kept = candidate
    return kept
