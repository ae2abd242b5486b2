"""Classic vs meta self-modification at the same budget: on the meta-aware simulated landscapes, and (optionally)
the mechanics of both modes on the coding world with the scripted model.

Simulated part: for each meta-aware landscape (`hgm/worlds/sim_meta.py`, which states the mechanism) and budget,
the mean true q of the HGM policy's best-belief agent in classic and in meta mode over the same seeds, the paired
difference (meta - classic) with its standard error, the improver edits a meta run made, and the mean improver
quality g of the agent meta mode picked.

Coding part (`--coding`): one short run per mode with the scripted model (`scripted/demo`, fixed rules, no
intelligence) on bubblewrap: nodes made and failed, nodes whose improver changed, children made by a changed
improver, and the model calls of self-modification. It shows what each mode does, not that either is better.

    python benchmarks/meta_mode.py [--seeds 20] [--budgets 100,300,1000] [--jobs 1] [--coding]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

from hgm.worlds.sim_meta import META_LANDSCAPES, simulate_meta

Run = tuple[str, str, int, int]


def one_run(run: Run) -> tuple[float, int, float]:
    """(best-belief true q, improver edits, best-belief g) of one simulated search."""
    landscape, mode, budget, seed = run
    result = simulate_meta(landscape, mode, "hgm", budget, seed)
    q = result.best_q if result.best_q is not None else float("nan")
    return q, result.improver_edits, result.best_g if result.best_g is not None else float("nan")


def mean_se(values: list[float] | np.ndarray, digits: int = 3, sign: bool = False) -> str:
    a = np.asarray(values, dtype=float)
    fmt = f"{'+' if sign else ''}.{digits}f"
    return f"{a.mean():{fmt}} ± {a.std(ddof=1) / np.sqrt(a.size):.{digits}f}"


def simulated(seeds: int, budgets: list[int], jobs: int) -> None:
    modes = ("classic", "meta")
    runs = [(lnd, mode, b, s) for lnd in META_LANDSCAPES for b in budgets for mode in modes for s in range(seeds)]
    started = time.time()
    if jobs > 1:
        with ProcessPoolExecutor(jobs) as pool:
            results = dict(zip(runs, pool.map(one_run, runs, chunksize=8), strict=True))
    else:
        results = {run: one_run(run) for run in runs}
    print(f"True q of the best-belief agent, HGM policy, {seeds} seeds ({time.time() - started:.0f} s)\n")
    print("| landscape | budget | classic | meta | meta - classic (paired) | improver edits (meta) | g of best |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for lnd in META_LANDSCAPES:
        for b in budgets:
            classic = np.array([results[(lnd, "classic", b, s)][0] for s in range(seeds)])
            meta = np.array([results[(lnd, "meta", b, s)][0] for s in range(seeds)])
            edits = [results[(lnd, "meta", b, s)][1] for s in range(seeds)]
            g = [results[(lnd, "meta", b, s)][2] for s in range(seeds)]
            print(
                f"| {lnd} | {b} | {mean_se(classic)} | {mean_se(meta)} | {mean_se(meta - classic, sign=True)} "
                f"| {np.mean(edits):.1f} | {np.mean(g):.2f} |"
            )


def coding(max_evals: int) -> None:
    print(f"\nCoding world, scripted model, bwrap, {max_evals} evaluations, 1 worker, seed 3\n")
    print("| mode | nodes | failed | improver changed | children of a changed improver | selfmod calls | minutes |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for mode in ("classic", "meta"):
        with tempfile.TemporaryDirectory(prefix="hgm-meta-bench-") as tmp:
            out = Path(tmp) / "run"
            started = time.time()
            args = [sys.executable, "-m", "hgm.cli", "run", "--world", "coding", "--sandbox", "bwrap", "-q"]
            args += ["--max-evals", str(max_evals), "--workers", "1", "--seed", "3", "--out", str(out)]
            args += ["--set", "coding.tasks=[chunking, roman_numerals, word_frequency]"]
            args += ["--set", f"selfmod.mode={mode}"]
            args += ["--set", "search.initial_evals=3", "--set", "search.initial_expansions=1"]
            subprocess.run(args, check=True, stdout=subprocess.DEVNULL)
            minutes = (time.time() - started) / 60
            tree = json.loads(subprocess.check_output([sys.executable, "-m", "hgm.cli", "tree", str(out), "--json"]))
            changed = {n["id"] for n in tree if n["improver_changed"]}
            children = sum(1 for n in tree if n["parent"] in changed)
            from hgm.archive import Archive

            with Archive(out) as archive:
                calls = sum(1 for c in archive.llm_calls() if c["purpose"] in ("selfmod", "diagnosis"))
            failed = sum(1 for n in tree if n["status"] == "failed")
            print(f"| {mode} | {len(tree)} | {failed} | {len(changed)} | {children} | {calls} | {minutes:.1f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--budgets", default="100,300,1000")
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--coding", action="store_true", help="also run both modes on the coding world")
    parser.add_argument("--coding-evals", type=int, default=12)
    args = parser.parse_args()
    simulated(args.seeds, [int(b) for b in args.budgets.split(",")], args.jobs)
    if args.coding:
        coding(args.coding_evals)


if __name__ == "__main__":
    main()
