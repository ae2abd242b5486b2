"""Sandbox overhead per backend (start + exec `true` + teardown; a warm exec alone), and the whole pipeline's
overhead per task evaluation with a zero-latency scripted model (the agent submits at once); prints two tables.

Run: .venv/bin/python benchmarks/sandbox_overhead.py [--runs 20] [--evals 10]
"""

from __future__ import annotations

import argparse
import logging
import statistics
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

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
    args = parser.parse_args()
    logging.disable(logging.WARNING)
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
    Console(width=120).print(evaluation_table(args.evals))


def evaluation_table(evals: int) -> Table:
    """Seconds per task evaluation through engine, gateway, sandbox, agent and hidden tests, per backend."""
    import threading

    from hgm.archive import Archive
    from hgm.coding.world import CodingWorld
    from hgm.config import load_config
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
