"""The `ray` executor: expansions and evaluations run as Ray tasks on the cluster's nodes; the head keeps the rest.

What travels to a node: the world's portable part (once), the node's source as a tar of its lineage commit, the
task id or child id, and whatever the world grants the job on the head (gateway tokens, evidence). What comes
back: the world's verdict with artefacts clipped to a size, and for an expansion the child's files as a tar that
the head reads through the same bounded parser as a sandbox export. The archive is written only by the head.
"""

from __future__ import annotations

import io
import logging
import os
import signal
import socket
import tarfile
import threading
import time
from collections import Counter
from contextlib import nullcontext
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hgm.config import ConfigError
from hgm.execution.remote import RemoteGrant, Shipped, run_remote
from hgm.interfaces import Evaluation, Expansion, NodeRef, World
from hgm.sandboxes.export import ExportLimits, read_tar_stream

if TYPE_CHECKING:
    from hgm.config import ExecutionConfig

log = logging.getLogger("hgm.execution")

MiB = 1024 * 1024
INSTALL_HINT = "pip install 'hgm[ray]'"
POLL = 0.2
CONNECT_TIMEOUT = 10.0


@dataclass(frozen=True)
class Placement:
    """Where one job ran: the Ray node id and its address."""

    node_id: str
    address: str


def _ray() -> Any:
    try:
        import ray
    except ImportError:
        raise ConfigError(f"the ray executor needs Ray, which is not installed: {INSTALL_HINT}") from None
    return ray


