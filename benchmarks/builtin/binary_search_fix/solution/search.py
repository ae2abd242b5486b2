"""Binary searches over sorted sequences that support len() and indexing."""


def insertion_point(seq, target):
    """The smallest index i such that every item before i is < target (like bisect_left)."""
    lo, hi = 0, len(seq)
    while lo < hi:
        mid = (lo + hi) // 2
        if seq[mid] < target:
            lo = mid + 1
        else:
            hi = mid
    return lo


def _upper_point(seq, target):
    lo, hi = 0, len(seq)
    while lo < hi:
        mid = (lo + hi) // 2
        if seq[mid] <= target:
            lo = mid + 1
        else:
            hi = mid
    return lo


def find_first(seq, target):
    """Index of the first item equal to target, or -1."""
    i = insertion_point(seq, target)
    return i if i < len(seq) and seq[i] == target else -1


def find_last(seq, target):
    """Index of the last item equal to target, or -1."""
    i = _upper_point(seq, target) - 1
    return i if i >= 0 and seq[i] == target else -1


def count_between(seq, low, high):
    """Number of items x with low <= x <= high (0 if low > high)."""
    if low > high:
        return 0
    return _upper_point(seq, high) - insertion_point(seq, low)
