"""Descriptive statistics for lists of numbers."""


def _check(values):
    if not values:
        raise ValueError("need at least one value")


def mean(values):
    """Arithmetic mean. Raises ValueError for an empty list."""
    _check(values)
    return sum(values) / len(values)


def median(values):
    """Middle value of the sorted data; the mean of the two middle values when the count is even.

    Raises ValueError for an empty list. The input list is not modified.
    """
    _check(values)
    s = sorted(values)
    mid = len(s) // 2
    if len(s) % 2:
        return s[mid]
    return (s[mid - 1] + s[mid]) / 2


def mode(values):
    """Most frequent value; on a tie, the smallest of the tied values. Raises ValueError if empty."""
    _check(values)
    counts = {}
    for v in values:
        counts[v] = counts.get(v, 0) + 1
    best = max(counts.values())
    return min(v for v, c in counts.items() if c == best)


def variance(values, sample=False):
    """Population variance (divide by n), or sample variance (divide by n - 1) when sample is True.

    Raises ValueError for an empty list, or for fewer than two values when sample is True.
    """
    _check(values)
    if sample and len(values) < 2:
        raise ValueError("sample variance needs at least two values")
    m = mean(values)
    return sum((v - m) ** 2 for v in values) / (len(values) - (1 if sample else 0))


def percentile(values, p):
    """The p-th percentile (0 <= p <= 100) with linear interpolation between closest ranks.

    The position in the sorted data is (n - 1) * p / 100; percentile(v, 0) is the minimum and
    percentile(v, 100) the maximum. Raises ValueError for an empty list or p outside [0, 100].
    """
    _check(values)
    if not 0 <= p <= 100:
        raise ValueError("p must be between 0 and 100")
    s = sorted(values)
    k = (len(s) - 1) * p / 100
    f = int(k)
    if f == len(s) - 1:
        return s[f]
    return s[f] + (s[f + 1] - s[f]) * (k - f)
