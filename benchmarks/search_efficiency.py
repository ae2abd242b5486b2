"""Search efficiency of hgm against the published HGM policy (`reference`) and DGM on the simulated landscapes.

Every search runs asynchronously with `--workers` jobs at once (the published HGM ran 20; an evaluation takes
mean time 1, a self-modification mean time 2). For each landscape and budget it reports, over the same seeds
(paired: the same seed gives every policy the same world), the true q of each policy's own final pick (selection
quality) and the best true q anywhere in its tree (search quality), then paired differences (mean ± standard
error over seeds): hgm - reference, hgm - dgm, and hgm at 60% of the budget - dgm at the whole budget. Last, the
cost of one decision on trees of 1,000 and 10,000 nodes.

    python benchmarks/search_efficiency.py [--seeds 40] [--budgets 100,300,600,1000] [--workers 8] [--jobs 2]
    python benchmarks/search_efficiency.py --decision-cost-only
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict
from functools import partial

import numpy as np

from hgm.policy import SearchParams, best_belief, make_policy
from hgm.tree import Tree
from hgm.worlds.sim import LANDSCAPES, simulate, task_ids

Run = tuple[str, str, int, int, int, tuple[tuple[str, object], ...]]
"""(landscape, policy, budget, seed, workers, SearchParams overrides)."""
Outcome = tuple[float, float, int]
"""(true q of the policy's pick, best true q anywhere in the tree, nodes created)."""


def one_run(run: Run) -> Outcome:
    """Pick quality, search quality and size of one simulated search."""
    landscape, policy, budget, seed, workers, overrides = run
    params = SearchParams(**{**asdict(SearchParams()), **dict(overrides)})
    result = simulate(landscape, policy, budget, seed, params, workers=workers)
    found = max(q for q in result.true_q if q is not None)
    return result.best_q if result.best_q is not None else float("nan"), found, result.n_nodes


def run_all(runs: Iterable[Run], jobs: int) -> dict[Run, Outcome]:
    """Outcomes of all runs, over `jobs` processes (chunked, since one search takes milliseconds)."""
    runs = list(dict.fromkeys(runs))
    if jobs <= 1:
        return {r: one_run(r) for r in runs}
    with ProcessPoolExecutor(jobs) as pool:
        return dict(zip(runs, pool.map(one_run, runs, chunksize=16), strict=True))


def mean_se(values: Iterable[float], digits: int = 3, signed: bool = False) -> str:
    """'mean ± standard error' of the values."""
    a = np.asarray(list(values), dtype=float)
    sign = "+" if signed else ""
    return f"{a.mean():{sign}.{digits}f} ± {a.std(ddof=1) / np.sqrt(a.size):.{digits}f}"


def paired(a: list[float], b: list[float]) -> str:
    """Mean ± standard error of the per-seed differences a - b, with a mark where a wins or loses by > 1 se."""
    d = np.asarray(a) - np.asarray(b)
    se = d.std(ddof=1) / np.sqrt(d.size)
    mark = " ▲" if d.mean() > se else " ▼" if d.mean() < -se else ""
    return f"{d.mean():+.3f} ± {se:.3f}{mark}"


def quality_tables(seeds: int, budgets: list[int], workers: int, jobs: int) -> None:
    """The absolute table, the paired differences and the 60%-budget comparison."""
    sixty = {b: round(0.6 * b) for b in sorted({*budgets, 500})}
    runs: list[Run] = []
    for lnd in LANDSCAPES:
        for s in range(seeds):
            runs += [(lnd, pol, b, s, workers, ()) for b in budgets for pol in ("hgm", "reference", "dgm")]
            runs += [(lnd, "dgm", b, s, workers, ()) for b in sixty]
            runs += [(lnd, "hgm", b6, s, workers, ()) for b6 in sixty.values()]
    t0 = time.perf_counter()
    out = run_all(runs, jobs)
    elapsed = time.perf_counter() - t0

    def col(lnd: str, pol: str, b: int, column: int) -> list[float]:
        return [out[(lnd, pol, b, s, workers, ())][column] for s in range(seeds)]

    print(f"\n### True q of each policy's pick, and (found) the best true q anywhere in its tree ({seeds} seeds)\n")
    print("| landscape | budget | hgm pick | reference pick | dgm pick | hgm found | reference found | dgm found |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for lnd in LANDSCAPES:
        for b in budgets:
            cells = [mean_se(col(lnd, p, b, c)) for c in (0, 1) for p in ("hgm", "reference", "dgm")]
            print(f"| {lnd} | {b} | " + " | ".join(cells) + " |")
    print(f"\n### Paired differences, mean ± standard error over {seeds} seeds (▲/▼: more than one se above/below 0)\n")
    print(
        "| landscape | budget | hgm − reference (pick) | hgm − reference (found) "
        "| hgm − dgm (pick) | hgm − dgm (found) |"
    )
    print("|---|---:|---:|---:|---:|---:|")
    for lnd in LANDSCAPES:
        for b in budgets:
            cells = [paired(col(lnd, "hgm", b, c), col(lnd, o, b, c)) for o in ("reference", "dgm") for c in (0, 1)]
            print(f"| {lnd} | {b} | {cells[0]} | {cells[1]} | {cells[2]} | {cells[3]} |")
    print("\n### hgm at 60% of the budget − dgm at the whole budget (pick), paired\n")
    print("| landscape | " + " | ".join(f"hgm@{b6} − dgm@{b}" for b, b6 in sixty.items()) + " |")
    print("|---|" + "---:|" * len(sixty))
    for lnd in LANDSCAPES:
        cells = [paired(col(lnd, "hgm", b6, 0), col(lnd, "dgm", b, 0)) for b, b6 in sixty.items()]
        print(f"| {lnd} | " + " | ".join(cells) + " |")
    print(f"\n{len(set(runs))} simulated searches ({workers} workers each) in {elapsed:.0f} s with {jobs} processes")


def synthetic_tree(n_nodes: int, seed: int = 0, n_tasks: int = 200) -> Tree:
    """A random recursive tree; every node evaluated on 1-20 tasks with its own success rate."""
    rng = np.random.default_rng(seed)
    tasks = task_ids(n_tasks)
    tree = Tree(tasks)
    tree.add_node(0, None)
    for i in range(1, n_nodes):
        tree.add_node(i, int(rng.integers(i)))
    for i in range(n_nodes):
        q = rng.random()
        for j in rng.choice(n_tasks, 20 if i == 0 else int(rng.integers(1, 21)), replace=False):
            tree.finish_eval(i, tasks[j], bool(rng.random() < q))
    return tree


def per_call_us(fn: Callable[[], object], repeat: int = 5, number: int = 50) -> float:
    """Best-of-`repeat` mean microseconds per call (the minimum filters out other load on the machine)."""
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        best = min(best, (time.perf_counter() - t0) / number)
    return best * 1e6


def _fresh_best(tree: Tree, epsilons: Iterator[float]) -> int | None:
    return best_belief(tree, float(next(epsilons)))


def decision_cost_table() -> None:
    """Microseconds per decide / best call of hgm and dgm on synthetic trees."""
    print("\n### Decision cost (µs per call; best of 5 x 50 calls)\n")
    print("| nodes | hgm decide (evaluate / expand) | dgm decide | best_belief (quantiles cached / computed) |")
    print("|---:|---:|---:|---:|")
    for n in (1_000, 10_000):
        tree = synthetic_tree(n)
        budget = 10 * tree.n_evals  # tau near 1; plenty left
        hgm = []
        for alpha, kind in ((0.6, "evaluate"), (1.0, "expand")):
            policy = make_policy("hgm", SearchParams(alpha=alpha))
            rng = np.random.default_rng(0)
            d = policy.decide(tree, budget, rng)
            assert d is not None and d.kind == kind, d
            hgm.append(per_call_us(partial(policy.decide, tree, budget, rng)))
        dgm = make_policy("dgm", SearchParams(dgm_batch=1, dgm_full=1))
        dgm_us = per_call_us(partial(dgm.decide, tree, budget, np.random.default_rng(0)))
        warm = per_call_us(partial(best_belief, tree, 0.01))
        fresh = iter(np.linspace(0.001, 0.002, 10) + n * 1e-9)  # a new epsilon misses the quantile cache
        cold = per_call_us(partial(_fresh_best, tree, fresh), repeat=10, number=1)
        print(f"| {n:,} | {hgm[0]:.0f} / {hgm[1]:.0f} | {dgm_us:.0f} | {warm:.0f} / {cold:,.0f} |")


def search_parser(description: str | None, per: str) -> argparse.ArgumentParser:
    """The options both search benchmarks take: seeds (`per` what), budgets, jobs per search and processes."""
    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=40, help=f"seeds per {per}, landscape and budget")
    parser.add_argument("--budgets", default="100,300,600,1000", help="comma-separated evaluation budgets")
    parser.add_argument("--workers", type=int, default=8, help="jobs each simulated search runs at once")
    parser.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1), help="worker processes")
    return parser


def main() -> None:
    parser = search_parser(__doc__, "policy")
    parser.add_argument("--decision-cost-only", action="store_true", help="skip the simulated searches")
    args = parser.parse_args()
    t0 = time.perf_counter()
    if not args.decision_cost_only:
        quality_tables(args.seeds, [int(b) for b in args.budgets.split(",")], args.workers, args.jobs)
    decision_cost_table()
    print(f"\ntotal {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
