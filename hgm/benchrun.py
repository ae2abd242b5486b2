"""`hgm bench`: one agent, one benchmark, no search; per-task results and a summary."""

from __future__ import annotations

import shutil
import tempfile
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.table import Table
from rich.text import Text

from hgm.archive import Archive, ArchiveError, WorkRow, is_run_dir


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


def results(
    archive: Archive, agent: str, benchmark: str, tasks: list[str], unavailable: dict[str, str], stopped: str
) -> dict[str, Any]:
    """One row per selected task (its last attempt, with how many it took) and a summary."""
    tries: dict[str, list[WorkRow]] = defaultdict(list)
    for work in archive.work(kind="evaluate"):
        if work.status in ("done", "error") and work.task is not None:
            tries[work.task].append(work)
    timeout = float(archive.config().get("coding", {}).get("agent_timeout", 0))
    rows = [_row(archive, task, tries.get(task, []), timeout) for task in tasks]
    rows += [_unavailable_row(task, why) for task, why in unavailable.items()]
    rows.sort(key=lambda r: str(r["task"]))
    evaluated = [r for r in rows if r["outcome"] in ("solved", "failed", "timed out")]
    solved = sum(1 for r in evaluated if r["resolved"])
    return {
        "agent": agent,
        "benchmark": benchmark,
        "run_dir": str(archive.path),
        "stopped": stopped,
        "tasks": rows,
        "solved": solved,
        "evaluated": len(evaluated),
        "rate": solved / len(evaluated) if evaluated else 0.0,
        "errors": [f"{r['task']}: {r['error']}" for r in rows if r["outcome"] == "error"],
        "not_run": [r["task"] for r in rows if r["outcome"] == "not run"],
        "unavailable": unavailable,
        "cost": sum(r["cost"] for r in rows),
    }


def _row(archive: Archive, task: str, tries: list[WorkRow], timeout: float) -> dict[str, Any]:
    row: dict[str, Any] = {"task": task, "outcome": "not run", "resolved": False, "error": "", "detail": ""}
    row["attempts"] = len(tries)
    row["cost"] = sum(w.cost for w in tries)
    done = next((w for w in tries if w.status == "done"), None)
    if done is not None:
        row["resolved"] = bool(done.success)
        row["outcome"] = "solved" if done.success else "failed"
        if not done.success and _timed_out(archive, task):
            row["outcome"] = "timed out"
            row["detail"] = f"the agent timed out after {timeout:g}s (coding.agent_timeout)"
    elif tries:
        row["outcome"] = "error"
        row["error"] = tries[-1].error or "unknown infrastructure error"
        row["detail"] = f"gave up after {len(tries)} attempts" if len(tries) > 1 else ""
    return row


def _unavailable_row(task: str, why: str) -> dict[str, Any]:
    return {"task": task, "outcome": "unavailable", "resolved": False, "error": "", "detail": why, "attempts": 0}


def _timed_out(archive: Archive, task: str) -> bool:
    """Whether the agent's last attempt on `task` ran out of time (its output starts with the run's status line)."""
    outputs = sorted((archive.node_dir(0) / "evals" / task).glob("agent_output*.txt"))
    if not outputs:
        return False
    with outputs[-1].open(errors="replace") as f:
        return f.readline().startswith("[timed out]")


def summary_line(results: dict[str, Any], out: Path) -> str:
    """The last line `hgm bench` prints."""
    parts = [f"solved {results['solved']}/{results['evaluated']} ({results['rate']:.0%})"]
    for key, label in (("errors", "errors"), ("not_run", "not run"), ("unavailable", "unavailable")):
        if results[key]:
            parts.append(f"{len(results[key])} {label}")
    return f"{'; '.join(parts)}; details in {out}"


def table(results: dict[str, Any]) -> Table:
    out = Table("task", "result", "cost", title=f"{results['agent']} on {results['benchmark']}")
    styles = {"solved": "green", "error": "red", "unavailable": "yellow", "timed out": "yellow", "not run": "dim"}
    for row in results["tasks"]:
        outcome = row["outcome"]
        text = Text(outcome, style=styles.get(outcome, ""))
        why = row["error"] or row["detail"]
        if why:
            text.append(f" {why[:100]}")
        out.add_row(str(row["task"]), text, f"${row.get('cost', 0.0):.4f}")
    return out
