"""The sandbox image and the root filesystem: what they contain, and the offline build path."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hgm.sandboxes import ManagedSandbox, SandboxConfig
from hgm.sandboxes.cli import app
from hgm.sandboxes.image import OFFLINE_BASE, build_image, docker_client, image_exists
from hgm.sandboxes.rootfs import ensure_rootfs, installed_toolchains, parse_toolchains, toolchain_packages

OpenBox = Callable[..., ManagedSandbox]


@pytest.mark.parametrize("backend", ["docker", "bwrap"])
def test_image_and_rootfs_have_python_and_git_and_no_root(open_box: OpenBox, backend: str) -> None:
    box = open_box(backend)
    result = box.exec("python3 -c 'import sys; print(sys.version_info[0])' && git --version && id -u", timeout=60)
    lines = result.output.splitlines()
    assert result.returncode == 0
    assert lines[0] == "3"
    assert lines[1].startswith("git version ")
    assert lines[2] != "0"


def test_cached_rootfs_is_reused(rootfs: Path) -> None:
    said: list[str] = []
    assert ensure_rootfs(rootfs, log=said.append) == rootfs
    assert said == [f"using the root filesystem in {rootfs}"]


@pytest.mark.docker
def test_offline_build_uses_the_debootstrap_base(docker_image: str, rootfs: Path) -> None:
    said: list[str] = []
    tag = "hgm-sandbox:offline-build-test"
    client = docker_client()
    try:
        assert build_image(SandboxConfig(image=tag), offline=True, log=said.append) == tag
        assert image_exists(client, OFFLINE_BASE)
        assert any(f"on {OFFLINE_BASE}" in line for line in said)
        history = client.images.get(tag).history()
        assert client.images.get(OFFLINE_BASE).id in {layer["Id"] for layer in history}
    finally:
        client.images.remove(tag)
        client.close()


def test_cli_info_and_cleanup(docker_image: str) -> None:
    runner = CliRunner()
    info = runner.invoke(app, ["info"])
    assert info.exit_code == 0, info.output
    assert "docker engine" in info.output
    assert "answers" in info.output
    assert "docker limits" in info.output
    assert "bwrap limits" in info.output
    cleanup = runner.invoke(app, ["cleanup"])
    assert cleanup.exit_code == 0, cleanup.output
    assert cleanup.output.startswith("removed ")


def test_toolchain_names_are_checked_and_ordered() -> None:
    assert parse_toolchains("rust, go") == ("python", "go", "rust")
    assert parse_toolchains("all") == ("python", "javascript", "go", "rust", "cpp", "java")
    assert toolchain_packages(("python", "cpp")) == ("g++", "cmake", "make")
    with pytest.raises(ValueError, match="unknown toolchain"):
        parse_toolchains("python,cobol")


def test_build_refuses_an_unknown_toolchain() -> None:
    result = CliRunner().invoke(app, ["build", "--toolchains", "python,cobol"])
    assert result.exit_code == 2
    assert "unknown toolchain(s) cobol; known: python, javascript, go, rust, cpp, java (or all)" in result.output


@pytest.mark.timeout(1800)  # may build the toolchains' root filesystem and image first
def test_toolchain_rootfs_and_image_hold_every_toolchain(toolchain_rootfs: Path, toolchain_image: str) -> None:
    assert installed_toolchains(toolchain_rootfs) == ("python", "javascript", "go", "rust", "cpp", "java")
    client = docker_client()
    try:
        labels = client.images.get(toolchain_image).labels
    finally:
        client.close()
    assert labels["hgm.toolchains"] == "python,javascript,go,rust,cpp,java"
