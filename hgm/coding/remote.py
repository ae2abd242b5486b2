"""The coding world on a Ray node: sandboxes run there, models and the archive stay on the head.

The head grants each job what it needs and nothing more: gateway tokens scoped to the node, the purpose and the
model alias (accepted over TCP, revoked when the job returns), and for a self-modification the evidence files of
the task it will diagnose. On the node a relay serves the sandbox's unix socket and forwards each connection to
the head's gateway, which holds the provider keys, meters every call and enforces the budgets before forwarding.
Costs are taken on the head, from the gateway's own records, when the job's answer is settled.
"""

from __future__ import annotations

import json
import shutil
import socket
import tempfile
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from hgm.archive import WorkRow
from hgm.coding.agent import Context
from hgm.coding.evidence import clip
from hgm.config import RunConfig
from hgm.execution.remote import RemoteGrant
from hgm.gateway.core import SOCKET_NAME
from hgm.gateway.errors import GatewayError
from hgm.interfaces import Evaluation, Expansion, NodeRef

if TYPE_CHECKING:
    from hgm.coding.world import CodingWorld

EVIDENCE = ("trajectory.json", "test_results.json")
EVIDENCE_CHARS = 4_000_000
MAX_RELAYED = 32
"""Connections one relay forwards at once (a sandbox's agent makes one call at a time)."""
MAX_ANSWER = 64 * 1024 * 1024


# -- on the head ---------------------------------------------------------------------------------------------------


@contextmanager
def grant(world: CodingWorld, kind: str, node: NodeRef, arg: Any) -> Iterator[RemoteGrant]:
    """Issue the job's tokens, gather its evidence; after the job, revoke them and take its cost from the meter."""
    ctx = world.ctx
    gateway, meter = ctx.gateway, ctx.meter
    tokens: dict[str, str] = {}
    try:
        if kind == "evaluate":
            purpose = f"evaluate:{arg}"
            tokens[purpose] = gateway.issue_token(node.id, purpose, models=("agent",), transports=("tcp",))

            def settle_evaluation(result: Evaluation) -> Evaluation:
                unreachable = meter.take_unreachable(node.id, purpose)
                error = result.error or (f"model unreachable: {unreachable}" if unreachable else "")
                success = result.success and not error
                return replace(result, success=success, error=error, cost=result.cost + meter.take(node.id, purpose))

            yield RemoteGrant({"tokens": tokens}, settle_evaluation)
            return
        child = int(arg)
        for role in ("diagnosis", "selfmod"):
            tokens[role] = gateway.issue_token(child, role, models=(role,), transports=("tcp",))
        rows = ctx.archive.work(node=node.id, kind="evaluate", status="done")
        evidence: dict[str, dict[str, str]] = {}
        for task in sorted({row.task for row in rows if row.task}):
            folder = ctx.archive.node_dir(node.id) / "evals" / task
            # Files hgm wrote from bounded exports; still clipped, as the prompt clips them again.
            evidence[task] = {name: clip(_read(folder / name), EVIDENCE_CHARS) for name in EVIDENCE}

        def settle_expansion(result: Expansion) -> Expansion:
            cost = meter.take(child, "diagnosis") + meter.take(child, "selfmod")
            return replace(result, cost=result.cost + cost)

        yield RemoteGrant({"tokens": tokens, "rows": rows, "evidence": evidence}, settle_expansion)
    finally:
        for token in tokens.values():
            gateway.revoke(token)


def _read(path: Path) -> str:
    try:
        with path.open("rb") as f:
            return f.read(EVIDENCE_CHARS + 1).decode("utf-8", errors="replace")
    except OSError:
        return ""


# -- on the node ---------------------------------------------------------------------------------------------------


@dataclass
class RemoteCodingWorld:
    """The picklable part of the coding world that Ray ships to each node once."""

    config: RunConfig
    tasks: list[str]
    gateway_url: str

    def check(self) -> str:
        """Why this node cannot open the run's sandboxes, or ''."""
        from hgm.sandboxes import resolve_backend
        from hgm.sandboxes.registry import SandboxUnavailable

        try:
            backend = resolve_backend(self.config.coding.sandbox.backend)
        except SandboxUnavailable as e:
            return str(e)
        if backend == "docker":
            from hgm.sandboxes.image import docker_client, image_exists

            client = docker_client(timeout=10)
            try:
                if not image_exists(client, self.config.coding.sandbox.image):
                    return (
                        f"the sandbox image {self.config.coding.sandbox.image} is missing; "
                        "run `hgm sandbox build` on it"
                    )
            finally:
                client.close()
        if backend == "bwrap":
            from hgm.sandboxes.rootfs import rootfs_path

            if not rootfs_path().is_dir():
                return f"bwrap's root filesystem {rootfs_path()} is missing; run `hgm sandbox build` on it"
        return ""

    @contextmanager
    def _work(self, extra: dict[str, Any]) -> Iterator[Any]:
        from hgm.coding.world import CodingWork, install_scripted_models, make_benchmark
        from hgm.sandboxes import resolve_backend

        socket_dir = Path(tempfile.mkdtemp(prefix="hgm-gw-"))
        socket_dir.chmod(0o755)
        relay = Relay(socket_dir / SOCKET_NAME, self.gateway_url)
        evidence_root = Path(tempfile.mkdtemp(prefix="hgm-ev-"))
        try:
            relay.start()
            for task, files in extra.get("evidence", {}).items():
                if task not in self.tasks:
                    continue
                folder = evidence_root / "evals" / task
                folder.mkdir(parents=True)
                for name, text in files.items():
                    if name in EVIDENCE:
                        (folder / name).write_text(text, encoding="utf-8")
            coding = self.config.coding
            install_scripted_models(coding)
            sandbox_config = coding.sandbox.model_copy(update={"backend": resolve_backend(coding.sandbox.backend)})
            ctx = Context(
                self.config,
                cast(Any, NodeArchive(extra.get("rows", []), evidence_root)),
                make_benchmark(coding),
                cast(Any, RelayedGateway(self.gateway_url, extra["tokens"], relay.path)),
                cast(Any, NoMeter()),
                sandbox_config,
                socket_dir,
                list(self.tasks),
            )
            yield CodingWork(ctx)
        finally:
            relay.stop()
            shutil.rmtree(socket_dir, ignore_errors=True)
            shutil.rmtree(evidence_root, ignore_errors=True)

    def evaluate(self, node: NodeRef, task: str, cancel: threading.Event, extra: Any) -> Evaluation:
        with self._work(extra) as work:
            return work.evaluate(node, task, cancel)  # type: ignore[no-any-return]

    def expand(self, parent: NodeRef, child_id: int, dest: Path, cancel: threading.Event, extra: Any) -> Expansion:
        with self._work(extra) as work:
            return work.expand(parent, child_id, dest, cancel)  # type: ignore[no-any-return]


