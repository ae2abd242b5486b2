"""A run killed with SIGKILL at many moments, then resumed, ends exactly like an uninterrupted one."""

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from runwatch import wait_until_done

from hgm.archive import Archive

ARGS = [
    "--world",
    "sim",
    "--workers",
    "1",
    "--seed",
    "11",
    "--max-evals",
    "40",
    "--sim-latency",
    "0.02",
    "--landscape",
    "mixed",
    "-q",
]


def _hgm(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "hgm.cli", *args], capture_output=True, text=True, timeout=timeout)


def _fingerprint(run: Path) -> tuple:
    """The tree's shape, every node's source tree, and every evaluation's verdict."""
    db = sqlite3.connect(run / "hgm.db")
    nodes = db.execute("SELECT id, parent, status, commit_sha FROM nodes ORDER BY id").fetchall()
    trees = []
    for _, _, _, sha in nodes:
        tree = None
        if sha:
            tree = subprocess.run(
                ["git", f"--git-dir={run / 'lineage'}", "rev-parse", f"{sha}^{{tree}}"],
                capture_output=True,
                text=True,
                check=True,
            ).stdout.strip()
        trees.append(tree)
    evals = db.execute(
        "SELECT node, task, success FROM work WHERE kind = 'evaluate' AND status = 'done' ORDER BY node, task"
    ).fetchall()
    return [(n[0], n[1], n[2]) for n in nodes], trees, evals


def _check_consistent(run: Path) -> None:
    archive = Archive(run)
    try:
        db = archive.db
        assert db.execute("SELECT COUNT(*) FROM work WHERE status IN ('running', 'interrupted')").fetchone()[0] == 0
        dupes = db.execute(
            "SELECT node, task, COUNT(*) FROM work WHERE kind = 'evaluate' AND status = 'done' "
            "GROUP BY node, task HAVING COUNT(*) > 1"
        ).fetchall()
        assert dupes == []
        ids = [n.id for n in archive.nodes()]
        assert ids == list(range(len(ids)))
        for node in archive.nodes():
            if node.status == "ready":
                assert node.commit_sha and archive.commit_exists(node.commit_sha)
        assert len(archive.evaluations()) == 40
    finally:
        archive.close()


def test_sigkill_at_random_moments_then_resume(tmp_path: Path):
    reference = tmp_path / "reference"
    assert _hgm("run", *ARGS, "--out", str(reference)).returncode == 0
    expected = _fingerprint(reference)
    _check_consistent(reference)

    rng = random.Random(5)
    delays = sorted(rng.uniform(0.0, 1.4) for _ in range(10))
    killed = 0
    for i, delay in enumerate(delays):
        run = tmp_path / f"killed-{i}"
        proc = subprocess.Popen(
            [sys.executable, "-m", "hgm.cli", "run", *ARGS, "--out", str(run)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 60
        while not (run / "hgm.db").exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.005)
        time.sleep(delay)
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
        killed += proc.wait() == -signal.SIGKILL
        resumed = _hgm("resume", str(run), "-q")
        assert resumed.returncode == 0, resumed.stderr
        _check_consistent(run)
        assert _fingerprint(run) == expected, f"resumed run {i} (killed after {delay:.2f}s) differs"
    assert killed >= 8, "most kills must land while the run is still working"


def test_sigint_stops_gracefully_and_resume_finishes(tmp_path: Path):
    run = tmp_path / "run"
    args = [a if a != "0.02" else "0.2" for a in ARGS]
    proc = subprocess.Popen(
        [sys.executable, "-m", "hgm.cli", "run", *args, "--workers", "2", "--out", str(run)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    wait_until_done(run, proc, 3)
    proc.send_signal(signal.SIGINT)
    out, errors = proc.communicate(timeout=60)
    assert proc.returncode == 130, errors
    archive = Archive(run)
    events = [kind for _, kind, _ in archive.events()]
    assert "stop_requested" in events and events[-1] == "stop"
    assert archive.db.execute("SELECT COUNT(*) FROM work WHERE status = 'running'").fetchone()[0] == 0
    done_before = len(archive.evaluations())
    archive.close()
    assert done_before < 40
    assert _hgm("resume", str(run), "-q").returncode == 0
    _check_consistent(run)
    assert json.loads(_hgm("best", str(run), "--json").stdout)["n_evals"] >= 1
