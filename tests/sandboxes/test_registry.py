"""Backend choice, docker settings, and removal of sandboxes that dead processes left behind."""

from __future__ import annotations

import logging
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from hgm.sandboxes import (
    ManagedSandbox,
    SandboxConfig,
    SandboxError,
    cleanup_orphans,
    open_sandbox,
    resolve_backend,
)
from hgm.sandboxes.docker_sandbox import DockerSandbox
from hgm.sandboxes.image import docker_client

OpenBox = Callable[..., ManagedSandbox]


def test_auto_prefers_docker_when_an_engine_answers(docker_image: str) -> None:
    assert resolve_backend("auto") == "docker"
    assert resolve_backend("bwrap") == "bwrap"
    assert resolve_backend("local") == "local"


def test_unknown_backend_is_an_error() -> None:
    with pytest.raises(ValueError, match="unknown sandbox backend 'podman'"):
        resolve_backend("podman")


def test_config_rejects_unknown_keys() -> None:
    with pytest.raises(ValueError, match="memroy_mb"):
        SandboxConfig.model_validate({"memroy_mb": 10})


def test_local_backend_warns(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING), open_sandbox(SandboxConfig(backend="local"), tmp_path) as box:
        assert box.exec("echo hi", timeout=30).output == "hi\n"
    assert "does not isolate" in caplog.text


@pytest.mark.docker
def test_docker_container_has_the_configured_limits(open_box: OpenBox) -> None:
    box = open_box("docker", cpus=0.5, memory_mb=300, pids=99)
    assert isinstance(box, DockerSandbox)
    client = docker_client()
    try:
        attrs = client.containers.get(box.name).attrs
    finally:
        client.close()
    host = attrs["HostConfig"]
    assert host["NanoCpus"] == 500_000_000
    assert host["Memory"] == host["MemorySwap"] == 300 * 1024 * 1024
    assert host["PidsLimit"] == 99
    assert host["ReadonlyRootfs"] is True
    assert host["NetworkMode"] == "none"
    assert host["CapDrop"] == ["ALL"]
    assert attrs["Config"]["Labels"]["hgm.sandbox"] == "1"
    assert box.exec("id -u", timeout=30).output == "1000\n"


@pytest.mark.docker
def test_cleanup_removes_only_sandboxes_of_dead_processes(open_box: OpenBox, docker_image: str, tmp_path: Path) -> None:
    live = open_box("docker")
    assert isinstance(live, DockerSandbox)
    crash = (
        "import os, sys\n"
        "from pathlib import Path\n"
        "from hgm.sandboxes import SandboxConfig, open_sandbox\n"
        f"d = open_sandbox(SandboxConfig(backend='docker', image={docker_image!r}), Path({str(tmp_path)!r}))\n"
        f"b = open_sandbox(SandboxConfig(backend='bwrap', rootfs='host'), Path({str(tmp_path)!r}))\n"
        "print(d.name, flush=True)\n"
        "os._exit(0)\n"
    )
    orphan = subprocess.run([sys.executable, "-c", crash], capture_output=True, text=True, check=True).stdout.strip()
    client = docker_client()
    try:
        names = {c.name for c in client.containers.list(all=True)}
        assert {orphan, live.name} <= names
        assert cleanup_orphans() >= 2
        names = {c.name for c in client.containers.list(all=True)}
    finally:
        client.close()
    assert orphan not in names
    assert live.name in names
    assert live.exec("echo alive", timeout=30).output == "alive\n"


@pytest.mark.docker
def test_timeout_restarts_the_container_when_nothing_can_be_started_inside(
    open_box: OpenBox, monkeypatch: pytest.MonkeyPatch
) -> None:
    import docker.errors

    box = open_box("docker")
    assert isinstance(box, DockerSandbox)
    box.exec("echo kept > file", timeout=30)

    def no_room(*_args: object, **_kwargs: object) -> int:
        raise docker.errors.APIError("pids limit reached")

    monkeypatch.setattr(box, "_run_detached", no_room)
    result = box.exec("sleep 300", timeout=1)
    monkeypatch.undo()
    assert result.timed_out is True
    assert "the sandbox was restarted" in result.output
    after = box.exec("cat file; cat /proc/[0-9]*/cmdline | tr '\\0' ' '", timeout=30).output
    assert after.startswith("kept\n")
    assert "sleep infinity" in after
    assert "sleep 300" not in after


@pytest.mark.bwrap
def test_bwrap_setup_failure_is_a_sandbox_error(open_box: OpenBox, tmp_path: Path) -> None:
    box = open_box("bwrap-host", mounts={str(tmp_path): "/proc/hgm"})
    with pytest.raises(SandboxError, match="could not set up the sandbox"):
        box.exec("true", timeout=30)


@pytest.mark.bwrap
def test_vanished_mount_source_is_a_sandbox_error(open_box: OpenBox, tmp_path: Path) -> None:
    gone = tmp_path / "gone"
    gone.mkdir()
    box = open_box("bwrap", mounts={str(gone): "/run/hgm"})
    gone.rmdir()
    with pytest.raises(SandboxError, match="could not set up the sandbox"):
        box.exec("true", timeout=30)
