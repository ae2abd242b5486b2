"""Greedy full justification of text."""

import re


def _lines(words, width):
    lines, current = [], []
    for word in words:
        if current and len(" ".join(current + [word])) > width:
            lines.append(current)
            current = []
        current.append(word)
    if current:
        lines.append(current)
    return lines


def _full(words, width):
    if len(words) == 1:
        return words[0].ljust(width)
    gaps = len(words) - 1
    spaces = width - sum(len(w) for w in words)
    base, extra = divmod(spaces, gaps)
    out = ""
    for i, word in enumerate(words[:-1]):
        out += word + " " * (base + (1 if i < extra else 0))
    return out + words[-1]


def justify(text, width):
    if not isinstance(width, int) or isinstance(width, bool) or width < 1:
        raise ValueError("width must be a positive integer")
    paragraphs = [p.split() for p in re.split(r"\n[ \t\r\f\v]*\n", text)]
    result = []
    for words in paragraphs:
        if not words:
            continue
        if result:
            result.append("")
        lines = _lines(words, width)
        result.extend(_full(line, width) for line in lines[:-1])
        result.append(" ".join(lines[-1]))
    return result
