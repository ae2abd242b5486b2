"""Flattening of nested lists and tuples."""


def flatten(items, depth=None):
    """Flatten nested lists and tuples up to depth levels (None: all the way)."""
    if not isinstance(items, (list, tuple)):
        raise ValueError("items must be a list or a tuple")
    if depth is not None and (not isinstance(depth, int) or depth < 0):
        raise ValueError("depth must be None or a non-negative integer")
    out = []
    # Each frame: (iterator over a sequence, its nesting level, the id of that sequence).
    stack = [(iter(items), 0, id(items))]
    active = {id(items)}
    while stack:
        iterator, level, ident = stack[-1]
        for value in iterator:
            if isinstance(value, (list, tuple)) and (depth is None or level < depth):
                if depth is None and id(value) in active:
                    raise ValueError("cannot flatten a list that contains itself")
                active.add(id(value))
                stack.append((iter(value), level + 1, id(value)))
                break
            out.append(value)
        else:
            stack.pop()
            active.discard(ident)
    return out