class NodeArchive:
    """What a self-modification reads of the archive: the parent's finished evaluations and their evidence."""

    def __init__(self, rows: list[WorkRow], root: Path) -> None:
        self.rows = rows
        self.root = root

    def work(self, *, status: str | None = None, kind: str | None = None, node: int | None = None) -> list[WorkRow]:
        return [
            row
            for row in self.rows
            if (status is None or row.status == status)
            and (kind is None or row.kind == kind)
            and (node is None or row.node == node)
        ]

    def node_dir(self, node_id: int) -> Path:
        return self.root


class NoMeter:
    """Costs are taken on the head, where the gateway records them."""

    def take(self, node_id: int | None, purpose: str) -> float:
        return 0.0

    def take_unreachable(self, node_id: int | None, purpose: str) -> str:
        return ""


class RelayedGateway:
    """The gateway as the coding world sees it, on a node: the tokens the head granted, calls over TCP to the head."""

    def __init__(self, url: str, tokens: dict[str, str], socket_path: Path) -> None:
        self.url = url
        self.tokens = tokens
        self.socket_path = socket_path

    def issue_token(self, node_id: int | None, purpose: str, **_: Any) -> str:
        try:
            return self.tokens[purpose]
        except KeyError:
            raise GatewayError(403, "no_grant", f"the head granted this job no token for {purpose}") from None

    def revoke(self, token: str) -> None:
        """The head revokes its tokens when the job returns."""

    def complete(self, token: str, request: dict[str, Any]) -> dict[str, Any]:
        body = json.dumps(request).encode()
        http = urllib.request.Request(
            f"{self.url}/v1/chat/completions",
            data=body,
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(http, timeout=3600) as response:
                return json.loads(response.read(MAX_ANSWER))  # type: ignore[no-any-return]
        except urllib.error.HTTPError as e:
            try:
                error = json.loads(e.read(MAX_ANSWER))["error"]
                raise GatewayError(e.code, str(error.get("code")), str(error.get("message"))) from None
            except (ValueError, KeyError, TypeError, AttributeError):
                raise GatewayError(e.code, "gateway_error", f"the head's gateway answered {e.code}") from None
        except (urllib.error.URLError, OSError) as e:
            raise GatewayError(502, "gateway_unreachable", f"the head's gateway at {self.url}: {e}") from None


class Relay:
    """A unix socket on the node, mounted into sandboxes, whose connections are piped to the head's gateway."""

    def __init__(self, path: Path, url: str) -> None:
        self.path = path
        host, _, port = url.removeprefix("http://").rpartition(":")
        self.target = (host.strip("[]"), int(port))
        self._server: socket.socket | None = None
        self._slots = threading.BoundedSemaphore(MAX_RELAYED)
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()

    def start(self) -> None:
        server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        server.bind(str(self.path))
        self.path.chmod(0o666)
        server.listen(MAX_RELAYED)
        self._server = server
        threading.Thread(target=self._accept, args=(server,), daemon=True, name="hgm-relay").start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        with self._lock:
            for conn in self._open:
                _shut(conn)
            self._open.clear()

    def _accept(self, server: socket.socket) -> None:
        while True:
            try:
                client, _ = server.accept()
            except OSError:
                return
            if not self._slots.acquire(blocking=False):
                client.close()
                continue
            threading.Thread(target=self._pipe, args=(client,), daemon=True).start()

    def _pipe(self, client: socket.socket) -> None:
        try:
            upstream = socket.create_connection(self.target, timeout=30)
        except OSError:
            client.close()
            self._slots.release()
            return
        upstream.settimeout(None)
        with self._lock:
            self._open.update((client, upstream))
        back = threading.Thread(target=_copy, args=(upstream, client), daemon=True)
        back.start()
        _copy(client, upstream)
        back.join()
        with self._lock:
            self._open.difference_update((client, upstream))
        client.close()
        upstream.close()
        self._slots.release()


def _copy(src: socket.socket, dst: socket.socket) -> None:
    try:
        while data := src.recv(65536):
            dst.sendall(data)
    except OSError:
        pass
    finally:
        _shut(dst, socket.SHUT_WR)


def _shut(conn: socket.socket, how: int = socket.SHUT_RDWR) -> None:
    with suppress(OSError):
        conn.shutdown(how)
