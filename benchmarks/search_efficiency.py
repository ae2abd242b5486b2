"""Search efficiency of the policies on the simulated landscapes, and the cost of one decision.

Prints markdown tables: the mean true q of the best-belief agent (with its standard error over seeds) for every
policy, landscape and budget; the best true q present anywhere in the tree (what the search found, whether or not it
was picked); and microseconds per `decide` / `best_belief` call on trees of 1,000 and 10,000 nodes.

    python benchmarks/search_efficiency.py [--seeds 20] [--budgets 100,300,1000] [--jobs 2] [--decision-cost-only]
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from functools import partial

import numpy as np

from hgm.policy import POLICIES, SearchParams, best_belief, make_policy
from hgm.tree import Tree
from hgm.worlds.sim import LANDSCAPES, simulate, task_ids

Run = tuple[str, str, int, int]


def one_run(run: Run) -> tuple[float, float, int]:
    """(best-belief true q, best true q in the tree, nodes) of one simulated search."""
    landscape, policy, budget, seed = run
    result = simulate(landscape, policy, budget, seed)
    found = max(q for q in result.true_q if q is not None)
    return result.best_q if result.best_q is not None else float("nan"), found, result.n_nodes


def mean_se(values: list[float], digits: int = 3) -> str:
    a = np.asarray(values, dtype=float)
    return f"{a.mean():.{digits}f} ± {a.std(ddof=1) / np.sqrt(a.size):.{digits}f}"


def quality_tables(seeds: int, budgets: list[int], jobs: int) -> None:
    runs = [(lnd, pol, b, s) for lnd in LANDSCAPES for b in budgets for pol in POLICIES for s in range(seeds)]
    t0 = time.perf_counter()
    with ProcessPoolExecutor(jobs) as pool:
        results = dict(zip(runs, pool.map(one_run, runs, chunksize=8), strict=True))
    elapsed = time.perf_counter() - t0
    header = "| landscape | budget | " + " | ".join(POLICIES) + " |"
    rule = "|---|---:|" + "---:|" * len(POLICIES)
    titles = ("True q of the best-belief agent", "Best true q anywhere in the tree", "Nodes created")
    for column, title in enumerate(titles):
        digits = 1 if column == 2 else 3
        print(f"\n### {title} (mean ± standard error over {seeds} seeds)\n")
        print(header)
        print(rule)
        for lnd in LANDSCAPES:
            for b in budgets:
                cells = [mean_se([results[(lnd, pol, b, s)][column] for s in range(seeds)], digits) for pol in POLICIES]
                print(f"| {lnd} | {b} | " + " | ".join(cells) + " |")
    print(f"\n{len(runs)} simulated searches in {elapsed:.1f} s with {jobs} processes")


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


def decision_cost_table() -> None:
    print("\n### Decision cost (µs per call; best of 5 x 50 calls)\n")
    print("| nodes | call | evaluate branch | expand branch |")
    print("|---:|---|---:|---:|")
    for n in (1_000, 10_000):
        cost_rows(n)
    print("\nThompson draws are made once per group of nodes with equal counts:\n")
    print("| nodes | open nodes | own-count groups | expansion candidates | clade-count groups |")
    print("|---:|---:|---:|---:|---:|")
    for n in (1_000, 10_000):
        tree = synthetic_tree(n)
        own, clade = tree.eval_groups.as_dict(), tree.parent_groups.as_dict()
        print(f"| {n} | {len(tree.eval_groups)} | {len(own)} | {len(tree.parent_groups)} | {len(clade)} |")


def cost_rows(n: int) -> None:
    tree = synthetic_tree(n)
    budget = 10 * tree.n_evals  # tau near 1; plenty left
    for name in POLICIES:
        timings = []
        for alpha, kind in ((0.6, "evaluate"), (1.0, "expand")):
            policy = make_policy(name, SearchParams(alpha=alpha, dgm_batch=1))
            rng = np.random.default_rng(0)
            d = policy.decide(tree, budget, rng)
            assert d is not None and (d.kind == kind or name == "dgm"), (name, d)
            timings.append(per_call_us(partial(policy.decide, tree, budget, rng)))
        if name == "dgm":  # every node holds its batch here, so dgm expands either way
            print(f"| {n} | decide dgm | – | {timings[1]:.0f} |")
        else:
            print(f"| {n} | decide {name} | {timings[0]:.0f} | {timings[1]:.0f} |")
    warm = per_call_us(partial(best_belief, tree, 0.01))
    fresh = iter(np.linspace(0.001, 0.002, 10) + n * 1e-9)  # a new epsilon misses the quantile cache
    cold = per_call_us(lambda: best_belief(tree, float(next(fresh))), repeat=10, number=1)
    print(f"| {n} | best_belief, quantiles cached | {warm:.0f} | |")
    print(f"| {n} | best_belief, quantiles computed | {cold:.0f} | |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=20, help="seeds per policy, landscape and budget")
    parser.add_argument("--budgets", default="100,300,1000", help="comma-separated evaluation budgets")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="worker processes")
    parser.add_argument("--decision-cost-only", action="store_true", help="skip the simulated searches")
    args = parser.parse_args()
    budgets = [int(b) for b in args.budgets.split(",")]
    if not args.decision_cost_only:
        quality_tables(args.seeds, budgets, args.jobs)
    decision_cost_table()


if __name__ == "__main__":
    main()
