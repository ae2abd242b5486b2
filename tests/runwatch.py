"""Waiting for a run in another process to reach a point, with a generous ceiling instead of a fixed sleep."""

from __future__ import annotations

import sqlite3
import subprocess
import time
from pathlib import Path


def wait_until_done(run: Path, proc: subprocess.Popen, count: int, ceiling: float = 300.0) -> None:
    """Return once `count` work items of the run are done; fail if the process ends or the ceiling passes first."""
    deadline = time.monotonic() + ceiling
    done = 0
    while done < count and proc.poll() is None and time.monotonic() < deadline:
        if (run / "hgm.db").exists():
            db = sqlite3.connect(run / "hgm.db")
            try:
                done = db.execute("SELECT COUNT(*) FROM work WHERE status = 'done'").fetchone()[0]
            finally:
                db.close()
        time.sleep(0.05)
    assert proc.poll() is None, f"the process ended before {count} work items of {run} were done"
    assert done >= count, f"{run} did not get {count} work items done within {ceiling:g} s"
