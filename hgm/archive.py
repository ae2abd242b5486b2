"""A run directory: SQLite source of truth, git lineage of agent sources, per-node artefacts."""

from __future__ import annotations

import fcntl
import io
import json
import os
import sqlite3
import tarfile
import tempfile
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hgm import __version__

if TYPE_CHECKING:
    import git

DB_NAME = "hgm.db"
LOCK_NAME = "hgm.lock"

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS nodes (
    id INTEGER PRIMARY KEY, parent INTEGER, status TEXT NOT NULL, commit_sha TEXT, reason TEXT,
    true_q REAL, created REAL NOT NULL);
CREATE TABLE IF NOT EXISTS work (
    k INTEGER PRIMARY KEY, kind TEXT NOT NULL, node INTEGER NOT NULL, task TEXT, child INTEGER,
    status TEXT NOT NULL, success INTEGER, cost REAL NOT NULL DEFAULT 0, error TEXT,
    started REAL NOT NULL, finished REAL);
CREATE UNIQUE INDEX IF NOT EXISTS one_eval_per_task ON work(node, task) WHERE kind = 'evaluate' AND status = 'done';
CREATE TABLE IF NOT EXISTS llm_calls (
    id INTEGER PRIMARY KEY, ts REAL NOT NULL, node INTEGER, purpose TEXT, model TEXT, prompt_tokens INTEGER,
    completion_tokens INTEGER, cost REAL, latency REAL, error TEXT);
