"""RUN/run.log: a plain-text account of what a run did, kept while it runs and readable after the terminal closed.

The engine wraps its work in `run_log(archive)`. The log gets hgm's own log records (the `hgm` logger: gateway
retries, sandbox warnings) and, from a thread that follows the archive's database, one line for each piece of work
started and finished and for each run event. Following the database rather than instrumenting the engine means
the log says exactly what was committed, in commit order.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

from hgm.archive import DB_NAME, Archive
from hgm.views.story import clean, read_story

LOG_NAME = "run.log"
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
FINAL = ("done", "error")


class _Follower:
    """Turns new rows of the archive's database into log records."""

    def __init__(self, run_dir: Path, log: logging.Logger) -> None:
        self.run_dir = run_dir
        self.log = log
        self.db = sqlite3.connect(
            f"file:{run_dir / DB_NAME}?mode=ro", uri=True, check_same_thread=False, timeout=30, isolation_level=None
        )
        self.db.row_factory = sqlite3.Row
        self.last_event = self._scalar("SELECT COALESCE(MAX(id), 0) FROM events")
        self.last_k = self._scalar("SELECT COALESCE(MAX(k), -1) FROM work")
        # Work that is not final yet (left in flight or interrupted by an earlier process) may still finish.
        self.open = {
            row["k"]: row["status"]
            for row in self.db.execute("SELECT k, status FROM work WHERE status NOT IN ('done', 'error')")
        }

    def _scalar(self, sql: str) -> int:
        return int(self.db.execute(sql).fetchone()[0])

    def close(self) -> None:
        self.db.close()

    def poll(self) -> None:
        self.db.execute("BEGIN")  # one read transaction: events and work from the same moment
        try:
            events = self.db.execute("SELECT * FROM events WHERE id > ? ORDER BY id", (self.last_event,)).fetchall()
            marks = ",".join("?" * len(self.open))
            rows = self.db.execute(
                f"SELECT * FROM work WHERE k > ? OR k IN ({marks}) ORDER BY k", (self.last_k, *self.open)
            ).fetchall()
        finally:
            self.db.execute("COMMIT")
        lines: list[tuple[float, int, Callable[[], None]]] = []
        for event in events:
            self.last_event = event["id"]
            data = json.loads(event["data"] or "{}")
            lines.append((event["ts"], len(lines), partial(self._event, event["kind"], data)))
        for row in rows:
            new = row["k"] > self.last_k
            self.last_k = max(self.last_k, row["k"])
            if new and row["status"] == "running":  # work that finished between two polls gets only its result
                lines.append((row["started"], len(lines), partial(self.log.info, "%s started", _describe(row))))
            before = self.open.get(row["k"])
            if row["status"] in FINAL:
                self.open.pop(row["k"], None)
                lines.append((row["finished"] or row["started"], len(lines), partial(self._finished, row)))
            else:
                self.open[row["k"]] = row["status"]
                if row["status"] == "interrupted" and before != "interrupted":
                    why = clean(row["error"] or "", 300)
                    warn = partial(self.log.warning, "%s interrupted: %s", _describe(row), why)
                    lines.append((row["finished"] or row["started"], len(lines), warn))
        for _, _, say in sorted(lines, key=lambda line: line[:2]):
            say()

    def _event(self, kind: str, data: dict[str, Any]) -> None:
        if kind == "start":
            self.log.info(
                "run started (pid %s) with %s evaluations and %s nodes done",
                data.get("pid"),
                data.get("evals"),
                data.get("nodes"),
            )
        elif kind == "stop_requested":
            self.log.warning("stopping: %s", clean(data.get("reason", ""), 500))
        elif kind == "stop":
            self.log.info(
                "run stopped: %s; %s evaluations, %s nodes, best belief node %s",
                clean(data.get("reason", "") or "done", 500),
                data.get("evals"),
                data.get("nodes"),
                data.get("best"),
            )
        elif kind == "root":
            self.log.info("seed agent committed as node 0 (%s)", str(data.get("commit", ""))[:12])
        elif kind != "error":  # errors are logged with the work they ended
            self.log.info("%s: %s", clean(kind, 50), clean(json.dumps(data), 500))

    def _finished(self, row: sqlite3.Row) -> None:
        if row["kind"] == "evaluate":
            if row["status"] == "error":
                self.log.warning("%s: infrastructure error: %s", _describe(row), clean(row["error"] or "", 500))
            else:
                verdict = "solved" if row["success"] else "not solved"
                self.log.info("%s: %s%s", _describe(row), verdict, _cost(row))
        elif row["success"]:
            headline = read_story(self.run_dir / "nodes" / str(row["child"])).headline()
            self.log.info(
                "node %s (child of node %s) made%s: %s", row["child"], row["node"], _cost(row), headline or "-"
            )
        else:
            self.log.info(
                "node %s (child of node %s) failed%s: %s",
                row["child"],
                row["node"],
                _cost(row),
                clean(row["error"] or "", 500),
            )


def _describe(row: sqlite3.Row) -> str:
    if row["kind"] == "expand":
        return f"expanding node {row['node']} into node {row['child']}"
    return f"evaluating node {row['node']} on {clean(row['task'] or '', 200)}"


def _cost(row: sqlite3.Row) -> str:
    return f" (${row['cost']:.4f})" if row["cost"] else ""


@contextmanager
def run_log(archive: Archive, poll: float = 1.0) -> Iterator[Path]:
    """Keep RUN/run.log up to date while the block runs (appending, so resumed runs continue the same file).

    Nested use for the same run (the engine's own, inside a caller's) keeps the one log it already has.
    """
    path = archive.path / LOG_NAME
    if str(path) in _active:
        yield path
        return
    _active.add(str(path))
    try:
        yield from _logging(archive, path, poll)
    finally:
        _active.discard(str(path))


_active: set[str] = set()


def _logging(archive: Archive, path: Path, poll: float) -> Iterator[Path]:
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter(FORMAT))
    handler.setLevel(logging.INFO)
    logger = logging.getLogger("hgm")
    level = logger.level
    logger.addHandler(handler)
    if logger.getEffectiveLevel() > logging.INFO:
        logger.setLevel(logging.INFO)
    follower = _Follower(archive.path, logging.getLogger("hgm.run"))
    stop = threading.Event()

    def follow() -> None:
        while not stop.wait(poll):
            try:
                follower.poll()
            except sqlite3.Error as exc:  # busy or being written: the next poll reads what this one missed
                logging.getLogger("hgm.run").debug("run log could not read the archive: %s", exc)

    thread = threading.Thread(target=follow, name="hgm-run-log", daemon=True)
    thread.start()
    try:
        yield path
    finally:
        stop.set()
        thread.join()
        try:
            follower.poll()  # what the run committed last, such as its stop event
        finally:
            follower.close()
            logger.removeHandler(handler)
            logger.setLevel(level)
            handler.close()