def source_tar(source: Path) -> bytes:
    """A node's checked-out source as tar bytes (written by hgm from the lineage, so trusted)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.GNU_FORMAT) as tar:
        for path in sorted(source.rglob("*")):
            if path.is_file() and not path.is_symlink():
                tar.add(path, arcname=str(path.relative_to(source)), recursive=False)
    return buffer.getvalue()


class RayExecutor:
    """Runs each piece of work as one Ray task; node failures are retried on other nodes, then reported."""

    def __init__(self, config: ExecutionConfig, world: World) -> None:
        ray = _ray()
        self.ray = ray
        self.config = config
        self.address = config.ray_address or os.environ.get("RAY_ADDRESS") or "auto"
        portable = getattr(world, "portable", None)
        if portable is None:
            raise ConfigError(f"the {type(world).__name__} world cannot run on Ray (it has no portable part)")
        self.sandboxes = bool(getattr(world, "uses_sandboxes", False))
        self.placements: Counter[Placement] = Counter()
        self.retried = 0
        self._lock = threading.Lock()
        self._connect()
        try:
            self._portable = ray.put(portable())
            resources = {"sandbox": 1.0} if self.sandboxes else {}
            self._remote = ray.remote(run_remote).options(
                num_cpus=config.cpus_per_job,
                resources=resources,
                max_retries=0,
                scheduling_strategy="SPREAD",
            )
            if self.sandboxes:
                self._check_nodes(world)
        except BaseException:
            # A driver left connected would be ended by Ray when the cluster goes away, with its whole process.
            self.close()
            raise

    # -- connection and checks ---------------------------------------------------------------------------------

    def _connect(self) -> None:
        ray = self.ray
        # ray.init replaces the SIGTERM handler; the engine's own (installed before) must stay in charge.
        previous = signal.getsignal(signal.SIGTERM)
        extra: dict[str, Any] = {}
        host, _, port = self.address.rpartition(":")
        if port.isdigit():
            reachable(host, int(port), self.address)
            if host.startswith("127."):
                # A cluster on this machine's loopback (the tests): the driver joins it as the node at that address.
                extra["_node_ip_address"] = host
        try:
            if not ray.is_initialized():
                ray.init(
                    address=self.address,
                    namespace="hgm",
                    logging_level=logging.WARNING,
                    log_to_driver=False,
                    **extra,
                )
        except (ConnectionError, RuntimeError, ValueError) as e:
            raise ConfigError(
                f"cannot reach the Ray cluster at {self.address}: {_first_line(e)}; start one with `ray start --head` "
                "and pass its address with --ray-address HOST:PORT (or set execution.ray_address)"
            ) from None
        finally:
            if threading.current_thread() is threading.main_thread() and previous is not None:
                signal.signal(signal.SIGTERM, previous)
        if not any(node["Alive"] for node in ray.nodes()):
            self.close()
            raise ConfigError(f"the Ray cluster at {self.address} has no live node")

    def _check_nodes(self, world: World) -> None:
        """Every live node offering the `sandbox` resource must be able to open the world's sandboxes."""
        ray = self.ray
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        nodes = [n for n in ray.nodes() if n["Alive"] and n["Resources"].get("sandbox", 0) > 0]
        if not nodes:
            raise ConfigError(
                f"no node of the Ray cluster at {self.address} offers the `sandbox` resource; start each worker with "
                "`ray start --address HEAD:PORT --resources '{\"sandbox\": N}'` (N: sandboxes it can run at once)"
            )
        probe = ray.remote(_probe)
        refs = {
            n["NodeManagerAddress"] + f" ({n['NodeID'][:12]})": probe.options(
                num_cpus=0,
                max_retries=0,
                scheduling_strategy=NodeAffinitySchedulingStrategy(n["NodeID"], soft=False),
            ).remote(self._portable)
            for n in nodes
        }
        for name, ref in refs.items():
            try:
                problem = ray.get(ref, timeout=self.config.check_timeout)
            except Exception as e:  # noqa: BLE001 - any failure of the probe is the node's problem, named below
                problem = _first_line(e)
            if problem:
                raise ConfigError(f"Ray node {name} cannot run this world's sandboxes: {problem}")

    # -- the protocol ------------------------------------------------------------------------------------------

    def expand(self, world: World, parent: NodeRef, child_id: int, dest: Path, cancel: threading.Event) -> Expansion:
        with self._grant(world, "expand", parent, child_id) as grant:
            shipped = self._run("expand", parent, child_id, grant, cancel)
            if shipped is None:
                return Expansion(ok=False, reason="cancelled")
            result = shipped.result
            assert isinstance(result, Expansion)
            if result.ok:
                limits = ExportLimits(
                    max_total_bytes=self.config.max_result_bytes, max_file_bytes=self.config.max_result_bytes
                )
                child = read_tar_stream([shipped.child], limits)
                if not child.complete:
                    result = replace(result, ok=False, reason=f"the child came back incomplete: {child.notes[:3]}")
                else:
                    child.write_into(dest)
            return grant.settle(result) if grant is not None else result

    def evaluate(self, world: World, node: NodeRef, task: str, cancel: threading.Event) -> Evaluation:
        with self._grant(world, "evaluate", node, task) as grant:
            shipped = self._run("evaluate", node, task, grant, cancel)
            if shipped is None:
                return Evaluation(False, error="cancelled")
            assert isinstance(shipped.result, Evaluation)
            return grant.settle(shipped.result) if grant is not None else shipped.result

    def close(self) -> None:
        if self.ray.is_initialized():
            self.ray.shutdown()

    # -- one job -----------------------------------------------------------------------------------------------

    def _grant(self, world: World, kind: str, node: NodeRef, arg: Any) -> Any:
        grant = getattr(world, "remote_grant", None)
        return grant(kind, node, arg) if grant is not None else nullcontext(None)

    def _run(self, kind: str, node: NodeRef, arg: Any, grant: RemoteGrant | None, cancel: threading.Event) -> Any:
        ray = self.ray
        source = ray.put(source_tar(node.source))
        extra = grant.extra if grant is not None else None
        attempts = self.config.node_retries + 1
        for attempt in range(1, attempts + 1):
            ref = self._remote.remote(
                self._portable, kind, node.id, node.parent, source, arg, extra, self.config.max_result_bytes
            )
            try:
                shipped = self._wait(ref, cancel)
            except ray.exceptions.RayTaskError as e:
                # The world's own code raised on the node: no infrastructure fault, the engine records it.
                raise RuntimeError(f"{kind} failed on a Ray node: {_first_line(e.cause or e)}") from None
            except ray.exceptions.TaskCancelledError:
                return None
            except ray.exceptions.RayError as e:
                # The node or its worker died, or the object was lost: run the whole job again elsewhere.
                with self._lock:
                    self.retried += 1
                log.warning("%s of node %s lost on Ray (attempt %d of %d): %s", kind, node.id, attempt, attempts, e)
                if attempt == attempts:
                    raise InfrastructureError(f"{kind} lost {attempts} times on Ray: {_first_line(e)}") from None
                continue
            if shipped is None:
                return None
            assert isinstance(shipped, Shipped)
            artefacts = sum(len(text) for text in shipped.result.artefacts.values())
            if len(shipped.child) > self.config.max_result_bytes or artefacts > 2 * self.config.max_result_bytes:
                raise InfrastructureError(
                    f"a Ray node sent back more than asked: {len(shipped.child)} bytes of child source and "
                    f"{artefacts} characters of artefacts (limit {self.config.max_result_bytes})"
                )
            with self._lock:
                self.placements[Placement(shipped.node_id, shipped.address)] += 1
            return shipped
        return None

    def _wait(self, ref: Any, cancel: threading.Event) -> Shipped | None:
        ray = self.ray
        while True:
            ready, _ = ray.wait([ref], timeout=POLL)
            if ready:
                return ray.get(ref)  # type: ignore[no-any-return]
            if cancel.is_set():
                # A KeyboardInterrupt in the task: the world's own clean-up (sandboxes) runs on the node.
                ray.cancel(ref, force=False)
                return None


class InfrastructureError(RuntimeError):
    """Work that could not be run on the cluster (not a verdict on the agent)."""


def reachable(host: str, port: int, address: str) -> None:
    """Fail fast, naming the address, where ray.init would wait a long time for a head that is not there."""
    try:
        with socket.create_connection((host.strip("[]"), port), timeout=CONNECT_TIMEOUT):
            pass
    except OSError as e:
        raise ConfigError(
            f"cannot reach the Ray cluster at {address}: {e.strerror or e}; is `ray start --head` running there, "
            "and is the port open to this machine?"
        ) from None


def _probe(portable: Any) -> str:
    check = getattr(portable, "check", None)
    return str(check()) if check is not None else ""


def _first_line(e: BaseException) -> str:
    text = str(e).strip() or type(e).__name__
    return text.splitlines()[0][:500] if text else type(e).__name__


def wait_for_nodes(ray: Any, count: int, timeout: float = 60.0) -> None:
    """Block until the cluster has `count` live nodes (for set-up scripts and tests)."""
    deadline = time.monotonic() + timeout
    while sum(1 for n in ray.nodes() if n["Alive"]) < count:
        if time.monotonic() > deadline:
            raise TimeoutError(f"the Ray cluster did not reach {count} live nodes in {timeout:.0f}s")
        time.sleep(0.5)
