"""Child ids survive stops and kills: reserved when an expansion starts and reused only by that expansion."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest

from hgm.archive import Archive, ArchiveError
from hgm.config import RunConfig, load_config
from hgm.engine import Engine, Snapshot
from hgm.interfaces import Expansion, NodeRef
from hgm.worlds.sim import SimWorld

SETTINGS = [
    "workers=2",
    "budget.max_evals=30",
    "search.initial_evals=1",
    "search.initial_expansions=2",
    "shutdown_grace=0",
    "sim.n_tasks=20",
    "seed=3",
]


def _sim(config: RunConfig) -> SimWorld:
    return SimWorld(config.sim.landscape, config.seed, n_tasks=config.sim.n_tasks)


class _FirstChildWaits(SimWorld):
    """Child 1's expansion lasts until it is cancelled; every other expansion finishes at once."""

    def expand(self, parent: NodeRef, child_id: int, dest: Path, cancel: threading.Event) -> Expansion:
        if child_id == 1:
            cancel.wait()
            return Expansion(ok=False, reason="cancelled")
        return super().expand(parent, child_id, dest, cancel)


def _check_ids(run: Path, evals: int) -> None:
    """Ids are dense, tag node-n is node n's commit, and each child id belongs to exactly one expansion."""
    archive = Archive(run)
    try:
        nodes = archive.nodes()
        assert [n.id for n in nodes] == list(range(len(nodes)))
        for node in nodes:
            if node.commit_sha is not None:
                tag = subprocess.run(
                    ["git", f"--git-dir={run / 'lineage'}", "rev-parse", f"refs/tags/node-{node.id}"],
                    capture_output=True,
                    text=True,
                    check=True,
                ).stdout.strip()
                assert tag == node.commit_sha, f"tag node-{node.id} is not node {node.id}'s commit"
        children = [w.child for w in archive.work(kind="expand")]
        assert sorted(c for c in children if c is not None) == list(range(1, len(nodes)))
        assert all(w.status == "done" for w in archive.work(kind="expand"))
        assert len(archive.evaluations()) == evals
    finally:
        archive.close()


def test_out_of_order_finish_then_stop_then_resume_keeps_every_id(tmp_path: Path):
    config = load_config(overrides=SETTINGS)
    run = tmp_path / "run"
    archive = Archive.create(run, config.model_dump(mode="json"))
    world = _FirstChildWaits(config.sim.landscape, config.seed, n_tasks=config.sim.n_tasks)
    engines: list[Engine] = []

    def stop_once_child_two_is_kept(snap: Snapshot) -> None:
        if archive.node(2) is not None and not engines[0].stopping:
            engines[0].request_stop("stopped by the test")

    engines.append(Engine(archive, world, config, on_tick=stop_once_child_two_is_kept))
    assert engines[0].run() == "stopped by the test"
    kept = archive.node(2)
    assert kept is not None and archive.node(1) is None
    reserved = [w for w in archive.work(kind="expand") if w.child == 1]
    assert [w.status for w in reserved] == ["interrupted"]
    archive.close()

    archive = Archive(run, readonly=False)
    assert Engine(archive, _sim(config), config).run() == "evaluation budget spent"
    assert archive.node(2) == kept, "a finished node must never be replaced"
    assert [w.k for w in archive.work(kind="expand") if w.child == 1] == [reserved[0].k]
    archive.close()
    _check_ids(run, 30)


KILLED_WHILE_CHILD_ONE_RUNS = """
import os, signal, sys, time
from pathlib import Path
from hgm.archive import Archive
from hgm.config import load_config
from hgm.engine import Engine
from hgm.worlds.sim import SimWorld

class KillOnceChildTwoIsKept(SimWorld):
    def expand(self, parent, child_id, dest, cancel):
        if child_id == 1:
            while archive.node(2) is None:
                time.sleep(0.01)
            os.kill(os.getpid(), signal.SIGKILL)
        return super().expand(parent, child_id, dest, cancel)

config = load_config(overrides=sys.argv[2:])
archive = Archive.create(Path(sys.argv[1]), config.model_dump(mode="json"))
Engine(archive, KillOnceChildTwoIsKept(config.sim.landscape, config.seed, n_tasks=config.sim.n_tasks), config).run()
"""


def test_killed_while_an_earlier_child_runs_then_resumed_keeps_every_id(tmp_path: Path):
    run = tmp_path / "run"
    killed = subprocess.run(
        [sys.executable, "-c", KILLED_WHILE_CHILD_ONE_RUNS, str(run), *SETTINGS],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert killed.returncode == -9, killed.stderr
    archive = Archive(run)
    kept = archive.node(2)
    assert kept is not None and archive.node(1) is None
    archive.close()
    resumed = subprocess.run(
        [sys.executable, "-m", "hgm.cli", "resume", str(run), "-q"], capture_output=True, text=True, timeout=120
    )
    assert resumed.returncode == 0, resumed.stderr
    archive = Archive(run)
    assert archive.node(2) == kept
    archive.close()
    _check_ids(run, 30)


def test_a_finished_node_is_never_replaced(tmp_path: Path):
    archive = Archive.create(tmp_path / "run", {})
    source = tmp_path / "src"
    source.mkdir()
    (source / "agent.txt").write_text("root\n")
    root = archive.commit_source(0, source, None, "node 0")
    archive.add_root(root, None)
    archive.start_work(0, "expand", 0)
    archive.finish_expansion(0, 1, 0, None, False, "failed", 0.0, None)
    archive.start_work(1, "expand", 0)
    with pytest.raises(ArchiveError, match="node 1 already exists"):
        archive.finish_expansion(1, 1, 0, None, False, "again", 0.0, None)
    with pytest.raises(ArchiveError, match="node 1 already exists"):
        archive.commit_source(1, source, root, "node 1 again")
    assert archive.node(1) is not None and archive.node(1).reason == "failed"  # type: ignore[union-attr]
