"""Selection rules: what to do next (expand which node, or evaluate which node on which task), and the final pick."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, Protocol

import numpy as np
from scipy.special import betainccinv, betaln

from hgm.tree import NodeGroups, Tree


@dataclass(frozen=True)
class SearchParams:
    """Knobs of the search policies."""

    alpha: float = 0.6
    """Expand while N**alpha >= |T| (N completed evaluations, |T| non-root nodes incl. in-flight expansions)."""
    cooling: bool = True
    """Thompson temperature tau = B / b (budget over what is left); off means tau = 1."""
    epsilon: float = 0.01
    """The best-belief agent maximises this lower quantile of its posterior Beta(1 + s, 1 + f)."""
    initial_evals: int = 5
    """Tasks the root is evaluated on before anything else."""
    initial_expansions: int = 2
    """Expansions of the root made right after its initial evaluations."""
    dgm_batch: int = 5
    """Tasks (the first ones in task order) that each node gets under the dgm policy."""

    def __post_init__(self) -> None:
        if self.alpha <= 0.0:
            raise ValueError(f"alpha must be positive, got {self.alpha}")
        if not 0.0 < self.epsilon < 1.0:
            raise ValueError(f"epsilon must be in (0, 1), got {self.epsilon}")
        for name in ("initial_evals", "initial_expansions", "dgm_batch"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")
        if self.dgm_batch == 0:
            raise ValueError("dgm_batch must be >= 1")


@dataclass(frozen=True)
class Decision:
    """One unit of work to schedule: expand `node`, or evaluate `node` on `task`."""

    kind: Literal["expand", "evaluate"]
    node: int
    task: str | None = None


class Policy(Protocol):
    """Decides the next unit of work from the tree alone, so a resumed run decides exactly as before."""

    name: str

    def decide(self, tree: Tree, budget: int, rng: np.random.Generator) -> Decision | None: ...


def tau(budget: int, used: int, cooling: bool) -> float:
    """Thompson temperature: B / b with b = B - used, or 1 without cooling."""
    if budget <= 0:
        raise ValueError(f"the evaluation budget must be positive, got {budget}")
    if not 0 <= used < budget:
        raise ValueError(f"used evaluations must be in [0, {budget}), got {used}")
    return budget / (budget - used) if cooling else 1.0


def sample_beta(rng: np.random.Generator, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Beta(a, b) draws as a ratio of gammas, in one sampler call (numpy's own beta is slow for a, b <= 1)."""
    g = rng.standard_gamma(np.concatenate([a, b]))
    x = g[: a.size]
    return x / (x + g[a.size :])


PLAIN_MAX = 2048
"""Up to this many candidates, one Beta draw per node is cheaper than drawing per group (same law either way)."""

_SEEDS = 4
"""Groups whose maxima are drawn first, to set the bar that most other groups then cannot reach."""


def group_argmax(rng: np.random.Generator, a: np.ndarray, b: np.ndarray, k: np.ndarray) -> int:
    """Index of the group holding the largest of independent draws, k[i] of them from Beta(a[i] >= 1, b[i]); exact.

    A group's maximum is F^-1(V) with V = U ** (1 / k) for a uniform U. Inverting F is costly, so it is done for a few
    promising groups and then only for groups whose V is above F(best so far); the others cannot win. Cheap upper
    bounds on 1 - F(x) settle most groups without computing F: Beta(a, b) is sub-Gaussian with variance proxy
    1 / (4 (a + b + 1)) (Marchal and Arbel, 2017), and y**(a - 1) <= 1 bounds the density's tail integral.
    """
    ab = a + b
    mean = a / ab
    tail = -np.expm1(np.log1p(-rng.random(a.size)) / k)  # 1 - V, kept precise near 0
    out = np.full(a.size, -np.inf)
    score = mean + np.sqrt((1.0 + np.log(k)) / (ab + 1.0))  # a rough upper reach of the group's maximum
    first = np.argpartition(-score, _SEEDS)[:_SEEDS] if a.size > _SEEDS else np.arange(a.size)
    out[first] = betainccinv(a[first], b[first], tail[first])
    # A group may win only if 1 - V < 1 - F(best); a margin keeps rounding from making a bound too tight.
    best, log_tail = out.max(), np.log(tail)
    maybe = log_tail < -2.0 * (ab + 1.0) * np.maximum(best - mean, 0.0) ** 2 + 1e-9
    maybe[first] = False
    i = np.flatnonzero(maybe)
    maybe[i] = log_tail[i] < _log_tail_bound(a[i], b[i], best) + 1e-9
    out[maybe] = betainccinv(a[maybe], b[maybe], tail[maybe])
    return int(np.argmax(out))


