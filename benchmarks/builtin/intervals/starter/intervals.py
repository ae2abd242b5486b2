"""Sets of integers stored as half-open intervals."""


def normalize(intervals):
    raise NotImplementedError


def union(a, b):
    raise NotImplementedError


def intersection(a, b):
    raise NotImplementedError


def difference(a, b):
    raise NotImplementedError


def total_length(intervals):
    raise NotImplementedError


def gaps(intervals, start, end):
    raise NotImplementedError
