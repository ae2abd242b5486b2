"""Line-based diff (Myers' O(ND) algorithm), patch and unified output."""


def _myers(a, b):
    """Edit script for a -> b with a maximal number of kept lines."""
    n, m = len(a), len(b)
    if n == 0 or m == 0:
        return [("-", x) for x in a] + [("+", y) for y in b]
    maximum = n + m
    v = {1: 0}
    trace = []
    for d in range(maximum + 1):
        trace.append(dict(v))
        for k in range(-d, d + 1, 2):
            if k == -d or (k != d and v[k - 1] < v[k + 1]):
                x = v[k + 1]
            else:
                x = v[k - 1] + 1
            y = x - k
            while x < n and y < m and a[x] == b[y]:
                x += 1
                y += 1
            v[k] = x
            if x >= n and y >= m:
                return _backtrack(a, b, trace, d)
    raise AssertionError("unreachable")


def _backtrack(a, b, trace, d_end):
    x, y = len(a), len(b)
    ops = []
    for d in range(d_end, -1, -1):
        v = trace[d]
        k = x - y
        if d == 0:
            while x > 0 and y > 0:
                ops.append((" ", a[x - 1]))
                x -= 1
                y -= 1
            break
        if k == -d or (k != d and v[k - 1] < v[k + 1]):
            prev_k = k + 1
        else:
            prev_k = k - 1
        prev_x = v[prev_k]
        prev_y = prev_x - prev_k
        while x > prev_x and y > prev_y:
            ops.append((" ", a[x - 1]))
            x -= 1
            y -= 1
        if x == prev_x:
            ops.append(("+", b[y - 1]))
        else:
            ops.append(("-", a[x - 1]))
        x, y = prev_x, prev_y
    ops.reverse()
    return ops


def _normalise(ops):
    """Within each run of changes, put deletions before insertions."""
    out, dels, ins = [], [], []
    for op in ops:
        if op[0] == "-":
            dels.append(op)
        elif op[0] == "+":
            ins.append(op)
        else:
            out += dels + ins + [op]
            dels, ins = [], []
    return out + dels + ins


def diff(a, b):
    a, b = list(a), list(b)
    start = 0
    while start < len(a) and start < len(b) and a[start] == b[start]:
        start += 1
    end = 0
    while end < len(a) - start and end < len(b) - start and a[-1 - end] == b[-1 - end]:
        end += 1
    middle = _myers(a[start : len(a) - end], b[start : len(b) - end])
    ops = [(" ", x) for x in a[:start]] + middle + [(" ", x) for x in a[len(a) - end :]]
    return _normalise(ops)


def patch(a, script):
    out, i = [], 0
    for op, line in script:
        if op in (" ", "-"):
            if i >= len(a) or a[i] != line:
                raise ValueError(f"line {i + 1} does not match")
            i += 1
            if op == " ":
                out.append(line)
        elif op == "+":
            out.append(line)
        else:
            raise ValueError(f"unknown op {op!r}")
    if i != len(a):
        raise ValueError("script does not consume all lines")
    return out


def _range(start, count):
    if count == 1:
        return f"{start + 1}"
    return f"{start + 1 if count else start},{count}"


def unified(a, b, context=3):
    ops = diff(a, b)
    changes = [i for i, (op, _) in enumerate(ops) if op != " "]
    if not changes:
        return ""
    groups = []
    for i in changes:
        lo, hi = max(0, i - context), min(len(ops), i + context + 1)
        if groups and lo <= groups[-1][1]:
            groups[-1][1] = max(groups[-1][1], hi)
        else:
            groups.append([lo, hi])
    # Position in a and b before each op.
    pa, pb, positions = 0, 0, []
    for op, _ in ops:
        positions.append((pa, pb))
        pa += op != "+"
        pb += op != "-"
    out = []
    for lo, hi in groups:
        sa, sb = positions[lo]
        chunk = ops[lo:hi]
        ca = sum(op != "+" for op, _ in chunk)
        cb = sum(op != "-" for op, _ in chunk)
        out.append(f"@@ -{_range(sa, ca)} +{_range(sb, cb)} @@\n")
        out.extend(f"{op}{line}\n" for op, line in chunk)
    return "".join(out)
