"""Rendering and parsing Markdown tables."""

import re


def _cell(value):
    return str(value).replace("|", "\\|").replace("\r\n", " ").replace("\n", " ").replace("\r", " ")


def _pad(text, width, how):
    space = width - len(text)
    if how == "right":
        return " " * space + text
    if how == "center":
        left = space // 2
        return " " * left + text + " " * (space - left)
    return text + " " * space


def _rule(width, how):
    if how == "right":
        return "-" * (width - 1) + ":"
    if how == "center":
        return ":" + "-" * (width - 2) + ":"
    return "-" * width


def render(rows, columns=None, align=None):
    align = align or {}
    if columns is None:
        columns = []
        for row in rows:
            columns.extend(k for k in row if k not in columns)
    if not columns:
        return ""
    body = [[_cell(row.get(c, "")) for c in columns] for row in rows]
    header = [_cell(c) for c in columns]
    widths = [max(3, len(header[i]), *(len(r[i]) for r in body)) for i in range(len(columns))]
    hows = [align.get(c, "left") for c in columns]
    lines = [
        [_pad(h, w, how) for h, w, how in zip(header, widths, hows)],
        [_rule(w, how) for w, how in zip(widths, hows)],
    ]
    lines += [[_pad(v, w, how) for v, w, how in zip(r, widths, hows)] for r in body]
    return "\n".join("| " + " | ".join(line) + " |" for line in lines)


def _split(line):
    line = line.strip()
    if line.startswith("|"):
        line = line[1:]
    if line.endswith("|") and not line.endswith("\\|"):
        line = line[:-1]
    cells = re.split(r"(?<!\\)\|", line)
    return [c.strip().replace("\\|", "|") for c in cells]


def parse(text):
    lines = [line for line in text.strip().splitlines()]
    if len(lines) < 2:
        raise ValueError("a table needs a header and a separator row")
    header = _split(lines[0])
    rule = _split(lines[1])
    if len(rule) != len(header) or not all(re.fullmatch(r":?-+:?", c) for c in rule):
        raise ValueError("invalid separator row")
    rows = []
    for line in lines[2:]:
        cells = _split(line)
        if len(cells) != len(header):
            raise ValueError(f"row has {len(cells)} cells, header has {len(header)}")
        rows.append(dict(zip(header, cells)))
    return rows
