"""`hgm bench`: one agent, one benchmark, no search; per-task results and a summary."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.table import Table

from hgm.archive import Archive, ArchiveError, is_run_dir
from hgm.config import RunConfig


def resolve_agent(spec: str) -> tuple[str | None, Callable[[], None]]:
    """A directory holding the agent to measure (None: the seed), and a cleanup for any temporary copy."""
    if spec == "seed":
        return None, lambda: None
    run, sep, node = spec.rpartition(":")
    if sep and node.isdigit() and is_run_dir(Path(run)):
        with Archive(Path(run)) as archive:
            row = archive.node(int(node))
            if row is None or row.commit_sha is None:
                raise ArchiveError(f"{run} has no node {node} with source; `hgm tree {run}` lists them")
            tmp = Path(tempfile.mkdtemp(prefix="hgm-bench-agent-"))
            archive.checkout(row.commit_sha, tmp)
        return str(tmp), lambda: shutil.rmtree(tmp, ignore_errors=True)
    if not Path(spec).is_dir():
        raise ValueError(f"agent {spec!r} is neither 'seed', a directory, nor RUN_DIR:NODE")
    return spec, lambda: None


def unavailable_tasks(config: RunConfig) -> dict[str, str]:
    from hgm.coding.benchmarks import task_available
    from hgm.coding.world import _check_tasks, make_benchmark

    benchmark = make_benchmark(config.coding)
    return {t: why for t in _check_tasks(config.coding, benchmark.tasks()) if (why := task_available(benchmark, t))}


def results(archive: Archive, agent: str, benchmark: str, unavailable: dict[str, str]) -> dict[str, Any]:
    rows = []
    for work in archive.work(kind="evaluate"):
        if work.status not in ("done", "error"):
            continue
        rows.append({"task": work.task, "resolved": bool(work.success), "error": work.error or "", "cost": work.cost})
    rows += [
        {"task": t, "resolved": False, "error": f"unavailable: {why}", "cost": 0.0} for t, why in unavailable.items()
    ]
    rows.sort(key=lambda r: str(r["task"]))
    evaluated = [r for r in rows if not r["error"]]
    solved = sum(1 for r in evaluated if r["resolved"])
    return {
        "agent": agent,
        "benchmark": benchmark,
        "run_dir": str(archive.path),
        "tasks": rows,
        "solved": solved,
        "evaluated": len(evaluated),
        "rate": solved / len(evaluated) if evaluated else 0.0,
        "unavailable": unavailable,
        "cost": sum(r["cost"] for r in rows),
    }


def table(results: dict[str, Any]) -> Table:
    out = Table("task", "result", "cost", title=f"{results['agent']} on {results['benchmark']}")
    for row in results["tasks"]:
        if row["error"].startswith("unavailable"):
            verdict = f"[yellow]{row['error']}[/yellow]"
        elif row["error"]:
            verdict = f"[red]error[/red] {row['error'][:80]}"
        else:
            verdict = "[green]solved[/green]" if row["resolved"] else "failed"
        out.add_row(str(row["task"]), verdict, f"${row['cost']:.4f}")
    return out