def _log_tail_bound(a: np.ndarray, b: np.ndarray, x: float) -> np.ndarray:
    """Log of a bound on P(X > x), X ~ Beta(a, b), a >= 1: y**(a - 1) <= 1 gives (1 - x)**b / (b B(a, b))."""
    if x >= 1.0:
        return np.full(a.shape, -np.inf)
    return np.where(a >= 1.0, b * np.log1p(-x) - np.log(b) - betaln(a, b), 0.0)


def thompson_pick(groups: NodeGroups, t: float, rng: np.random.Generator) -> int:
    """The node with the largest of independent Beta(t (1 + s), t (1 + f)) draws over all members of `groups`.

    Same law as drawing per node: the group maximum is drawn exactly, and the winner within its group is uniform
    because members are exchangeable.
    """
    slots, s, f, k = groups.table()
    g = group_argmax(rng, t * (1.0 + s), t * (1.0 + f), k)
    return groups.member(int(slots[g]), int(rng.integers(k[g])) if k[g] > 1 else 0)


# ---- the expand-or-evaluate schedule shared by hgm, greedy and random ------------------------------------------

ParentRule = Callable[[Tree, float, np.random.Generator], int]
"""Picks a parent among the expansion candidates (there is at least one), given tau and the rng."""


class AlphaPolicy:
    """HGM's schedule: root start-up, then expand while N**alpha >= |T|, else Thompson-evaluate on own counts.

    Start-up: the root is evaluated on `initial_evals` tasks, then expanded `initial_expansions` times (in-flight
    work counts, so a parallel engine fills its workers). Afterwards, expansion candidates are non-failed nodes with
    at least one own success; if there are none the policy evaluates instead, and if no node has tasks left it
    expands instead. Evaluation draws Beta(tau (1 + s), tau (1 + f)) over nodes with tasks left, takes the largest
    and gives it a random task it has not done. Only the parent rule differs between hgm, greedy and random.
    """

    def __init__(self, name: str, params: SearchParams, parent_rule: ParentRule) -> None:
        self.name = name
        self.params = params
        self._parent_rule = parent_rule

    def decide(self, tree: Tree, budget: int, rng: np.random.Generator) -> Decision | None:
        """The next unit of work, or None when nothing may be scheduled now."""
        used = tree.n_evals + tree.n_evals_in_flight
        if used >= budget or tree.n_nodes == 0:
            return None
        p = self.params
        if tree.reserved[0] < min(p.initial_evals, tree.n_tasks):
            return _evaluate(tree, 0, rng)
        if tree.n_children[0] + tree.expanding[0] < p.initial_expansions:
            return Decision("expand", 0)
        t = tau(budget, used, p.cooling)
        n_tree = tree.n_nodes - 1 + tree.n_expansions_in_flight
        # The tolerance keeps exact cases such as 32**0.6 == 8 from being lost to rounding.
        want_expand = tree.n_evals**p.alpha + 1e-9 >= n_tree
        if want_expand and (d := self._expand(tree, t, rng)) is not None:
            return d
        if (d := _thompson_evaluate(tree, t, rng)) is not None:
            return d
        return None if want_expand else self._expand(tree, t, rng)

    def _expand(self, tree: Tree, t: float, rng: np.random.Generator) -> Decision | None:
        if not tree.parent_groups:
            return None
        return Decision("expand", self._parent_rule(tree, t, rng))


def expand_candidates(tree: Tree) -> np.ndarray:
    """Node ids that may be expanded: non-failed, with at least one own success (the members of parent_groups)."""
    return np.flatnonzero((tree.own_s > 0) & ~tree.failed)


def _hgm_parent(tree: Tree, t: float, rng: np.random.Generator) -> int:
    if len(tree.parent_groups) > PLAIN_MAX:
        return thompson_pick(tree.parent_groups, t, rng)
    return _plain_pick(expand_candidates(tree), tree.clade_s, tree.clade_f, t, rng)


def _greedy_parent(tree: Tree, t: float, rng: np.random.Generator) -> int:
    candidates = expand_candidates(tree)
    s, f = tree.own_s[candidates], tree.own_f[candidates]
    mean = s / (s + f)
    best = candidates[mean == mean.max()]
    return int(best[rng.integers(best.size)]) if best.size > 1 else int(best[0])


def _random_parent(tree: Tree, t: float, rng: np.random.Generator) -> int:
    candidates = expand_candidates(tree)
    return int(candidates[rng.integers(candidates.size)])


