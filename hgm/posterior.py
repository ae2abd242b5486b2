"""The Beta posterior of a node's success rate: its lower quantile, and the node a run names as its best.

Apart from the search policies (hgm/policy.py) so that the read-only views, which name the best node, need numpy
alone: neither the policies' samplers (scipy) nor the in-memory search tree.
"""

from __future__ import annotations

import numpy as np


def best_mean_of(s: np.ndarray, f: np.ndarray) -> int | None:
    """The evaluated node (index) with the highest own mean; ties go to more evaluations, then the lowest index."""
    s, f = np.asarray(s), np.asarray(f)
    evaluated = np.flatnonzero(s + f > 0)
    if evaluated.size == 0:
        return None
    n = s[evaluated] + f[evaluated]
    mean = s[evaluated] / n
    order = np.lexsort((evaluated, -n, -mean))
    return int(evaluated[order[0]])


def best_belief_of(s: np.ndarray, f: np.ndarray, epsilon: float) -> int | None:
    """The evaluated node (index) whose Beta(1 + s, 1 + f) posterior has the highest lower epsilon-quantile, from
    per-node own successes `s` and failures `f` (ties: the lowest index)."""
    s, f = np.asarray(s), np.asarray(f)
    evaluated = np.flatnonzero(s + f > 0)
    if evaluated.size == 0:
        return None
    se, fe = s[evaluated], f[evaluated]
    width = int(fe.max()) + 1
    keys, inverse = np.unique(se * width + fe, return_inverse=True)
    q = beta_lower_quantiles(keys // width, keys % width, epsilon)
    return int(evaluated[np.argmax(q[inverse])])


_quantile_cache: dict[tuple[int, int, float], float] = {}


def beta_lower_quantiles(s: np.ndarray, f: np.ndarray, epsilon: float) -> np.ndarray:
    """The epsilon-quantile of Beta(1 + s, 1 + f) for integer counts s, f >= 0, elementwise (cached)."""
    if not 0.0 < epsilon < 1.0:
        raise ValueError(f"epsilon must be in (0, 1), got {epsilon}")
    s = np.asarray(s, dtype=np.int64)
    f = np.asarray(f, dtype=np.int64)
    if s.shape != f.shape or (s < 0).any() or (f < 0).any():
        raise ValueError("s and f must be non-negative integer arrays of one shape")
    keys = [(int(a), int(b), epsilon) for a, b in zip(s.ravel(), f.ravel(), strict=True)]
    missing = sorted({k for k in keys if k not in _quantile_cache})
    if missing:
        ms = np.array([k[0] for k in missing])
        mf = np.array([k[1] for k in missing])
        for k, v in zip(missing, _bisect_quantiles(ms, mf, epsilon), strict=True):
            _quantile_cache[k] = float(v)
    return np.array([_quantile_cache[k] for k in keys], dtype=float).reshape(s.shape)


def beta_cdf(x: np.ndarray, s: np.ndarray, f: np.ndarray) -> np.ndarray:
    """CDF of Beta(1 + s, 1 + f) at x, via I_x(1 + s, 1 + f) = P(Binomial(s + f + 1, x) >= s + 1)."""
    x = np.asarray(x, dtype=float)
    s = np.asarray(s, dtype=np.int64)
    n = s + np.asarray(f, dtype=np.int64) + 1
    n_max = int(n.max()) if n.size else 0
    log_fact = np.concatenate([[0.0], np.cumsum(np.log(np.arange(1, n_max + 1)))])
    k = np.arange(n_max + 1)
    nn, kk = n[..., None], np.broadcast_to(k, n.shape + k.shape)
    in_tail = (kk >= s[..., None] + 1) & (kk <= nn)
    nk = np.clip(nn - kk, 0, None)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_pmf = log_fact[nn] - log_fact[kk] - log_fact[nk] + kk * np.log(x[..., None]) + nk * np.log1p(-x[..., None])
    terms = np.where(in_tail, np.exp(np.where(in_tail, log_pmf, -np.inf)), 0.0)
    cdf = np.clip(terms.sum(axis=-1), 0.0, 1.0)
    return np.where(x <= 0.0, 0.0, np.where(x >= 1.0, 1.0, cdf))


def _bisect_quantiles(s: np.ndarray, f: np.ndarray, epsilon: float) -> np.ndarray:
    lo, hi = np.zeros(s.shape), np.ones(s.shape)
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        below = beta_cdf(mid, s, f) < epsilon
        lo = np.where(below, mid, lo)
        hi = np.where(below, hi, mid)
    return 0.5 * (lo + hi)
