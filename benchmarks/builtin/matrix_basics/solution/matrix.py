"""Matrices as lists of rows."""


def _check(m):
    if not isinstance(m, list) or not m or not all(isinstance(r, list) and r for r in m):
        raise ValueError("a matrix is a non-empty list of non-empty rows")
    if len({len(r) for r in m}) != 1:
        raise ValueError("all rows must have the same length")


def identity(n):
    if not isinstance(n, int) or n < 1:
        raise ValueError("n must be a positive integer")
    return [[int(i == j) for j in range(n)] for i in range(n)]


def transpose(m):
    _check(m)
    return [list(col) for col in zip(*m)]


def matmul(a, b, mod=None):
    _check(a)
    _check(b)
    if len(a[0]) != len(b):
        raise ValueError("shapes do not match")
    cols = list(zip(*b))
    result = [[sum(x * y for x, y in zip(row, col)) for col in cols] for row in a]
    if mod is not None:
        result = [[x % mod for x in row] for row in result]
    return result


def power(m, k, mod=None):
    _check(m)
    if len(m) != len(m[0]):
        raise ValueError("power needs a square matrix")
    if not isinstance(k, int) or k < 0:
        raise ValueError("k must be a non-negative integer")
    result = identity(len(m))
    base = [row[:] for row in m]
    if mod is not None:
        result = [[x % mod for x in row] for row in result]
        base = [[x % mod for x in row] for row in base]
    while k:
        if k & 1:
            result = matmul(result, base, mod)
        base = matmul(base, base, mod)
        k >>= 1
    return result
