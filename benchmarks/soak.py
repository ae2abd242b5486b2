"""Signal and kill soak: 4-worker simulated runs are killed (SIGKILL) or interrupted (SIGINT, SIGTERM, a double
SIGINT) at random moments, during the run and during its resumes, then resumed to completion; prints what went wrong.

Every run must end with its whole evaluation budget, an intact archive (`PRAGMA integrity_check`, `git fsck`), no
evaluation lost or done twice, dense node ids whose tags are their commits, and nothing left behind: no scratch
directory in the soak's own TMPDIR and no container labelled with one of its runs. An interrupted run must exit
within its grace period (a hang is one that has not exited 10 s after it).

Run: .venv/bin/python benchmarks/soak.py [--kills 100] [--signals 50] [--parallel 3]
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console
from rich.table import Table

HANG_MARGIN = 10.0
START_CEILING = 120.0


@dataclass
class Case:
    """One run: how it is interrupted, and what was seen."""

    index: int
    kind: str
    kills: int = 0
    signals: int = 0
    hangs: int = 0
    bad_exits: list[str] = field(default_factory=list)
    stop_seconds: list[float] = field(default_factory=list)
    problems: Counter[str] = field(default_factory=Counter)


def _wait_for(path: Path, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + START_CEILING
    while not path.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)


def _interrupt(proc: subprocess.Popen[bytes], case: Case, kind: str, rng: random.Random, grace: float) -> None:
    """Deliver `kind` to a live process and wait for it to end; count kills, signals, hangs and odd exit codes."""
    if proc.poll() is not None:
        return
    if kind == "SIGKILL":
        proc.kill()
        proc.wait()
        case.kills += proc.returncode == -signal.SIGKILL
        return
    sent = time.monotonic()
    proc.send_signal(signal.SIGTERM if kind == "SIGTERM" else signal.SIGINT)
    case.signals += 1
    if kind == "double SIGINT":
        time.sleep(rng.uniform(0.0, 0.3))
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=grace + HANG_MARGIN)
    except subprocess.TimeoutExpired:
        case.hangs += 1
        proc.kill()
        proc.wait()
        return
    case.stop_seconds.append(time.monotonic() - sent)
    # 130 once the engine stopped; a signal that lands after the command finished ends it by that signal.
    if proc.returncode not in (0, 130, -signal.SIGINT, -signal.SIGTERM):
        case.bad_exits.append(f"{kind}: exit {proc.returncode}")


def _hgm(args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "hgm.cli", *args], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def soak_one(case: Case, root: Path, env: dict[str, str], args: argparse.Namespace) -> Case:
    """Run, interrupt at random moments (the run, then up to two of its resumes), resume to the end, check."""
    rng = random.Random(args.seed * 100_003 + case.index)
    run = root / f"run-{case.index:03d}"
    options = ["--world", "sim", "--workers", "4", "--max-evals", str(args.budget), "--seed", str(case.index)]
    options += ["--sim-latency", str(args.latency), "--set", f"shutdown_grace={args.grace}", "-q"]
    proc = _hgm(["run", *options, "--out", str(run)], env)
    _wait_for(run / "hgm.db", proc)
    time.sleep(rng.uniform(0.0, args.window))
    _interrupt(proc, case, case.kind, rng, args.grace)
    proc.wait()
    for _ in range(rng.choice([0, 0, 1, 2])):
        proc = _hgm(["resume", str(run), "-q"], env)
        time.sleep(rng.uniform(0.3, 0.8 + args.window))
        _interrupt(proc, case, case.kind if case.kind == "SIGKILL" else rng.choice(SIGNAL_KINDS), rng, args.grace)
        proc.wait()
    final = subprocess.run(
        [sys.executable, "-m", "hgm.cli", "resume", str(run), "-q"], env=env, capture_output=True, text=True
    )
    if final.returncode != 0:
        case.problems["final resume failed"] += 1
        case.bad_exits.append(f"final resume: exit {final.returncode}: {final.stderr.strip()[-300:]}")
    check(run, args.budget, case.problems)
    return case


def check(run: Path, budget: int, problems: Counter[str]) -> None:
    """Count what is wrong with a finished run's archive."""
    db = sqlite3.connect(f"file:{run / 'hgm.db'}?mode=ro", uri=True)
    try:
        if db.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
            problems["corrupt"] += 1
        fsck = subprocess.run(
            ["git", f"--git-dir={run / 'lineage'}", "fsck", "--full", "--no-dangling"], capture_output=True, text=True
        )
        problems["corrupt"] += fsck.returncode != 0
        done = db.execute("SELECT node, task FROM work WHERE kind = 'evaluate' AND status = 'done'").fetchall()
        problems["lost"] += max(0, budget - len(set(done)))
        problems["doubled"] += len(done) - len(set(done))
        problems["unfinished"] += db.execute(
            "SELECT COUNT(*) FROM work WHERE status IN ('running', 'interrupted')"
        ).fetchone()[0]
        nodes = db.execute("SELECT id, commit_sha FROM nodes ORDER BY id").fetchall()
        children = [c for (c,) in db.execute("SELECT child FROM work WHERE kind = 'expand'")]
        ids = [n for n, _ in nodes]
        collided = ids != list(range(len(ids))) or sorted(children) != ids[1:]
        for node, sha in nodes:
            if sha is not None:
                tag = subprocess.run(
                    ["git", f"--git-dir={run / 'lineage'}", "rev-parse", f"refs/tags/node-{node}"],
                    capture_output=True,
                    text=True,
                ).stdout.strip()
                collided = collided or tag != sha
        problems["id collisions"] += collided
    finally:
        db.close()
    problems["index files in the run"] += len(list(run.glob(".index-*")))