CREATE TABLE IF NOT EXISTS events (id INTEGER PRIMARY KEY, ts REAL NOT NULL, kind TEXT NOT NULL, data TEXT);
"""


TAR_CACHE_BYTES = 64 * 1024 * 1024
"""Bytes of recent nodes' sources kept in memory, so a job's checkout needs no git process."""


class ArchiveError(Exception):
    """A run directory that cannot be used as asked; the message says why and what to do."""


class RunLocked(ArchiveError):
    """Another live hgm process holds the run directory."""


@dataclass(frozen=True)
class NodeRow:
    id: int
    parent: int | None
    status: str
    commit_sha: str | None
    reason: str | None
    true_q: float | None
    created: float


@dataclass(frozen=True)
class WorkRow:
    k: int
    kind: str
    node: int
    task: str | None
    child: int | None
    status: str
    success: bool | None
    cost: float
    error: str | None
    started: float
    finished: float | None


def is_run_dir(path: Path) -> bool:
    return (Path(path) / DB_NAME).is_file()


def check_new_run_dir(path: Path) -> None:
    """Raise ArchiveError unless a new run directory can be made at `path`."""
    path = Path(path)
    if is_run_dir(path):
        raise ArchiveError(f"{path} already holds a run; continue it with `hgm resume {path}` or choose another --out")
    if path.exists() and not path.is_dir():
        raise ArchiveError(f"{path} is a file, not a directory; choose another --out")
    if path.is_dir() and any(path.iterdir()):
        raise ArchiveError(f"{path} already exists and is not empty; choose another --out")
    parent = next((p for p in path.absolute().parents if p.exists()), Path("/"))
    if not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK):
        raise ArchiveError(f"cannot create the run directory {path}: {parent} is not a writable directory")


class Archive:
    """Everything about one run; opened read-only by inspectors, read-write (and locked) by the engine."""

    def __init__(self, path: Path, *, readonly: bool = True) -> None:
        # Absolute: git commands run with the lineage as their working directory.
        self.path = Path(path).absolute()
        if not is_run_dir(self.path):
            raise ArchiveError(f"{self.path} is not an hgm run directory (no {DB_NAME}); start one with `hgm run`")
        self.readonly = readonly
        self._lock_file: io.TextIOWrapper | None = None
        if not readonly:
            self._acquire_lock()
            # Index files of commits that an older hgm, killed mid-commit, left in the run directory.
            for stale in self.path.glob(".index-*"):
                stale.unlink(missing_ok=True)
        uri = f"file:{self.path / DB_NAME}" + ("?mode=ro" if readonly else "")
        self.db = sqlite3.connect(uri, uri=True, check_same_thread=False, timeout=30, isolation_level=None)
        self.db.row_factory = sqlite3.Row
        self._write = threading.Lock()
        self.lineage_path = self.path / "lineage"
        self._tars: OrderedDict[str, bytes] = OrderedDict()
        self._tars_lock = threading.Lock()

    # -- creation and locking -------------------------------------------------------------------------------

    @classmethod
    def create(cls, path: Path, config: dict[str, Any]) -> Archive:
        """Make a new run directory with its database, empty lineage repository and frozen config."""
        path = Path(path)
        check_new_run_dir(path)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            # Built aside and renamed into place, so a crash never leaves a half-made run directory.
            staging = Path(tempfile.mkdtemp(prefix=f".{path.name}-", dir=path.parent))
        except OSError as exc:
            raise ArchiveError(f"cannot create the run directory {path}: {exc.strerror or exc}") from None
        db = sqlite3.connect(staging / DB_NAME, isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.executescript(SCHEMA)
        with db:
            db.execute("INSERT INTO meta VALUES ('config', ?)", (json.dumps(config),))
            db.execute("INSERT INTO meta VALUES ('created', ?)", (str(time.time()),))
            db.execute("INSERT INTO meta VALUES ('hgm_version', ?)", (__version__,))
            db.execute("INSERT INTO meta VALUES ('elapsed', '0')")
        db.close()
        import git  # gitpython takes a noticeable part of start-up; only writing and lineage commands need it

        repo = git.Repo.init(staging / "lineage", bare=True, initial_branch="main")
        with repo.config_writer() as cfg:
            cfg.set_value("user", "name", "hgm")
            cfg.set_value("user", "email", "hgm@localhost")
        repo.close()
        (staging / "nodes").mkdir()
        if path.exists():
            path.rmdir()
        staging.rename(path)
        return cls(path, readonly=False)

    def _acquire_lock(self) -> None:
        lock_path = self.path / LOCK_NAME
        handle = open(lock_path, "a+")  # noqa: SIM115 - held for the archive's lifetime
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            handle.close()
            raise RunLocked(
                f"{self.path} is in use by another hgm process (pid {holder}); wait for it to end or stop it first"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        self._lock_file = handle

    def close(self) -> None:
        self.db.close()
        if self._lock_file is not None:
            self._lock_file.close()
            self._lock_file = None

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        if self.readonly:
            raise ArchiveError("archive opened read-only")
        with self._write:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                yield self.db
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
            self.db.execute("COMMIT")

    def _query(self, sql: str, params: tuple | list = ()) -> list[sqlite3.Row]:
        # One connection serves every thread; reads take the same lock so they never interleave with a write.
        with self._write:
            return self.db.execute(sql, params).fetchall()

    # -- meta -------------------------------------------------------------------------------------------------

    def meta(self, key: str, default: str | None = None) -> str | None:
        rows = self._query("SELECT value FROM meta WHERE key = ?", (key,))
        return rows[0][0] if rows else default

    def set_meta(self, key: str, value: str) -> None:
        with self.transaction() as db:
            db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    def config(self) -> dict[str, Any]:
        return json.loads(self.meta("config") or "{}")

    # -- nodes and work ---------------------------------------------------------------------------------------

    def nodes(self) -> list[NodeRow]:
        return [NodeRow(**dict(row)) for row in self._query("SELECT * FROM nodes ORDER BY id")]

    def node(self, node_id: int) -> NodeRow | None:
        rows = self._query("SELECT * FROM nodes WHERE id = ?", (node_id,))
        return NodeRow(**dict(rows[0])) if rows else None

    def work(self, *, status: str | None = None, kind: str | None = None, node: int | None = None) -> list[WorkRow]:
        clauses, params = [], []
        for column, value in (("status", status), ("kind", kind), ("node", node)):
            if value is not None:
                clauses.append(f"{column} = ?")
                params.append(value)
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        rows = self._query(f"SELECT * FROM work {where} ORDER BY k", params)
        return [_work_row(row) for row in rows]

    def next_k(self) -> int:
        return int(self._query("SELECT COALESCE(MAX(k) + 1, 0) FROM work")[0][0])

    def start_work(self, k: int, kind: str, node: int, task: str | None = None) -> int | None:
        """Record work item `k` as running; an expansion also reserves its child's id for good, which it returns."""
        with self.transaction() as db:
            child = None
            if kind == "expand":
                # Above every node and every id ever reserved: an interrupted expansion keeps its id for its rerun.
                child = db.execute(
                    "SELECT MAX((SELECT COALESCE(MAX(id), 0) FROM nodes), "
                    "(SELECT COALESCE(MAX(child), 0) FROM work WHERE kind = 'expand')) + 1"
                ).fetchone()[0]
            db.execute(
                "INSERT INTO work (k, kind, node, task, child, status, started) VALUES (?, ?, ?, ?, ?, 'running', ?)",
                (k, kind, node, task, child, time.time()),
            )
        return child

    def restart_work(self, k: int) -> None:
        with self.transaction() as db:
            db.execute("UPDATE work SET status = 'running', error = NULL, started = ? WHERE k = ?", (time.time(), k))

    def finish_evaluation(self, k: int, success: bool, cost: float, error: str | None = None) -> None:
        status = "error" if error else "done"
        with self.transaction() as db:
            db.execute(
                "UPDATE work SET status = ?, success = ?, cost = ?, error = ?, finished = ? WHERE k = ?",
                (status, None if error else int(success), cost, error, time.time(), k),
            )

    def finish_expansion(
        self,
        k: int,
        child: int,
        parent: int,
        commit_sha: str | None,
        ok: bool,
        reason: str,
        cost: float,
        true_q: float | None,
    ) -> None:
        """Record the child node and close its work item in one transaction; a recorded node is never replaced."""
        now = time.time()
        with self.transaction() as db:
            if db.execute("SELECT 1 FROM nodes WHERE id = ?", (child,)).fetchone():
                raise ArchiveError(f"node {child} already exists; a recorded node is never replaced")
            closed = db.execute(
                "UPDATE work SET status = 'done', success = ?, cost = ?, error = ?, finished = ? "
                "WHERE k = ? AND kind = 'expand' AND child = ? AND status = 'running'",
                (int(ok), cost, reason or None, now, k, child),
            )
            if closed.rowcount != 1:
                raise ArchiveError(f"work item {k} is not a running expansion into node {child}")
            db.execute(
                "INSERT INTO nodes (id, parent, status, commit_sha, reason, true_q, created) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (child, parent, "ready" if ok else "failed", commit_sha, reason or None, true_q, now),
            )

    def interrupt_work(self, k: int, reason: str) -> None:
        with self.transaction() as db:
            db.execute(
                "UPDATE work SET status = 'interrupted', error = ?, finished = ? WHERE k = ?", (reason, time.time(), k)
            )

    def add_root(self, commit_sha: str, true_q: float | None) -> None:
        with self.transaction() as db:
            db.execute(
                "INSERT INTO nodes (id, parent, status, commit_sha, reason, true_q, created) "
                "VALUES (0, NULL, 'ready', ?, NULL, ?, ?)",
                (commit_sha, true_q, time.time()),
            )

    def evaluations(self) -> list[WorkRow]:
        return self.work(status="done", kind="evaluate")

    def eval_counts(self) -> dict[int, tuple[int, int]]:
        """Each evaluated node's completed (successes, failures), counted by the database: the read-only views need
        only these, not a record per evaluation."""
        rows = self._query(
            "SELECT node, SUM(success), COUNT(*) FROM work WHERE kind = 'evaluate' AND status = 'done' GROUP BY node"
        )
        return {int(node): (int(s), int(n) - int(s)) for node, s, n in rows}

    def spent(self) -> float:
        return float(self._query("SELECT COALESCE(SUM(cost), 0) FROM work")[0][0])

    def event(self, kind: str, **data: Any) -> None:
        with self.transaction() as db:
            db.execute("INSERT INTO events (ts, kind, data) VALUES (?, ?, ?)", (time.time(), kind, json.dumps(data)))

    def events(self) -> list[tuple[float, str, dict[str, Any]]]:
        rows = self._query("SELECT ts, kind, data FROM events ORDER BY id")
        return [(row[0], row[1], json.loads(row[2] or "{}")) for row in rows]

    def record_llm_call(
        self,
        *,
        node_id: int | None,
        purpose: str,
        model: str,
        prompt_tokens: int,
        completion_tokens: int,
        cost: float,
        latency: float,
        error: str | None,
    ) -> None:
        with self.transaction() as db:
            db.execute(
                "INSERT INTO llm_calls (ts, node, purpose, model, prompt_tokens, completion_tokens, cost, latency, "
                "error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (time.time(), node_id, purpose, model, prompt_tokens, completion_tokens, cost, latency, error),
            )

    def llm_calls(self, node: int | None = None) -> list[dict[str, Any]]:
        if node is None:
            rows = self._query("SELECT * FROM llm_calls ORDER BY id")
        else:
            rows = self._query("SELECT * FROM llm_calls WHERE node = ? ORDER BY id", (node,))
        return [dict(row) for row in rows]

    # -- artefacts ----------------------------------------------------------------------------------------------

    def node_dir(self, node_id: int) -> Path:
        return self.path / "nodes" / str(node_id)

    def artefact_text(self, node_id: int, name: str) -> str | None:
        """One artefact of a node as text, None if the node has no such file (or it is not text)."""
        # A plain string path: the views read one small file for each of thousands of nodes, and pathlib's parsing
        # would cost more than the reads.
        try:
            with open(os.path.join(self.path, "nodes", str(node_id), name), encoding="utf-8") as handle:
                return handle.read()
        except (OSError, UnicodeDecodeError):
            return None

    def save_artefacts(self, node_id: int, artefacts: dict[str, str]) -> None:
        folder = self.node_dir(node_id)
        for name, text in artefacts.items():
            target = folder / name
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_name(target.name + ".tmp")
            tmp.write_text(text)
            tmp.replace(target)

    def artefacts(self, node_id: int) -> list[Path]:
        folder = self.node_dir(node_id)
        return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []

    # -- lineage ----------------------------------------------------------------------------------------------

    def _git(self) -> git.Git:
        import git

        # One command object per call: gitpython's persistent helpers are not shared between threads.
        return git.Git(str(self.lineage_path))

    def commit_source(self, node_id: int, source: Path, parent_sha: str | None, message: str) -> str:
        """Commit a directory as node `node_id` (ref refs/tags/node-<id>) whose parent commit is the parent node's."""
        if self.node(node_id) is not None:
            raise ArchiveError(f"node {node_id} already exists; a recorded node's commit is never replaced")
        g = self._git()
        # A private index outside the run directory (in the run's scratch directory during a run), so a kill
        # mid-commit leaves nothing in the archive.
        with tempfile.TemporaryDirectory(prefix="hgm-index-") as tmp:
            env = {**os.environ, "GIT_INDEX_FILE": str(Path(tmp) / "index")}
            g.execute(
                ["git", f"--git-dir={self.lineage_path}", f"--work-tree={source}", "add", "-A", "--force", "."], env=env
            )
            tree = g.execute(["git", f"--git-dir={self.lineage_path}", "write-tree"], env=env)
        parents = ["-p", parent_sha] if parent_sha else []
        sha = g.execute(["git", f"--git-dir={self.lineage_path}", "commit-tree", str(tree), *parents, "-m", message])
        g.execute(["git", f"--git-dir={self.lineage_path}", "update-ref", f"refs/tags/node-{node_id}", str(sha)])
        return str(sha)

    def set_best(self, commit_sha: str) -> None:
        """Point the lineage's main branch at the best-belief agent so `git log` shows its ancestry."""
        self._git().execute(["git", f"--git-dir={self.lineage_path}", "update-ref", "refs/heads/main", commit_sha])

    def source_tar(self, commit_sha: str) -> bytes:
        """A node's source as tar bytes; commits never change, so recent ones are kept, not asked of git again."""
        with self._tars_lock:
            data = self._tars.get(commit_sha)
            if data is not None:
                self._tars.move_to_end(commit_sha)
                return data
        data = bytes(
            self._git().execute(
                ["git", f"--git-dir={self.lineage_path}", "archive", "--format=tar", commit_sha],
                stdout_as_string=False,
            )
        )
        with self._tars_lock:
            self._tars[commit_sha] = data
            while sum(len(v) for v in self._tars.values()) > TAR_CACHE_BYTES and len(self._tars) > 1:
                self._tars.popitem(last=False)
        return data

    def checkout(self, commit_sha: str, dest: Path) -> None:
        """Write a node's source tree into `dest`."""
        data = self.source_tar(commit_sha)
        dest.mkdir(parents=True, exist_ok=True)
        with tarfile.open(fileobj=io.BytesIO(data)) as tar:  # type: ignore[arg-type]
            tar.extractall(dest, filter="data")

    def diff(self, old: str | None, new: str) -> str:
        g = self._git()
        if old is None:
            return str(g.execute(["git", f"--git-dir={self.lineage_path}", "show", "--format=", "--stat", "-p", new]))
        return str(g.execute(["git", f"--git-dir={self.lineage_path}", "diff", old, new]))

    def commit_exists(self, sha: str) -> bool:
        try:
            self._git().execute(["git", f"--git-dir={self.lineage_path}", "cat-file", "-e", f"{sha}^{{commit}}"])
        except _git_errors():
            return False
        return True


def _work_row(row: sqlite3.Row) -> WorkRow:
    data = dict(row)
    data["success"] = None if data["success"] is None else bool(data["success"])
    return WorkRow(**data)


def _git_errors() -> type[Exception]:
    import git

    return git.GitCommandError
