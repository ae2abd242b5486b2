"""Removing what a run leaves behind: never more than it made, and never another process's things."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from runwatch import wait_until_done

from hgm.sandboxes.hostfs import remove_tree
from hgm.sandboxes.owner import owner_tag
from hgm.sandboxes.registry import cleanup_orphans
from hgm.scratch import root_for


def test_removing_a_tree_that_is_already_gone_leaves_its_parent_alone(tmp_path: Path):
    parent = tmp_path / "x"
    parent.mkdir()
    parent.chmod(0o755)
    remove_tree(parent / "gone")
    assert parent.stat().st_mode & 0o777 == 0o755


def test_read_only_directories_inside_the_tree_are_removed_but_the_parent_keeps_its_mode(tmp_path: Path):
    parent = tmp_path / "parent"
    parent.mkdir()
    parent.chmod(0o751)
    tree = parent / "tree"
    locked = tree / "a" / "locked"
    locked.mkdir(parents=True)
    (locked / "file").write_text("x")
    locked.chmod(0o500)
    tree.chmod(0o500)
    remove_tree(tree)
    assert not tree.exists()
    assert parent.stat().st_mode & 0o777 == 0o751


def _run_env(tmp: Path) -> dict[str, str]:
    return {**os.environ, "TMPDIR": str(tmp)}


def _killed_sim_run(run: Path, tmp: Path) -> None:
    """A 4-worker sim run killed with SIGKILL while work is in flight."""
    args = ["run", "--workers", "4", "--max-evals", "60", "--sim-latency", "0.3", "--out", str(run), "-q"]
    proc = subprocess.Popen([sys.executable, "-m", "hgm.cli", *args], env=_run_env(tmp), stderr=subprocess.PIPE)
    wait_until_done(run, proc, 3)
    proc.kill()
    proc.wait()


def test_a_killed_run_leaves_one_labelled_scratch_directory_that_resume_reclaims(tmp_path: Path):
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    run = tmp_path / "run"
    _killed_sim_run(run, tmp)
    left = list(tmp.iterdir())
    assert [p.name for p in left] == [root_for(run).name]
    owner = json.loads((left[0] / "owner.json").read_text())
    assert owner["run"] == str(run.absolute())
    assert not list(run.glob(".index-*"))
    resumed = subprocess.run(
        [sys.executable, "-m", "hgm.cli", "resume", str(run), "-q"],
        env=_run_env(tmp),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert resumed.returncode == 0, resumed.stderr
    assert list(tmp.iterdir()) == []


def _scratch_of(base: Path, run: str, owner: str) -> Path:
    root = base / f"hgm-run-{abs(hash(run))}"
    root.mkdir()
    (root / "owner.json").write_text(json.dumps({"run": run, "owner": owner}))
    (root / "hgm-sbx-1-x").mkdir()
    return root


def _dead_owner() -> str:
    proc = subprocess.run(
        [sys.executable, "-c", "from hgm.sandboxes.owner import owner_tag; print(owner_tag())"],
        capture_output=True,
        text=True,
        check=True,
    )
    return proc.stdout.strip()


def test_cleanup_removes_the_scratch_of_dead_processes_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    dead = _dead_owner()
    gone_a = _scratch_of(tmp_path, "/runs/a", dead)
    gone_b = _scratch_of(tmp_path, "/runs/b", dead)
    live = _scratch_of(tmp_path, "/runs/c", owner_tag())
    assert cleanup_orphans(run="/runs/a") >= 1
    assert not gone_a.exists() and gone_b.exists() and live.exists()
    assert cleanup_orphans() >= 1
    assert not gone_b.exists() and live.exists()
    unrelated = tmp_path / "hgm-run-notours"
    unrelated.mkdir()
    cleanup_orphans()
    assert unrelated.exists(), "a directory without an owner file is not ours to remove"


def _containers(**labels: str) -> dict[str, dict[str, str]]:
    from hgm.sandboxes.image import docker_client

    client = docker_client()
    try:
        wanted = [f"{key}={value}" for key, value in labels.items()]
        # The low-level listing: other tests' containers may vanish between a listing and a lookup.
        found = client.api.containers(all=True, filters={"label": wanted})
        return {info["Names"][0].lstrip("/"): info.get("Labels") or {} for info in found}
    finally:
        client.close()


OTHER_RUN_DIES = """
import os, sys
from pathlib import Path
from hgm.sandboxes import SandboxConfig, open_sandbox
from hgm.sandboxes.owner import set_current_run
set_current_run("/elsewhere/another-run")
box = open_sandbox(SandboxConfig(backend="docker", image=sys.argv[1]), Path(sys.argv[2]))
print(box.name, flush=True)
os._exit(0)
"""


@pytest.mark.docker
def test_resume_removes_the_killed_run_containers_and_no_one_elses(tmp_path: Path, docker_image: str):
    from hgm.sandboxes import SandboxConfig, open_sandbox

    run = (tmp_path / "run").absolute()
    args = ["run", "--world", "coding", "--sandbox", "docker", "--max-evals", "4", "--workers", "2", "-q"]
    args += ["--out", str(run), "--set", "coding.tasks=[roman_numerals, chunking]", "--set", "search.initial_evals=2"]
    proc = subprocess.Popen([sys.executable, "-m", "hgm.cli", *args], stderr=subprocess.PIPE)
    other = live = None
    try:
        deadline = time.monotonic() + 300
        while not (mine := _containers(**{"hgm.run": str(run)})) and proc.poll() is None:
            assert time.monotonic() < deadline, "no sandbox container of the run appeared"
            time.sleep(0.1)
        proc.kill()
        proc.wait()
        assert mine, f"the run ended before it could be killed: {proc.stderr.read() if proc.stderr else b''!r}"
        other = subprocess.run(
            [sys.executable, "-c", OTHER_RUN_DIES, docker_image, str(tmp_path)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        live = open_sandbox(SandboxConfig(backend="docker", image=docker_image), tmp_path)
        resumed = subprocess.run(
            [sys.executable, "-m", "hgm.cli", "resume", str(run), "-q"],
            capture_output=True,
            text=True,
            timeout=900,
        )
        assert resumed.returncode == 0, resumed.stderr
        left = _containers()
        assert not set(mine) & set(left), "the killed run's containers outlived its resume"
        assert other in left and live.name in left, "resume removed another run's or a live process's container"
        assert not root_for(run).exists()
    finally:
        proc.kill()
        if live is not None:
            live.close()
        if other:
            from hgm.sandboxes.image import docker_client

            client = docker_client()
            client.containers.get(other).remove(force=True, v=True)
            client.close()
