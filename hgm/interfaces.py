"""The small protocols the engine, worlds, sandboxes and benchmarks meet at."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from hgm.sandboxes.export import Export, ExportLimits


@dataclass(frozen=True)
class NodeRef:
    """A node as a world sees it: its id, its parent and a private checkout of its source."""

    id: int
    parent: int | None
    source: Path


@dataclass
class Expansion:
    """What one self-modification attempt produced; the child's source is written to the `dest` given."""

    ok: bool
    reason: str = ""
    cost: float = 0.0
    artefacts: dict[str, str] = field(default_factory=dict)
    true_quality: float | None = None


@dataclass
class Evaluation:
    """One task's verdict. `error` marks an infrastructure failure rather than a wrong answer."""

    success: bool
    cost: float = 0.0
    artefacts: dict[str, str] = field(default_factory=dict)
    error: str = ""


class World(Protocol):
    """What expanding and evaluating mean; the engine knows nothing else about agents."""

    def tasks(self) -> list[str]: ...

    def write_seed(self, dest: Path) -> float | None:
        """Write the root's source into `dest`; return its hidden true quality if the world knows it."""
        ...

    def expand(self, parent: NodeRef, child_id: int, dest: Path, cancel: threading.Event) -> Expansion: ...

    def evaluate(self, node: NodeRef, task: str, cancel: threading.Event) -> Evaluation: ...

    def close(self) -> None: ...


@dataclass
class ExecResult:
    """Outcome of one command in a sandbox; a failing or timed-out command is a result, never an exception."""

    output: str
    returncode: int
    timed_out: bool = False


class Sandbox(Protocol):
    """An isolated place to run untrusted agent code against a writable workspace."""

    workdir: str
    # Each secret the sandbox was opened with is the file <secrets_dir>/<name>, readable by sandboxed code only.
    secrets_dir: str

    def exec(self, cmd: str, timeout: float, env: dict[str, str] | None = None) -> ExecResult: ...

    def copy_in(self, src: Path, dest: str) -> None: ...

    def export(self, src: str, limits: ExportLimits | None = None) -> Export:
        """The regular files at `src` in the workspace, bounded by `limits`: the only way bytes leave a sandbox."""
        ...

    def close(self) -> None: ...
