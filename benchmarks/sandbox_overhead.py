"""Sandbox overhead per backend (start + exec `true` + teardown; a warm exec alone), the whole pipeline's
overhead per task evaluation with a zero-latency scripted model (the agent submits at once), and the command
line's start-up (`hgm --help`, `hgm tree` on an archive of 1,000 nodes); prints three tables.

Run: .venv/bin/python benchmarks/sandbox_overhead.py [--runs 20] [--evals 10] [--only cli]
"""

from __future__ import annotations

import argparse
import logging
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from hgm.archive import Archive
from hgm.config import load_config
from hgm.sandboxes import SandboxConfig, SandboxError, SandboxUnavailable, open_sandbox
from hgm.sandboxes.rootfs import rootfs_path

BACKENDS = {
    "docker": SandboxConfig(backend="docker"),
    "bwrap (rootfs)": SandboxConfig(backend="bwrap", rootfs=str(rootfs_path())),
    "bwrap (host)": SandboxConfig(backend="bwrap", rootfs="host"),
    "local": SandboxConfig(backend="local"),
}


def _ms(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p90 = ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))]
    return statistics.median(ordered) * 1000, p90 * 1000


def measure(config: SandboxConfig, workspace: Path, runs: int) -> tuple[list[float], list[float]]:
    """Seconds per full cycle (open, exec true, close) and per warm exec."""
    cycles, execs = [], []
    for _ in range(runs):
        start = time.perf_counter()
        with open_sandbox(config, workspace, label="bench") as box:
            result = box.exec("true", timeout=60)
        cycles.append(time.perf_counter() - start)
        assert result.returncode == 0, result.output
    with open_sandbox(config, workspace, label="bench") as box:
        for _ in range(runs):
            start = time.perf_counter()
            box.exec("true", timeout=60)
            execs.append(time.perf_counter() - start)
    return cycles, execs


