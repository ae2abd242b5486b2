"""Fixtures shared by every test folder: the sandbox image and root filesystem, built once when missing."""

from __future__ import annotations

from pathlib import Path

import pytest

from hgm.sandboxes import SandboxConfig, bwrap_problem, docker_problem


@pytest.fixture(scope="session")
def docker_image() -> str:
    """The sandbox image, built once if the engine does not have it."""
    from hgm.sandboxes.image import build_image, docker_client, image_exists

    problem = docker_problem()
    if problem:
        pytest.fail(f"docker sandbox tests need a running Docker engine: {problem}", pytrace=False)
    config = SandboxConfig()
    client = docker_client()
    try:
        present = image_exists(client, config.image)
    finally:
        client.close()
    if not present:
        build_image(config, log=lambda line: None)
    return config.image


@pytest.fixture(scope="session")
def rootfs() -> Path:
    """The debootstrap root filesystem bwrap uses, made once if missing."""
    from hgm.sandboxes.rootfs import ensure_rootfs

    problem = bwrap_problem()
    if problem:
        pytest.fail(f"bwrap sandbox tests need bubblewrap: {problem}", pytrace=False)
    return ensure_rootfs(log=lambda line: None)


ALL_TOOLCHAINS = ("python", "javascript", "go", "rust", "cpp", "java")
TOOLCHAIN_IMAGE = "hgm-sandbox:test-toolchains"


@pytest.fixture(scope="session")
def toolchain_rootfs() -> Path:
    """A root filesystem with all six Polyglot toolchains from Debian's archive, made once if missing."""
    from hgm.sandboxes.rootfs import ensure_rootfs

    problem = bwrap_problem()
    if problem:
        pytest.fail(f"bwrap sandbox tests need bubblewrap: {problem}", pytrace=False)
    return ensure_rootfs(log=lambda line: None, toolchains=ALL_TOOLCHAINS)


@pytest.fixture(scope="session")
def toolchain_image(toolchain_rootfs: Path) -> str:
    """A sandbox image with all six toolchains, built offline on that root filesystem once if missing."""
    from hgm.sandboxes.image import build_image, docker_client, image_exists

    problem = docker_problem()
    if problem:
        pytest.fail(f"docker sandbox tests need a running Docker engine: {problem}", pytrace=False)
    client = docker_client()
    try:
        present = image_exists(client, TOOLCHAIN_IMAGE)
    finally:
        client.close()
    if not present:
        build_image(
            SandboxConfig(image=TOOLCHAIN_IMAGE), offline=True, log=lambda line: None, toolchains=ALL_TOOLCHAINS
        )
    return TOOLCHAIN_IMAGE
