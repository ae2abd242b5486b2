"""Ctrl-C and SIGTERM at random moments: every run stops within its grace period and resumes to its full budget."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from hgm.archive import Archive

BUDGET = 40
GRACE = 2.0
ARGS = ["--world", "sim", "--workers", "4", "--max-evals", str(BUDGET), "--sim-latency", "0.1", "-q"]
ARGS += ["--set", f"shutdown_grace={GRACE}"]
SIGNALS = 50
# A hung run never ends; a slow machine still ends well inside this.
CEILING = 120.0


def _hgm(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "hgm.cli", *args], capture_output=True, text=True, timeout=CEILING)


def _complete(run: Path) -> str:
    """'' if the run holds its whole budget and nothing half-done, else what is wrong."""
    archive = Archive(run)
    try:
        left = archive.work(status="running") + archive.work(status="interrupted")
        ids = [n.id for n in archive.nodes()]
        pairs = [(w.node, w.task) for w in archive.evaluations()]
        if left:
            return f"{len(left)} work items left unfinished"
        if ids != list(range(len(ids))):
            return f"node ids are not dense: {ids}"
        if len(pairs) != len(set(pairs)):
            return "an evaluation was done twice"
        if len(pairs) != BUDGET:
            return f"{len(pairs)} evaluations instead of {BUDGET}"
        return ""
    finally:
        archive.close()


def _one(run: Path, seed: int) -> str:
    """Start a run, signal it at a random moment, wait for it to stop, resume it; '' or what went wrong."""
    rng = random.Random(seed)
    kind = rng.choice(["SIGINT", "SIGTERM", "double SIGINT"])
    proc = subprocess.Popen(
        [sys.executable, "-m", "hgm.cli", "run", *ARGS, "--seed", str(seed), "--out", str(run)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + CEILING
    while not (run / "hgm.db").exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(rng.uniform(0.0, 1.5))
    proc.send_signal(signal.SIGTERM if kind == "SIGTERM" else signal.SIGINT)
    if kind == "double SIGINT":
        time.sleep(rng.uniform(0.0, 0.3))
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
    try:
        _, errors = proc.communicate(timeout=CEILING)
    except subprocess.TimeoutExpired:
        os.kill(proc.pid, signal.SIGKILL)
        proc.communicate()
        return f"{kind}: the run hung"
    # 130 once the engine stopped; a signal landing after the command finished ends the process by that signal.
    if proc.returncode not in (0, 130, -signal.SIGINT, -signal.SIGTERM) or "Traceback" in errors:
        return f"{kind}: exit code {proc.returncode}: {errors[-500:]}"
    resumed = _hgm("resume", str(run), "-q")
    if resumed.returncode != 0:
        return f"{kind}: resume failed with {resumed.returncode}: {resumed.stderr[-500:]}"
    problem = _complete(run)
    return f"{kind}: {problem}" if problem else ""


def test_signals_at_random_moments_never_hang_a_run_and_it_resumes_to_its_budget(tmp_path: Path):
    with ThreadPoolExecutor(max_workers=3) as pool:
        outcomes = list(pool.map(lambda i: _one(tmp_path / f"run-{i}", i), range(SIGNALS)))
    problems = [f"run {i}: {p}" for i, p in enumerate(outcomes) if p]
    assert problems == []
