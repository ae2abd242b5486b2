"""Sets of integers stored as half-open intervals."""


def normalize(intervals):
    result = []
    for start, end in sorted((s, e) for s, e in intervals if s < e):
        if result and start <= result[-1][1]:
            if end > result[-1][1]:
                result[-1] = (result[-1][0], end)
        else:
            result.append((start, end))
    return result


def union(a, b):
    return normalize(list(a) + list(b))


def intersection(a, b):
    a, b = normalize(a), normalize(b)
    result = []
    i = j = 0
    while i < len(a) and j < len(b):
        start, end = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if start < end:
            result.append((start, end))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return normalize(result)


def difference(a, b):
    a = normalize(a)
    if not a:
        return []
    return intersection(a, gaps(b, a[0][0], a[-1][1]))


def total_length(intervals):
    return sum(e - s for s, e in normalize(intervals))


def gaps(intervals, start, end):
    result = []
    cursor = start
    for s, e in normalize(intervals):
        if e <= cursor:
            continue
        if s >= end:
            break
        if s > cursor:
            result.append((cursor, s))
        cursor = max(cursor, e)
    if cursor < end:
        result.append((cursor, end))
    return result
