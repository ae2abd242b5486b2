"""Real bwrap sandboxes for the benchmark adapters' tests (a machine without bubblewrap fails them)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from hgm.sandboxes import ManagedSandbox, SandboxConfig, bwrap_problem, open_sandbox

OpenSandbox = Callable[..., ManagedSandbox]

# Benchmark fixtures hold exercises whose test files pytest would otherwise collect.
collect_ignore = ["fixtures"]


@pytest.fixture
def bwrap(tmp_path: Path) -> Iterator[OpenSandbox]:
    """Open bwrap sandboxes on a workspace directory; all are closed after the test."""
    problem = bwrap_problem()
    if problem:
        pytest.fail(f"benchmark tests need bubblewrap sandboxes: {problem}", pytrace=False)
    opened: list[ManagedSandbox] = []

    def make(workspace: Path, *, mounts: dict[str, str] | None = None, **overrides: Any) -> ManagedSandbox:
        box = open_sandbox(SandboxConfig(backend="bwrap", **overrides), workspace, mounts=mounts)
        opened.append(box)
        return box

    yield make
    for box in opened:
        box.close()
