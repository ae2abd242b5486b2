"""Querying and updating nested JSON-like data with path expressions."""

import re

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _parse(path):
    if not isinstance(path, str) or not path.startswith("$"):
        raise ValueError(f"path must start with $: {path!r}")
    steps, i = [], 1
    while i < len(path):
        if path.startswith("..", i):
            match = _NAME.match(path, i + 2)
            if not match:
                raise ValueError(f"bad recursive step at {i}")
            steps.append(("descend", match.group()))
            i = match.end()
        elif path.startswith(".*", i):
            steps.append(("all", None))
            i += 2
        elif path[i] == ".":
            match = _NAME.match(path, i + 1)
            if not match:
                raise ValueError(f"bad name at {i}")
            steps.append(("key", match.group()))
            i = match.end()
        elif path.startswith("[*]", i):
            steps.append(("all", None))
            i += 3
        elif path.startswith('["', i):
            j, out = i + 2, []
            while j < len(path) and path[j] != '"':
                if path[j] == "\\" and j + 1 < len(path) and path[j + 1] in '"\\':
                    j += 1
                out.append(path[j])
                j += 1
            if not path.startswith('"]', j):
                raise ValueError(f"unterminated key at {i}")
            steps.append(("key", "".join(out)))
            i = j + 2
        elif path[i] == "[":
            match = re.compile(r"\[(-?\d+)\]").match(path, i)
            if not match:
                raise ValueError(f"bad index at {i}")
            steps.append(("index", int(match.group(1))))
            i = match.end()
        else:
            raise ValueError(f"unexpected {path[i]!r} at {i}")
    return steps


def _descend(value, name):
    # Iterative pre-order walk.
    stack = [value]
    while stack:
        current = stack.pop()
        if isinstance(current, dict):
            if name in current:
                yield current[name]
            stack.extend(reversed(list(current.values())))
        elif isinstance(current, list):
            stack.extend(reversed(current))


def _step(values, kind, arg):
    out = []
    for v in values:
        if kind == "key" and isinstance(v, dict) and arg in v:
            out.append(v[arg])
        elif kind == "index" and isinstance(v, list) and -len(v) <= arg < len(v):
            out.append(v[arg])
        elif kind == "all" and isinstance(v, (dict, list)):
            out.extend(v.values() if isinstance(v, dict) else v)
        elif kind == "descend":
            out.extend(_descend(v, arg))
    return out


def query(data, path):
    values = [data]
    for kind, arg in _parse(path):
        values = _step(values, kind, arg)
    return values


def set_path(data, path, value):
    steps = _parse(path)
    if not steps or any(kind in ("all", "descend") for kind, _ in steps):
        raise ValueError("set_path needs a path of plain keys and indexes")
    current = data
    for n, (kind, arg) in enumerate(steps):
        last = n == len(steps) - 1
        if kind == "key":
            if not isinstance(current, dict):
                raise KeyError(arg)
            if last:
                current[arg] = value
            else:
                current = current.setdefault(arg, {})
        else:
            if not isinstance(current, list) or not -len(current) <= arg < len(current):
                raise KeyError(arg)
            if last:
                current[arg] = value
            else:
                current = current[arg]
    return data
