"""The Beta posterior of a node's success rate: its lower quantile, and the node a run names as its best.

Pure Python and apart from the search policies (hgm/policy.py): the read-only views name the best node with the
very function the engine uses, without loading numpy, the policies' samplers (scipy) or the in-memory search tree.
Quantiles are cached per (successes, failures, epsilon), so a run computes each at most once.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

BISECTIONS = 60

_quantile_cache: dict[tuple[int, int, float], float] = {}
_log_factorials = [0.0]


def best_mean_of(s: Iterable[Any], f: Iterable[Any]) -> int | None:
    """The evaluated node (index) with the highest own mean; ties go to more evaluations, then the lowest index."""
    best, best_key = None, (-1.0, 0)
    for i, (a, b) in enumerate(zip(_ints(s), _ints(f), strict=True)):
        n = a + b
        if n > 0 and (key := (a / n, n)) > best_key:
            best, best_key = i, key
    return best


def best_belief_of(s: Iterable[Any], f: Iterable[Any], epsilon: float) -> int | None:
    """The evaluated node (index) whose Beta(1 + s, 1 + f) posterior has the highest lower epsilon-quantile, from
    per-node own successes `s` and failures `f` (ties: the lowest index)."""
    best, best_q = None, -1.0
    for i, (a, b) in enumerate(zip(_ints(s), _ints(f), strict=True)):
        if a + b > 0 and (q := lower_quantile(a, b, epsilon)) > best_q:
            best, best_q = i, q
    return best


def _ints(values: Iterable[Any]) -> list[int]:
    """Counts as Python ints (numpy arrays convert in one call, much faster than element by element)."""
    return [int(v) for v in values] if not hasattr(values, "tolist") else list(values.tolist())


def lower_quantile(s: int, f: int, epsilon: float) -> float:
    """The epsilon-quantile of Beta(1 + s, 1 + f) for integer counts s, f >= 0 (cached)."""
    key = (s, f, epsilon)
    found = _quantile_cache.get(key)
    if found is not None:
        return found
    if not 0.0 < epsilon < 1.0:
        raise ValueError(f"epsilon must be in (0, 1), got {epsilon}")
    if s < 0 or f < 0:
        raise ValueError(f"success and failure counts must be non-negative, got {s} and {f}")
    lo, hi = 0.0, 1.0
    for _ in range(BISECTIONS):
        mid = 0.5 * (lo + hi)
        if cdf(mid, s, f) < epsilon:
            lo = mid
        else:
            hi = mid
    _quantile_cache[key] = value = 0.5 * (lo + hi)
    return value


def cdf(x: float, s: int, f: int) -> float:
    """CDF of Beta(1 + s, 1 + f) at x, via I_x(1 + s, 1 + f) = P(Binomial(s + f + 1, x) >= s + 1)."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    n = s + f + 1
    while len(_log_factorials) <= n:
        _log_factorials.append(_log_factorials[-1] + math.log(len(_log_factorials)))
    lf, log_x, log_rest = _log_factorials, math.log(x), math.log1p(-x)
    total = math.fsum(math.exp(lf[n] - lf[k] - lf[n - k] + k * log_x + (n - k) * log_rest) for k in range(s + 1, n + 1))
    return min(1.0, max(0.0, total))


def beta_lower_quantiles(s: Sequence[Any] | np.ndarray, f: Sequence[Any] | np.ndarray, epsilon: float) -> np.ndarray:
    """`lower_quantile` elementwise over arrays of counts of one shape."""
    import numpy as np

    s_array, f_array = np.asarray(s, dtype=np.int64), np.asarray(f, dtype=np.int64)
    if s_array.shape != f_array.shape:
        raise ValueError("s and f must be arrays of one shape")
    values = [lower_quantile(int(a), int(b), epsilon) for a, b in zip(s_array.ravel(), f_array.ravel(), strict=True)]
    return np.array(values, dtype=float).reshape(s_array.shape)


def beta_cdf(x: Any, s: Any, f: Any) -> np.ndarray:
    """`cdf` elementwise, with numpy broadcasting."""
    import numpy as np

    return np.vectorize(lambda a, b, c: cdf(float(a), int(b), int(c)), otypes=[float])(x, s, f)