def leftover_containers(root: Path) -> int | None:
    """Containers labelled with one of the soak's runs, or None without a Docker engine."""
    from hgm.sandboxes import docker_problem
    from hgm.sandboxes.image import docker_client

    if docker_problem():
        return None
    client = docker_client()
    try:
        containers = client.api.containers(all=True, filters={"label": "hgm.run"})
        return sum(1 for c in containers if (c.get("Labels") or {}).get("hgm.run", "").startswith(str(root)))
    finally:
        client.close()


SIGNAL_KINDS = ["SIGINT", "SIGTERM", "double SIGINT"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kills", type=int, default=100, help="runs whose interruptions are SIGKILLs")
    parser.add_argument("--signals", type=int, default=50, help="runs whose interruptions are SIGINT/SIGTERM")
    parser.add_argument("--parallel", type=int, default=3, help="runs soaked at once")
    parser.add_argument("--budget", type=int, default=40, help="evaluation budget of each run")
    parser.add_argument("--latency", type=float, default=0.05, help="seconds each simulated step takes")
    parser.add_argument("--grace", type=float, default=2.0, help="shutdown_grace of each run, in seconds")
    parser.add_argument("--window", type=float, default=1.2, help="interrupts land up to this long after start")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random moments")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    kinds = ["SIGKILL"] * args.kills + [rng.choice(SIGNAL_KINDS) for _ in range(args.signals)]
    cases = [Case(i, kind) for i, kind in enumerate(kinds)]
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="hgm-soak-") as tmp:
        root, scratch = Path(tmp) / "runs", Path(tmp) / "tmp"
        root.mkdir()
        scratch.mkdir()
        scratch.chmod(0o755)
        # A TMPDIR of its own, so scratch left by these runs (and only by them) can be counted.
        env = {**os.environ, "TMPDIR": str(scratch)}
        with ThreadPoolExecutor(max_workers=args.parallel) as pool:
            done = list(pool.map(lambda c: soak_one(c, root, env, args), cases))
        leftover_scratch = len(list(scratch.iterdir()))
        containers = leftover_containers(root)
    report(done, args, leftover_scratch, containers, time.monotonic() - started)


def report(cases: list[Case], args: argparse.Namespace, scratch: int, containers: int | None, seconds: float) -> None:
    problems: Counter[str] = Counter()
    for case in cases:
        problems.update(case.problems)
    stops = [s for case in cases for s in case.stop_seconds]
    bad = [f"run {c.index}: {b}" for c in cases for b in c.bad_exits]
    table = Table("what", "count", title=f"soak: {len(cases)} runs, each resumed to completion ({seconds:.0f} s)")
    rows = [
        ("SIGKILLs delivered", sum(c.kills for c in cases)),
        ("SIGINT/SIGTERM delivered (a double SIGINT counts once)", sum(c.signals for c in cases)),
        (f"hangs (no exit {HANG_MARGIN:g} s after the grace period)", sum(c.hangs for c in cases)),
        ("unexpected exit codes", len(bad)),
        ("corrupt archives (integrity_check, git fsck)", problems["corrupt"]),
        ("lost evaluations", problems["lost"]),
        ("doubled evaluations", problems["doubled"]),
        ("id collisions (gaps, tag not the node's commit, id of 2 expansions)", problems["id collisions"]),
        ("work left unfinished after the final resume", problems["unfinished"]),
        ("git index files left in run directories", problems["index files in the run"]),
        ("leftover scratch directories", scratch),
        ("leftover containers", "no docker engine" if containers is None else containers),
    ]
    for what, count in rows:
        table.add_row(what, str(count))
    console = Console()
    console.print(
        f"{args.kills} SIGKILL runs and {args.signals} SIGINT/SIGTERM runs; 4 workers, sim latency {args.latency:g} s, "
        f"budget {args.budget}, shutdown_grace {args.grace:g} s",
        highlight=False,
    )
    console.print(table)
    if stops:
        console.print(
            f"signal to exit: median {statistics.median(stops):.2f} s, max {max(stops):.2f} s (grace {args.grace:g} s)",
            highlight=False,
        )
    for line in bad[:20]:
        console.print(line, highlight=False, markup=False)


if __name__ == "__main__":
    main()
