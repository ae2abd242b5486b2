"""What runs on a Ray node for one job, and what travels with it both ways."""

from __future__ import annotations

import io
import shutil
import socket
import tarfile
import tempfile
import threading
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

from hgm.interfaces import Evaluation, Expansion, NodeRef

ARTEFACT_NOTE = "\n[hgm: clipped on the Ray node, it was {n} bytes]"


@dataclass
class Shipped:
    """A job's answer from a node: the verdict, the child's files as tar bytes (expansions), and the node."""

    result: Expansion | Evaluation
    child: bytes = b""
    node_id: str = ""
    address: str = ""


@dataclass
class RemoteGrant:
    """What the head grants one remote job (`extra`, shipped with it) and how it settles the job's answer."""

    extra: Any = None
    settle_hook: Any = field(default=None, repr=False)

    def settle(self, result: Any) -> Any:
        return self.settle_hook(result) if self.settle_hook is not None else result


class Portable(Protocol):
    """The part of a world that runs on a node: the World's two methods plus what the head granted."""

    def expand(self, parent: NodeRef, child_id: int, dest: Path, cancel: threading.Event, extra: Any) -> Expansion: ...

    def evaluate(self, node: NodeRef, task: str, cancel: threading.Event, extra: Any) -> Evaluation: ...


class Plain:
    """A world that needs nothing from the head but its own pickled self (the simulated world)."""

    def __init__(self, world: Any) -> None:
        self.world = world

    def expand(self, parent: NodeRef, child_id: int, dest: Path, cancel: threading.Event, extra: Any) -> Expansion:
        return self.world.expand(parent, child_id, dest, cancel)  # type: ignore[no-any-return]

    def evaluate(self, node: NodeRef, task: str, cancel: threading.Event, extra: Any) -> Evaluation:
        return self.world.evaluate(node, task, cancel)  # type: ignore[no-any-return]


def clip_artefacts(artefacts: dict[str, str], limit: int) -> dict[str, str]:
    """Artefacts cut so that all of them together hold at most about `limit` characters."""
    out: dict[str, str] = {}
    left = limit
    for name, text in artefacts.items():
        if len(text) > left:
            text = text[: max(left, 0)] + ARTEFACT_NOTE.format(n=len(text))
        out[name] = text
        left -= len(text)
    return out


def _pack(root: Path) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.GNU_FORMAT) as tar:
        for path in sorted(root.rglob("*")):
            # The child's files were laid out by hgm from a bounded export: regular files only.
            if path.is_file() and not path.is_symlink():
                tar.add(path, arcname=str(path.relative_to(root)), recursive=False)
    return buffer.getvalue()


def run_remote(
    portable: Portable,
    kind: str,
    node_id: int,
    parent_id: int | None,
    source: bytes,
    arg: Any,
    extra: Any,
    max_bytes: int,
) -> Shipped:
    """Run one expansion or evaluation here, in a private scratch directory removed afterwards."""
    import ray

    scratch = Path(tempfile.mkdtemp(prefix="hgm-ray-"))
    scratch.chmod(0o755)
    try:
        src = scratch / f"node-{node_id}"
        src.mkdir()
        with tarfile.open(fileobj=io.BytesIO(source)) as tar:
            tar.extractall(src, filter="data")
        ref = NodeRef(node_id, parent_id, src)
        cancel = threading.Event()
        child = b""
        result: Expansion | Evaluation
        if kind == "expand":
            dest = scratch / "child"
            dest.mkdir()
            result = portable.expand(ref, int(arg), dest, cancel, extra)
            if result.ok:
                child = _pack(dest)
        else:
            result = portable.evaluate(ref, str(arg), cancel, extra)
        result = replace(result, artefacts=clip_artefacts(result.artefacts, max_bytes))
        context = ray.get_runtime_context()
        return Shipped(result, child, context.get_node_id(), socket.gethostname())
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