def main() -> None:
    """Measure every backend that works here and print the table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=20, help="repetitions per backend")
    parser.add_argument("--evals", type=int, default=10, help="task evaluations per backend")
    parser.add_argument("--nodes", type=int, default=1000, help="nodes of the archive `hgm tree` shows")
    parser.add_argument("--only", choices=("sandbox", "evaluation", "cli"), help="print only this table")
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    if args.only in (None, "cli"):
        Console(width=120).print(cli_table(args.nodes, args.runs))
    if args.only == "evaluation":
        Console(width=120).print(evaluation_table(args.evals))
    if args.only not in (None, "sandbox"):
        return
    with tempfile.TemporaryDirectory() as tmp:
        workspace = Path(tmp)
        for i in range(20):
            (workspace / f"file{i}.py").write_text("print('hello')\n" * 50)
        table = Table(title=f"sandbox overhead in ms ({args.runs} runs; cycle = open + exec true + close)")
        for column in ("backend", "cycle median", "cycle p90", "exec median", "exec p90"):
            table.add_column(column, justify="left" if column == "backend" else "right")
        for name, config in BACKENDS.items():
            try:
                cycles, execs = measure(config, workspace, args.runs)
            except (SandboxUnavailable, SandboxError, FileNotFoundError) as exc:
                table.add_row(name, f"unavailable: {exc}", "", "", "")
                continue
            (c50, c90), (e50, e90) = _ms(cycles), _ms(execs)
            table.add_row(name, f"{c50:.1f}", f"{c90:.1f}", f"{e50:.1f}", f"{e90:.1f}")
        Console(width=120).print(table)
    if args.only is None:
        Console(width=120).print(evaluation_table(args.evals))


def synthetic_archive(path: Path, nodes: int, evals_per_node: int = 3) -> None:
    """A run directory of `nodes` nodes and a few evaluations each, written straight into the archive (no search)."""
    archive = Archive.create(path, load_config().model_dump(mode="json"))
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "agent.json").write_text("{}\n")
        sha = archive.commit_source(0, Path(tmp), None, "node 0")
    archive.add_root(sha, 0.3)
    rng = random.Random(0)
    k = 0
    for child in range(1, nodes):
        parent = rng.randrange(child)
        assert archive.start_work(k, "expand", parent) == child
        archive.finish_expansion(k, child, parent, sha, True, "", 0.0, rng.random())
        k += 1
    for node in range(nodes):
        for task in range(evals_per_node):
            archive.start_work(k, "evaluate", node, task=f"t{task:03d}")
            archive.finish_evaluation(k, rng.random() < 0.4, 0.0)
            k += 1
    archive.close()


def _seconds(argv: list[str], runs: int) -> tuple[list[float], list[float]]:
    """Wall-clock and CPU (user + system) seconds of each run; CPU time says more on a machine shared with others."""
    walls, cpus = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        walls.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return walls, cpus


def cli_table(nodes: int, runs: int) -> Table:
    """Wall-clock seconds from starting a `hgm` process to its exit, for commands that should feel instant."""
    hgm = str(Path(sys.executable).with_name("hgm"))
    table = Table(title=f"command-line start-up in ms ({runs} runs, whole process)")
    for column in ("command", "wall median", "wall p90", "cpu median"):
        table.add_column(column, justify="left" if column == "command" else "right")
    with tempfile.TemporaryDirectory() as tmp:
        run = Path(tmp) / "run"
        synthetic_archive(run, nodes)
        for name, argv in (
            ("python -c pass", [sys.executable, "-c", "pass"]),
            ("hgm --help", [hgm, "--help"]),
            (f"hgm tree ({nodes} nodes)", [hgm, "tree", str(run)]),
            (f"hgm tree --top 10 ({nodes} nodes)", [hgm, "tree", str(run), "--top", "10"]),
        ):
            walls, cpus = _seconds(argv, runs)
            (median, p90), (cpu, _) = _ms(walls), _ms(cpus)
            table.add_row(name, f"{median:.0f}", f"{p90:.0f}", f"{cpu:.0f}")
    return table


def evaluation_table(evals: int) -> Table:
    """Seconds per task evaluation through engine, gateway, sandbox, agent and hidden tests, per backend."""
    import threading

    from hgm.coding.world import CodingWorld
    from hgm.interfaces import NodeRef
    from hgm.models.scripted import Canned, register_script, tool_call

    register_script("instant", Canned([{"content": None, "tool_calls": [tool_call("submit", {"summary": "-"})]}]))
    table = Table(title=f"one task evaluation, zero-latency scripted model, in s ({evals} runs)")
    for column in ("backend", "median", "p90", "of which sandbox cycle"):
        table.add_column(column, justify="left" if column == "backend" else "right")
    for backend in ("docker", "bwrap"):
        with tempfile.TemporaryDirectory() as tmp:
            config = load_config(
                overrides=[
                    "world=coding",
                    "coding.model=scripted/instant",
                    f"coding.sandbox.backend={backend}",
                    "coding.tasks=[chunking]",
                ]
            )
            try:
                archive = Archive.create(Path(tmp) / "run", config.model_dump(mode="json"))
                world = CodingWorld(config, archive)
            except (SandboxUnavailable, SandboxError, ValueError) as exc:
                table.add_row(backend, f"unavailable: {exc}", "", "")
                continue
            source = Path(tmp) / "agent"
            world.write_seed(source)
            samples = []
            try:
                for _ in range(evals):
                    start = time.perf_counter()
                    world.evaluate(NodeRef(0, None, source), "chunking", threading.Event())
                    samples.append(time.perf_counter() - start)
                cycle, _ = measure(world.sandbox_config, source, 3)
            finally:
                world.close()
                archive.close()
            median, p90 = _ms(samples)
            table.add_row(backend, f"{median / 1000:.2f}", f"{p90 / 1000:.2f}", f"{statistics.median(cycle):.2f}")
    return table


if __name__ == "__main__":
    main()
