"""Fixtures that open real sandboxes: docker needs a running engine, bwrap needs bubblewrap (missing ones fail)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from hgm.sandboxes import ManagedSandbox, SandboxConfig, bwrap_problem, open_sandbox

ISOLATED = [
    pytest.param("docker", marks=pytest.mark.docker),
    pytest.param("bwrap", marks=pytest.mark.bwrap),
    pytest.param("bwrap-host", marks=pytest.mark.bwrap),
]
ALL = [*ISOLATED, "local"]


def backend_config(request: pytest.FixtureRequest, backend: str, **overrides: Any) -> SandboxConfig:
    """A config for one of the test backends, preparing what it needs."""
    if backend == "docker":
        return SandboxConfig(backend="docker", image=request.getfixturevalue("docker_image"), **overrides)
    if backend == "bwrap":
        return SandboxConfig(backend="bwrap", rootfs=str(request.getfixturevalue("rootfs")), **overrides)
    if backend == "bwrap-host":
        if bwrap_problem():
            pytest.fail(f"bwrap sandbox tests need bubblewrap: {bwrap_problem()}", pytrace=False)
        return SandboxConfig(backend="bwrap", rootfs="host", **overrides)
    return SandboxConfig(backend="local", **overrides)


@pytest.fixture(params=ALL)
def any_backend(request: pytest.FixtureRequest) -> str:
    """Each test backend in turn, the unisolated local one included."""
    return str(request.param)


@pytest.fixture(params=ISOLATED)
def isolated_backend(request: pytest.FixtureRequest) -> str:
    """Each backend that claims isolation in turn."""
    return str(request.param)


@pytest.fixture
def planted_secrets(
    request: pytest.FixtureRequest, isolated_backend: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> str:
    """Provider keys in the host environment and in a file under a temporary HOME; returns the secret."""
    backend_config(request, isolated_backend)  # prepare image and rootfs while HOME is still the real one
    secret = f"sk-test-secret-{uuid.uuid4().hex}"
    home = tmp_path / "home"
    home.mkdir()
    (home / ".env").write_text(f"OPENAI_API_KEY={secret}\n")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("OPENAI_API_KEY", secret)
    monkeypatch.setenv("ANTHROPIC_API_KEY", secret)
    return secret


@pytest.fixture
def open_box(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[..., ManagedSandbox]]:
    """Open sandboxes of a named test backend; all are closed after the test."""
    opened: list[ManagedSandbox] = []

    def make(
        backend: str,
        workspace: Path | None = None,
        *,
        mounts: dict[str, str] | None = None,
        env: dict[str, str] | None = None,
        secrets: dict[str, str] | None = None,
        **overrides: Any,
    ) -> ManagedSandbox:
        config = backend_config(request, backend, **overrides)
        if workspace is None:
            workspace = tmp_path / f"ws{len(opened)}"
            workspace.mkdir()
        box = open_sandbox(
            config, workspace, mounts=mounts, env=env, secrets=secrets, label=f"test-{request.node.name}"
        )
        opened.append(box)
        return box

    yield make
    for box in opened:
        box.close()
