"""Throughput of the executors: the simulated world with a fixed latency per job, on the local executor and on a
Ray cluster of 1 and 2 nodes started on this machine's loopback, at several worker counts; prints one table.

Each job (expansion or evaluation) takes `--latency` seconds, so `workers / latency` jobs per second is the ideal.
The rate counts the jobs finished between the first start and the last finish recorded in the archive, so Ray's
connection and the engine's set-up are left out; a warm-up run first starts Ray's worker processes.

Run: .venv/bin/python benchmarks/scaling.py [--latency 1] [--workers 8,16,32] [--rounds 8]
"""

from __future__ import annotations

import argparse
import logging
import shutil
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from hgm.archive import Archive
from hgm.config import RunConfig, load_config
from hgm.engine import Engine
from hgm.execution import Executor
from hgm.execution.localcluster import RayCluster, start_cluster
from hgm.execution.raycluster import RayExecutor
from hgm.worlds.sim import SimWorld


def _config(workers: int, latency: float, rounds: int, ray: RayCluster | None) -> RunConfig:
    overrides = [f"workers={workers}", f"sim.latency={latency}", f"budget.max_evals={workers * rounds}"]
    # Many expansions keep both kinds of work in the mix (alpha=1 expands whenever evaluations >= nodes).
    overrides += ["search.alpha=0.9", "seed=1"]
    if ray is not None:
        overrides += ["execution.executor=ray", f"execution.ray_address={ray.address}", "execution.cpus_per_job=1"]
    return load_config(overrides=overrides)


def run_once(root: Path, config: RunConfig, executor: Executor | None) -> tuple[float, int]:
    """Jobs per second and jobs done by one run."""
    run = Path(tempfile.mkdtemp(dir=root))
    archive = Archive.create(run / "run", config.model_dump(mode="json"))
    try:
        world = SimWorld(config.sim.landscape, config.seed, latency=config.sim.latency)
        Engine(archive, world, config, executor=executor).run()
        rows = [row for row in archive.work(status="done")]
        start = min(row.started for row in rows)
        end = max(row.finished or row.started for row in rows)
        return len(rows) / (end - start), len(rows)
    finally:
        archive.close()
        shutil.rmtree(run, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--latency", type=float, default=1.0, help="seconds each job takes")
    parser.add_argument("--workers", default="8,16,32", help="worker counts, comma-separated")
    parser.add_argument("--rounds", type=int, default=8, help="evaluations per worker in each run")
    parser.add_argument("--no-ray", action="store_true", help="only the local executor")
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    counts = [int(w) for w in args.workers.split(",")]
    most = max(counts)
    table = Table(title=f"jobs per second, sim world, {args.latency:g} s per job (ideal = workers / latency)")
    for column in ("executor", "nodes", "workers", "jobs", "jobs/s", "ideal", "of ideal"):
        table.add_column(column, justify="left" if column == "executor" else "right")
    with tempfile.TemporaryDirectory(prefix="hgm-scaling-") as tmp:
        root = Path(tmp)
        setups: list[tuple[str, int]] = [("local", 1)]
        if not args.no_ray:
            setups += [("ray", 1), ("ray", 2)]
        for executor, nodes in setups:
            cluster = None
            if executor == "ray":
                # Every node offers `most` CPUs (logical: the jobs only wait), so that Ray keeps that many workers.
                share = max(1, most // nodes)
                cluster = start_cluster([(share, {})] * (nodes - 1), (share, {}))
            connection = None
            try:
                if cluster is not None:
                    # One connection for all runs, as one long hgm run has: Ray's worker processes belong to the
                    # connected driver, and a warm-up run starts them (a run's first jobs wait for that once).
                    warm = _config(most, args.latency, 2, cluster)
                    connection = RayExecutor(warm.execution, SimWorld("mixed", 1, latency=args.latency))
                    run_once(root, warm, connection)
                for workers in counts:
                    rate, jobs = run_once(root, _config(workers, args.latency, args.rounds, cluster), connection)
                    ideal = workers / args.latency
                    cells = (str(nodes), str(workers), str(jobs), f"{rate:.1f}", f"{ideal:.0f}", f"{rate / ideal:.0%}")
                    table.add_row(executor, *cells)
                    print(executor, *cells, flush=True)
            finally:
                if connection is not None:
                    connection.close()
                if cluster is not None:
                    cluster.stop()
                    shutil.rmtree(cluster.root, ignore_errors=True)
    Console(width=120).print(table)
    print(f"measured {time.strftime('%Y-%m-%d %H:%M')} on {Path('/proc/cpuinfo').read_text().count('processor')} cores")


if __name__ == "__main__":
    main()
