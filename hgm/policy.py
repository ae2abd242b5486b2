"""Selection rules: what to do next (expand which node, or evaluate which node on which task), and the final pick."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, Protocol

import numpy as np

from hgm.posterior import best_belief_of, best_mean_of
from hgm.tree import NodeGroups, Tree

BEST_RULES = ("quantile", "mean")
"""How the final agent is named: the highest lower posterior quantile, or the highest own mean."""


@dataclass(frozen=True)
class SearchParams:
    """Knobs of the search policies."""

    alpha: float = 0.6
    """Expand while N**alpha >= |T| (what N and |T| count is set by the switches below)."""
    cooling: bool = False
    """Thompson temperature tau = B / b (budget over what is left); off means tau = 1."""
    epsilon: float = 0.1
    """The best-belief agent maximises this lower quantile of its posterior Beta(1 + s, 1 + f)."""
    initial_evals: int = 5
    """Tasks the root is evaluated on before anything else."""
    initial_expansions: int = 2
    """Expansions of the root made right after its initial evaluations."""
    count_running_evals: bool = False
    """N counts evaluations from when they start (running ones included), not only finished ones."""
    count_running_expansions: bool = True
    """|T| counts expansions that are still running."""
    count_failed: bool = False
    """|T| counts failed self-modifications."""
    root_evals_in_budget: bool = True
    """The root's initial evaluations are paid from the budget and counted in N; off: free and not in N."""
    best_rule: str = "quantile"
    """Final pick: "quantile" (highest lower epsilon-quantile of Beta(1 + s, 1 + f)) or "mean" (highest own mean)."""
    dgm_batch: int = 10
    """dgm: tasks (the first ones in task order) every new child is scored on."""
    dgm_full: int = 50
    """dgm: tasks (again the first ones) a child is scored on in all when its first batch reaches dgm_threshold."""
    dgm_threshold: float = 0.4
    """dgm: mean on the first batch from which a child is scored on dgm_full tasks."""
    workers: int = 1
    """Work run at once; the reference policy sizes its start-up by it."""

    def __post_init__(self) -> None:
        if self.alpha <= 0.0:
            raise ValueError(f"alpha must be positive, got {self.alpha}")
        if not 0.0 < self.epsilon < 1.0:
            raise ValueError(f"epsilon must be in (0, 1), got {self.epsilon}")
        for name in ("initial_evals", "initial_expansions", "dgm_batch", "dgm_full"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")
        if self.dgm_batch == 0:
            raise ValueError("dgm_batch must be >= 1")
        if self.dgm_full < self.dgm_batch:
            raise ValueError(f"dgm_full ({self.dgm_full}) must be >= dgm_batch ({self.dgm_batch})")
        if not 0.0 <= self.dgm_threshold <= 1.0:
            raise ValueError(f"dgm_threshold must be in [0, 1], got {self.dgm_threshold}")
        if self.best_rule not in BEST_RULES:
            raise ValueError(f"best_rule must be one of {', '.join(BEST_RULES)}, got {self.best_rule!r}")
        if self.workers < 1:
            raise ValueError(f"workers must be >= 1, got {self.workers}")


@dataclass(frozen=True)
class Decision:
    """One unit of work to schedule: expand `node`, or evaluate `node` on `task`."""

    kind: Literal["expand", "evaluate"]
    node: int
    task: str | None = None


class Policy(Protocol):
    """Decides the next unit of work from the tree, charges evaluations to the budget and names the final agent."""

    name: str

    def decide(self, tree: Tree, budget: int, rng: np.random.Generator) -> Decision | None: ...

    def charged(self, tree: Tree) -> int:
        """Evaluations (finished or running) paid from the evaluation budget."""
        ...

    def best(self, tree: Tree) -> int | None:
        """The node the policy names as its result, or None before any evaluation."""
        ...


def started_evals(tree: Tree) -> int:
    """Evaluations finished or running."""
    return tree.n_evals + tree.n_evals_in_flight


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
    from scipy.special import betainccinv  # only sampling needs scipy; views that name the best node do not

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
    from scipy.special import betaln

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
    What N and |T| count, and whether the root's start-up is paid from the budget, are switches of SearchParams.
    """

    def __init__(self, name: str, params: SearchParams, parent_rule: ParentRule) -> None:
        self.name = name
        self.params = params
        self._parent_rule = parent_rule

    def charged(self, tree: Tree) -> int:
        """Evaluations paid from the budget: all started ones, less the root's start-up when that is free."""
        return started_evals(tree) - self._free_root(int(tree.reserved[0]) if tree.n_nodes else 0)

    def best(self, tree: Tree) -> int | None:
        """The final pick by the configured rule."""
        return pick_best(tree, self.params)

    def decide(self, tree: Tree, budget: int, rng: np.random.Generator) -> Decision | None:
        """The next unit of work, or None when nothing may be scheduled now."""
        if tree.n_nodes == 0:
            return None
        used = self.charged(tree)
        if used >= budget:
            return None
        p = self.params
        if tree.reserved[0] < min(p.initial_evals, tree.n_tasks):
            return _evaluate(tree, 0, rng)
        if tree.n_children[0] + tree.expanding[0] < p.initial_expansions:
            return Decision("expand", 0)
        t = tau(budget, used, p.cooling)
        want_expand = expansion_due(tree, p)
        if want_expand and (d := self._expand(tree, t, rng)) is not None:
            return d
        if (d := _thompson_evaluate(tree, t, rng)) is not None:
            return d
        return None if want_expand else self._expand(tree, t, rng)

    def _free_root(self, root_evals: int) -> int:
        return 0 if self.params.root_evals_in_budget else min(self.params.initial_evals, root_evals)

    def _expand(self, tree: Tree, t: float, rng: np.random.Generator) -> Decision | None:
        if not tree.parent_groups:
            return None
        return Decision("expand", self._parent_rule(tree, t, rng))


def expansion_due(tree: Tree, p: SearchParams) -> bool:
    """Whether N**alpha >= |T|, with N and |T| counted as the switches in `p` say."""
    if p.count_running_evals:
        n, root = started_evals(tree), int(tree.reserved[0])
    else:
        n, root = tree.n_evals, int(tree.own_s[0] + tree.own_f[0])
    if not p.root_evals_in_budget:
        n -= min(p.initial_evals, root)
    size = tree.n_nodes - 1
    if p.count_running_expansions:
        size += tree.n_expansions_in_flight
    if not p.count_failed:
        size -= tree.n_failed
    # The tolerance keeps exact cases such as 32**0.6 == 8 from being lost to rounding.
    return n**p.alpha + 1e-9 >= size


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


# ---- the published HGM selection, as a baseline ------------------------------------------------------------------


class ReferencePolicy:
    """The published HGM code's selection rule (metauto-ai/HGM, hgm.py and tree.py), reproduced as a baseline.

    - The root is evaluated on `initial_evals` tasks before the run, outside the budget and outside N, and then
      expanded min(5, floor(workers**alpha)) times; the loop starts once all of that has finished.
    - N counts evaluations from when they start; |T| counts finished, successful children plus running expansions
      (failed self-modifications are discarded); expand while N**alpha >= |T|; no cooling (tau = 1).
    - Each node keeps a logged result list. Building a candidate's clade list extends that list in place with the
      lists of all its descendants, on every expansion decision, so its record is inflated permanently; the
      logged lists drive both the expansion draw (candidates: logged mean > 0) and the evaluation draw.
    - The final pick is the non-root node with the highest logged mean.

    The inflation lives in this object, not in the tree: a resumed run starts it afresh.
    """

    name = "reference"

    def __init__(self, params: SearchParams) -> None:
        self.params = params
        self.root_evals = params.initial_evals
        self.initial_expansions = min(5, int(params.workers**params.alpha))
        self._extra_s = np.zeros(0)
        self._extra_n = np.zeros(0)
        self._depth = np.zeros(0, dtype=np.int64)
        self._parent = np.zeros(0, dtype=np.int64)

    def charged(self, tree: Tree) -> int:
        """Evaluations paid from the budget: all started ones except the root's pre-run evaluations."""
        if tree.n_nodes == 0:
            return 0
        return started_evals(tree) - min(self.root_evals, int(tree.reserved[0]))

    def logged(self, tree: Tree) -> tuple[np.ndarray, np.ndarray]:
        """Each node's logged (successes, length of its result list), inflation included."""
        self._sync(tree)
        n = tree.n_nodes
        return tree.own_s + self._extra_s[:n], tree.own_s + tree.own_f + self._extra_n[:n]

    def best(self, tree: Tree) -> int | None:
        """The non-root node with the highest logged mean (the root if no other node was evaluated)."""
        s, n = self.logged(tree)
        if not (n > 0).any():
            return None
        nodes = np.flatnonzero(n[1:] > 0) + 1
        if nodes.size == 0:
            return 0
        means = s[nodes] / n[nodes]
        return int(nodes[np.argmax(means)])

    def decide(self, tree: Tree, budget: int, rng: np.random.Generator) -> Decision | None:
        """The next unit of work, or None when nothing may be scheduled now (including: wait for the start-up)."""
        if tree.n_nodes == 0:
            return None
        root_target = min(self.root_evals, tree.n_tasks)
        if tree.reserved[0] < root_target:
            return _evaluate(tree, 0, rng)
        if tree.own_s[0] + tree.own_f[0] < root_target:
            return None
        attempts = tree.n_children[0] + tree.expanding[0]
        if attempts < self.initial_expansions:
            return Decision("expand", 0)
        if attempts <= self.initial_expansions and tree.expanding[0]:
            return None
        n = self.charged(tree)
        if n >= budget:
            return None
        size = tree.n_nodes - 1 - tree.n_failed + tree.n_expansions_in_flight
        if n**self.params.alpha >= size and (d := self._expand(tree, rng)) is not None:
            return d
        return self._evaluate(tree, rng)

    def _expand(self, tree: Tree, rng: np.random.Generator) -> Decision | None:
        s, n = self.logged(tree)
        candidates = np.flatnonzero((n > 0) & (s > 0) & ~tree.failed)
        if candidates.size == 0:
            return None
        self._inflate(tree, candidates, s, n)
        s, n = self.logged(tree)
        return Decision("expand", _plain_pick(candidates, s, n - s, 1.0, rng))

    def _evaluate(self, tree: Tree, rng: np.random.Generator) -> Decision | None:
        open_nodes = np.flatnonzero((tree.reserved < tree.n_tasks) & ~tree.failed)
        if open_nodes.size == 0:
            return None
        s, n = self.logged(tree)
        return _evaluate(tree, _plain_pick(open_nodes, s, n - s, 1.0, rng), rng)

    def _inflate(self, tree: Tree, candidates: np.ndarray, s: np.ndarray, n: np.ndarray) -> None:
        # Candidates are visited in id order and descendants have larger ids, so every candidate is extended by its
        # descendants' lists as they stood before this decision.
        sub_s, sub_n = s.astype(float), n.astype(float)
        parent, depth = self._parent[: tree.n_nodes], self._depth[: tree.n_nodes]
        for d in range(int(depth.max()) if depth.size else 0, 0, -1):
            level = np.flatnonzero(depth == d)
            np.add.at(sub_s, parent[level], sub_s[level])
            np.add.at(sub_n, parent[level], sub_n[level])
        self._extra_s[candidates] += sub_s[candidates] - s[candidates]
        self._extra_n[candidates] += sub_n[candidates] - n[candidates]

    def _sync(self, tree: Tree) -> None:
        old = self._extra_s.size
        if old >= tree.n_nodes:
            return
        grow = tree.n_nodes - old
        self._extra_s = np.concatenate([self._extra_s, np.zeros(grow)])
        self._extra_n = np.concatenate([self._extra_n, np.zeros(grow)])
        depth = np.concatenate([self._depth, np.zeros(grow, dtype=np.int64)])
        parent = np.concatenate([self._parent, np.zeros(grow, dtype=np.int64)])
        for i in range(old, tree.n_nodes):
            p = tree.parent(i)
            parent[i] = 0 if p is None else p
            depth[i] = 0 if p is None else depth[p] + 1
        self._depth, self._parent = depth, parent


# ---- the dgm baseline -------------------------------------------------------------------------------------------


class DGMPolicy:
    """Darwin Goedel Machine baseline: an archive of scored agents, a parent drawn with probability proportional to
    sigmoid(10 (own mean - 0.5)) / (1 + children incl. in-flight ones), and staged evaluation.

    Staged evaluation (as DGM's SWE-bench runs do with 10 and 50 tasks and a 0.4 threshold): every new child is
    scored on the first `dgm_batch` tasks; a child whose mean there reaches `dgm_threshold` is then scored on the
    first `dgm_full` tasks. Pending evaluations come first (oldest node first, tasks in order), so each child is
    scored before the next expansion; only children whose first batch has finished join the archive of parents.
    Failed self-modifications never join it. The final pick is the highest own mean (ties: more evaluations).
    """

    name = "dgm"

    def __init__(self, params: SearchParams) -> None:
        self.params = params

    def charged(self, tree: Tree) -> int:
        """Every evaluation, the root's included, is paid from the budget."""
        return started_evals(tree)

    def best(self, tree: Tree) -> int | None:
        """The node with the highest own mean; ties go to the one with more evaluations, then the lowest id."""
        return best_mean(tree)

    def decide(self, tree: Tree, budget: int, rng: np.random.Generator) -> Decision | None:
        """The next unit of work, or None when nothing may be scheduled now."""
        if started_evals(tree) >= budget or tree.n_nodes == 0:
            return None
        p = self.params
        batch = min(p.dgm_batch, tree.n_tasks)
        pending = np.flatnonzero((tree.reserved < batch) & ~tree.failed)
        if pending.size:
            return _next_fixed_task(tree, int(pending[0]), batch)
        full = min(p.dgm_full, tree.n_tasks)
        s, f = tree.own_s, tree.own_f
        scored = (s + f >= batch) & ~tree.failed
        # A node still at its first batch has exactly those results; one past it has already passed the threshold.
        passed = (tree.reserved > batch) | (s >= p.dgm_threshold * (s + f))
        more = np.flatnonzero(scored & passed & (tree.reserved < full))
        if more.size:
            return _next_fixed_task(tree, int(more[0]), full)
        candidates = np.flatnonzero(scored)
        if candidates.size == 0:
            return None
        cumulative = np.cumsum(dgm_weights(tree, candidates))
        pick = min(int(np.searchsorted(cumulative, rng.random(), side="right")), candidates.size - 1)
        return Decision("expand", int(candidates[pick]))


def _next_fixed_task(tree: Tree, node: int, upto: int) -> Decision:
    fixed = set(tree.tasks[:upto])
    return Decision("evaluate", node, next(t for t in tree.tasks_left(node) if t in fixed))


def dgm_weights(tree: Tree, candidates: np.ndarray) -> np.ndarray:
    """DGM's parent probabilities over `candidates` (evaluated, non-failed nodes)."""
    s, f = tree.own_s[candidates], tree.own_f[candidates]
    score = 1.0 / (1.0 + np.exp(-10.0 * (s / (s + f) - 0.5)))
    w = score / (1.0 + tree.n_children[candidates] + tree.expanding[candidates])
    return w / w.sum()


# ---- registry and final pick ------------------------------------------------------------------------------------

POLICIES = ("hgm", "reference", "dgm", "greedy", "random")
_PARENT_RULES: dict[str, ParentRule] = {"hgm": _hgm_parent, "greedy": _greedy_parent, "random": _random_parent}


class BenchPolicy:
    """No search: evaluate the root on every task in order, never expand (used by `hgm bench`)."""

    name = "bench"
    done_reason = "every task was tried"

    def charged(self, tree: Tree) -> int:
        """Every evaluation is paid from the budget."""
        return started_evals(tree)

    def best(self, tree: Tree) -> int | None:
        """The root, once evaluated."""
        return 0 if tree.n_nodes and tree.own_s[0] + tree.own_f[0] else None

    def decide(self, tree: Tree, budget: int, rng: np.random.Generator) -> Decision | None:
        left = tree.tasks_left(0)
        if not left or tree.n_evals + tree.n_evals_in_flight >= budget:
            return None
        return Decision("evaluate", 0, left[0])


def make_policy(name: str, params: SearchParams) -> Policy:
    """The policy called `name` (one of POLICIES, or "bench")."""
    if name == "dgm":
        return DGMPolicy(params)
    if name == "reference":
        return ReferencePolicy(params)
    if name == "bench":
        return BenchPolicy()
    if name in _PARENT_RULES:
        return AlphaPolicy(name, params, _PARENT_RULES[name])
    raise ValueError(f"unknown policy {name!r}; valid policies: {', '.join(POLICIES)}")


def pick_best(tree: Tree, params: SearchParams) -> int | None:
    """The final agent under `params.best_rule`."""
    return best_belief(tree, params.epsilon) if params.best_rule == "quantile" else best_mean(tree)


def best_mean(tree: Tree) -> int | None:
    """The evaluated node with the highest own mean; ties go to more evaluations, then the lowest id."""
    return best_mean_of(tree.own_s, tree.own_f)


def best_belief(tree: Tree, epsilon: float) -> int | None:
    """The evaluated node whose Beta(1 + s, 1 + f) posterior has the highest lower epsilon-quantile (ties: first id)."""
    return best_belief_of(tree.own_s, tree.own_f, epsilon)
