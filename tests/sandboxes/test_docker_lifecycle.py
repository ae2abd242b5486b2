"""The docker backend's life cycle: the first command unpacks the workspace, and closing removes in the background."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import docker.errors
import pytest

from hgm.sandboxes import (
    ManagedSandbox,
    SandboxConfig,
    SandboxError,
    cleanup_orphans,
    finish_closing,
    open_sandbox,
)
from hgm.sandboxes.docker_sandbox import DockerSandbox
from hgm.sandboxes.image import docker_client

pytestmark = pytest.mark.docker

OpenBox = Callable[..., ManagedSandbox]


def _workspace(tmp_path: Path) -> Path:
    workspace = tmp_path / "ws"
    (workspace / "pkg").mkdir(parents=True)
    (workspace / "pkg" / "a.py").write_text("print('a')\n")
    return workspace


def _volume(name: str) -> str:
    client = docker_client()
    try:
        mounts = client.api.inspect_container(name)["Mounts"]
    finally:
        client.close()
    return str(next(m["Name"] for m in mounts if m["Destination"] == "/workspace"))


def _names() -> set[str]:
    client = docker_client()
    try:
        return {info["Names"][0].lstrip("/") for info in client.api.containers(all=True)}
    finally:
        client.close()


def test_a_closed_sandbox_and_its_volume_are_gone_once_removals_are_drained(docker_image: str, tmp_path: Path) -> None:
    box = open_sandbox(SandboxConfig(backend="docker", image=docker_image), _workspace(tmp_path), label="test-drain")
    assert box.exec("cat pkg/a.py", timeout=60).output == "print('a')\n"
    name, volume = box.name, _volume(box.name)
    box.close()
    box.close()  # a second close is harmless
    assert finish_closing(timeout=300)
    client = docker_client()
    try:
        with pytest.raises(docker.errors.NotFound):
            client.api.inspect_container(name)
        with pytest.raises(docker.errors.NotFound):
            client.volumes.get(volume)
    finally:
        client.close()


EXITS_AFTER_CLOSING = """
import sys
from pathlib import Path
from hgm.sandboxes import SandboxConfig, open_sandbox
box = open_sandbox(SandboxConfig(backend="docker", image=sys.argv[1]), Path(sys.argv[2]), label="test-exits")
box.exec("true", timeout=60)
box.close()
print(box.name, flush=True)
"""


def test_a_process_that_exits_normally_waits_for_its_removals(docker_image: str, tmp_path: Path) -> None:
    name = subprocess.run(
        [sys.executable, "-c", EXITS_AFTER_CLOSING, docker_image, str(_workspace(tmp_path))],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert name.startswith("hgm-test-exits-")
    assert name not in _names()


DIES_WHILE_REMOVING = """
import os, sys, threading
from pathlib import Path
from hgm.sandboxes import SandboxConfig, open_sandbox
from hgm.sandboxes import docker_sandbox
# The process dies before its removal reaches the engine.
docker_sandbox._removals._remove = lambda client, container: threading.Event().wait()
box = open_sandbox(SandboxConfig(backend="docker", image=sys.argv[1]), Path(sys.argv[2]), label="test-dies")
box.exec("true", timeout=60)
box.close()
print(box.name, flush=True)
os._exit(0)
"""


def test_cleanup_removes_what_a_process_that_died_while_removing_left(docker_image: str, tmp_path: Path) -> None:
    left = subprocess.run(
        [sys.executable, "-c", DIES_WHILE_REMOVING, docker_image, str(_workspace(tmp_path))],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert left in _names()
    cleanup_orphans()
    assert left not in _names()


def test_files_are_in_place_for_an_export_or_copy_before_any_command(open_box: OpenBox, tmp_path: Path) -> None:
    workspace = _workspace(tmp_path)
    exported = open_box("docker", workspace, secrets={"TOKEN": "t0k"}).export("pkg")
    assert exported.files == {"a.py": b"print('a')\n"}
    extra = tmp_path / "extra.txt"
    extra.write_text("more\n")
    box = open_box("docker", workspace, secrets={"TOKEN": "t0k"})
    box.copy_in(extra, "pkg/extra.txt")
    listing = box.exec(f"ls pkg; cat {box.secrets_dir}/TOKEN", timeout=60)
    assert listing.output == "a.py\nextra.txt\nt0k"


def test_files_that_do_not_fit_fail_the_first_command_which_does_not_run(open_box: OpenBox, tmp_path: Path) -> None:
    workspace = tmp_path / "big"
    workspace.mkdir()
    (workspace / "big.bin").write_bytes(bytes(24 * 1024 * 1024))
    box = open_box("docker", workspace, workspace_mb=16)
    assert isinstance(box, DockerSandbox)
    with pytest.raises(SandboxError, match="could not write files into docker sandbox .*big.bin"):
        box.exec("touch /tmp/ran", timeout=60)
    with pytest.raises(SandboxError, match="could not write files"):
        box.exec("true", timeout=60)
    client = docker_client()
    try:
        ran = client.containers.get(box.name).exec_run(["test", "-e", "/tmp/ran"])
    finally:
        client.close()
    assert ran.exit_code == 1


def test_what_a_command_writes_to_stderr_cannot_pass_for_an_unpacking_failure(
    open_box: OpenBox, tmp_path: Path
) -> None:
    box = open_box("docker", _workspace(tmp_path))
    # Whatever the command prints goes to the one output stream, never where unpacking reports.
    result = box.exec("echo 'No space left' >&2; exec 2>&-; echo done; exit 125", timeout=60)
    assert result.returncode == 125
    assert result.output == "No space left\ndone\n"
    assert box.exec("cat pkg/a.py", timeout=60).output == "print('a')\n"
