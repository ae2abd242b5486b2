"""The executor protocol: the engine hands it one piece of work at a time; it returns the world's answer."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from hgm.interfaces import Evaluation, Expansion, NodeRef, World

if TYPE_CHECKING:
    from hgm.config import ExecutionConfig


class Executor(Protocol):
    """Runs a world's expansions and evaluations somewhere; called from the engine's worker threads, blocking."""

    def expand(self, world: World, parent: NodeRef, child_id: int, dest: Path, cancel: threading.Event) -> Expansion:
        """Write the child's source into `dest` (a directory on the head) or say why there is none."""
        ...

    def evaluate(self, world: World, node: NodeRef, task: str, cancel: threading.Event) -> Evaluation: ...

    def close(self) -> None: ...


class LocalExecutor:
    """Today's behaviour: the world runs on the head, on the engine's threads."""

    def expand(self, world: World, parent: NodeRef, child_id: int, dest: Path, cancel: threading.Event) -> Expansion:
        return world.expand(parent, child_id, dest, cancel)

    def evaluate(self, world: World, node: NodeRef, task: str, cancel: threading.Event) -> Evaluation:
        return world.evaluate(node, task, cancel)

    def close(self) -> None:
        """Nothing to release."""


def make_executor(config: ExecutionConfig, world: World) -> Executor:
    """The executor a config names; `ray` connects to its cluster here, with errors that say what to do."""
    if config.executor == "local":
        return LocalExecutor()
    from hgm.execution.raycluster import RayExecutor

    return RayExecutor(config, world)
