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


def find_first(seq, target):
    """Index of the first item equal to target, or -1."""
    lo, hi = 0, len(seq) - 1
    while lo <= hi:
        mid = (lo + hi) // 2
        if seq[mid] == target:
            return mid
        if seq[mid] < target:
            lo = mid + 1
        else:
            hi = mid - 1
    return -1


def find_last(seq, target):
    """Index of the last item equal to target, or -1."""
    lo, hi = 0, len(seq)
    while lo < hi:
        mid = (lo + hi) // 2
        if seq[mid] <= target:
            lo = mid + 1
        else:
            hi = mid
    if lo > 0 and seq[lo] == target:
        return lo
    return -1


def count_between(seq, low, high):
    """Number of items x with low <= x <= high (0 if low > high)."""
    return insertion_point(seq, high) - insertion_point(seq, low)
