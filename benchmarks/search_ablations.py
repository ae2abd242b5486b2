"""Ablations of hgm's search switches on the simulated landscapes: each variant against hgm's defaults, paired.

A variant changes one or more SearchParams fields. For every landscape and budget the table gives the paired
difference (variant - defaults, mean ± standard error over seeds) of the true q of the final pick, and in
brackets of the best true q anywhere in the tree. Searches run asynchronously with `--workers` jobs at once, as in
search_efficiency.py.

    python benchmarks/search_ablations.py [--seeds 40] [--budgets 100,300,600,1000] [--workers 8] [--jobs 2]
"""

from __future__ import annotations

import time
from concurrent.futures import ProcessPoolExecutor

from search_efficiency import Run, paired, run_all, search_parser

from hgm.policy import SearchParams, best_belief, best_mean
from hgm.worlds.sim import LANDSCAPES, simulate

VARIANTS: dict[str, dict[str, object]] = {
    "N counts running evaluations": {"count_running_evals": True},
    "tree size without running expansions": {"count_running_expansions": False},
    "root start-up free (outside budget and N)": {"root_evals_in_budget": False},
    "5 initial root expansions": {"initial_expansions": 5},
    "5 initial root expansions, N counts running evaluations": {"initial_expansions": 5, "count_running_evals": True},
    "with cooling": {"cooling": True},
    "failed children in the tree size": {"count_failed": True},
}


def main() -> None:
    parser = search_parser(__doc__, "variant")
    parser.add_argument("--only", default="", help="comma-separated variant numbers (1-based) to run")
    args = parser.parse_args()
    budgets = [int(b) for b in args.budgets.split(",")]
    chosen = list(VARIANTS.items())
    if args.only:
        chosen = [chosen[int(i) - 1] for i in args.only.split(",")]
    base = SearchParams()
    print(f"defaults: {base}")

    def run(lnd: str, b: int, s: int, overrides: dict[str, object]) -> Run:
        return (lnd, "hgm", b, s, args.workers, tuple(sorted(overrides.items())))

    variants = [{}, *(v for _, v in chosen)]
    runs = [run(lnd, b, s, o) for o in variants for lnd in LANDSCAPES for b in budgets for s in range(args.seeds)]
    t0 = time.perf_counter()
    out = run_all(runs, args.jobs)
    print(f"\n### Variant − defaults: pick [found], paired over {args.seeds} seeds (▲/▼: beyond one se)\n")
    print("| variant | landscape | " + " | ".join(str(b) for b in budgets) + " |")
    print("|---|---|" + "---:|" * len(budgets))
    for name, overrides in chosen:
        for lnd in LANDSCAPES:
            cells = []
            for b in budgets:
                v = [out[run(lnd, b, s, overrides)] for s in range(args.seeds)]
                d = [out[run(lnd, b, s, {})] for s in range(args.seeds)]
                pick = paired([x[0] for x in v], [x[0] for x in d])
                found = paired([x[1] for x in v], [x[1] for x in d])
                cells.append(f"{pick} [{found}]")
            print(f"| {name} | {lnd} | " + " | ".join(cells) + " |")
    print(f"\n{len(set(runs))} simulated searches in {time.perf_counter() - t0:.0f} s with {args.jobs} processes")
    pick_sweep(args.seeds, budgets, args.workers, args.jobs)


EPSILONS = (0.01, 0.05, 0.1, 0.2, 0.3, 0.5)


def picks(run: tuple[str, int, int, int]) -> list[float]:
    """True q of the pick at each epsilon, then of the highest own mean, on one search with hgm's defaults."""
    landscape, budget, seed, workers = run
    r = simulate(landscape, "hgm", budget, seed, workers=workers)
    nodes = [best_belief(r.tree, e) for e in EPSILONS] + [best_mean(r.tree)]
    return [float(r.true_q[n] or 0.0) for n in nodes if n is not None]


def pick_sweep(seeds: int, budgets: list[int], workers: int, jobs: int) -> None:
    """The final pick only (the search is the same): each epsilon and the own mean against hgm's epsilon."""
    runs = [(lnd, b, s, workers) for lnd in LANDSCAPES for b in budgets for s in range(seeds)]
    with ProcessPoolExecutor(jobs) as pool:
        out = dict(zip(runs, pool.map(picks, runs, chunksize=8), strict=True))
    base = EPSILONS.index(SearchParams().epsilon)
    names = [f"epsilon {e}" for e in EPSILONS] + ["own mean"]
    print(f"\n### Final pick only: rule − epsilon {EPSILONS[base]} (the default), same trees, {seeds} seeds\n")
    print("| landscape | budget | " + " | ".join(n for i, n in enumerate(names) if i != base) + " |")
    print("|---|---:|" + "---:|" * (len(names) - 1))
    for lnd in LANDSCAPES:
        for b in budgets:
            q = [out[(lnd, b, s, workers)] for s in range(seeds)]
            cells = [paired([x[i] for x in q], [x[base] for x in q]) for i in range(len(names)) if i != base]
            print(f"| {lnd} | {b} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