def _thompson_evaluate(tree: Tree, t: float, rng: np.random.Generator) -> Decision | None:
    if not tree.eval_groups:
        return None
    if len(tree.eval_groups) > PLAIN_MAX:
        return _evaluate(tree, thompson_pick(tree.eval_groups, t, rng), rng)
    open_nodes = np.flatnonzero((tree.reserved < tree.n_tasks) & ~tree.failed)
    return _evaluate(tree, _plain_pick(open_nodes, tree.own_s, tree.own_f, t, rng), rng)


def _plain_pick(nodes: np.ndarray, s: np.ndarray, f: np.ndarray, t: float, rng: np.random.Generator) -> int:
    theta = sample_beta(rng, t * (1.0 + s[nodes]), t * (1.0 + f[nodes]))
    return int(nodes[np.argmax(theta)])


def _evaluate(tree: Tree, node: int, rng: np.random.Generator) -> Decision:
    left = tree.tasks_left(node)
    return Decision("evaluate", node, left[rng.integers(len(left))])


# ---- the dgm baseline -------------------------------------------------------------------------------------------


class DGMPolicy:
    """Darwin-Goedel-Machine-style baseline: every node is scored on the first `dgm_batch` tasks, then a parent is
    drawn with probability proportional to sigmoid(10 (own mean - 0.5)) / (1 + children incl. in-flight ones).

    Pending batch evaluations always come first (oldest node first, tasks in order), so each new child is scored
    before the next expansion; a node that already holds `dgm_batch` reservations counts as scored.
    """

    name = "dgm"

    def __init__(self, params: SearchParams) -> None:
        self.params = params

    def decide(self, tree: Tree, budget: int, rng: np.random.Generator) -> Decision | None:
        """The next unit of work, or None when nothing may be scheduled now."""
        if tree.n_evals + tree.n_evals_in_flight >= budget or tree.n_nodes == 0:
            return None
        batch = min(self.params.dgm_batch, tree.n_tasks)
        pending = np.flatnonzero((tree.reserved < batch) & ~tree.failed)
        if pending.size:
            node = int(pending[0])
            fixed = set(tree.tasks[:batch])
            task = next(t for t in tree.tasks_left(node) if t in fixed)
            return Decision("evaluate", node, task)
        s, f = tree.own_s, tree.own_f
        candidates = np.flatnonzero((s + f > 0) & ~tree.failed)
        if candidates.size == 0:
            return None
        cumulative = np.cumsum(dgm_weights(tree, candidates))
        pick = min(int(np.searchsorted(cumulative, rng.random(), side="right")), candidates.size - 1)
        return Decision("expand", int(candidates[pick]))


def dgm_weights(tree: Tree, candidates: np.ndarray) -> np.ndarray:
    """DGM's parent probabilities over `candidates` (evaluated, non-failed nodes)."""
    s, f = tree.own_s[candidates], tree.own_f[candidates]
    score = 1.0 / (1.0 + np.exp(-10.0 * (s / (s + f) - 0.5)))
    w = score / (1.0 + tree.n_children[candidates] + tree.expanding[candidates])
    return w / w.sum()


# ---- registry and final pick ------------------------------------------------------------------------------------

POLICIES = ("hgm", "dgm", "greedy", "random")
_PARENT_RULES: dict[str, ParentRule] = {"hgm": _hgm_parent, "greedy": _greedy_parent, "random": _random_parent}


class BenchPolicy:
    """No search: evaluate the root on every task in order, never expand (used by `hgm bench`)."""

    name = "bench"
    done_reason = "every task was tried"

    def decide(self, tree: Tree, budget: int, rng: np.random.Generator) -> Decision | None:
        left = tree.tasks_left(0)
        if not left or tree.n_evals + tree.n_evals_in_flight >= budget:
            return None
        return Decision("evaluate", 0, left[0])


def make_policy(name: str, params: SearchParams) -> Policy:
    """The policy called `name` (one of POLICIES, or "bench")."""
    if name == "dgm":
        return DGMPolicy(params)
    if name == "bench":
        return BenchPolicy()
    if name in _PARENT_RULES:
        return AlphaPolicy(name, params, _PARENT_RULES[name])
    raise ValueError(f"unknown policy {name!r}; valid policies: {', '.join(POLICIES)}")


def best_belief(tree: Tree, epsilon: float) -> int | None:
    """The evaluated node whose Beta(1 + s, 1 + f) posterior has the highest lower epsilon-quantile (ties: first id)."""
    s, f = tree.own_s, tree.own_f
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
