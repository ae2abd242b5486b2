"""A throwaway Ray cluster on this machine's loopback, for the tests and benchmarks: a head and worker nodes, each
`ray start --block` in its own process group, small CPU and object-store sizes, stopped by the ids it started."""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

RAY = str(Path(sys.executable).with_name("ray"))
OBJECT_STORE = 200 * 1024 * 1024
HEAD_IP = "127.0.0.2"
PR_SET_PDEATHSIG = 1
# Loaded here, not in the forked child, where loading a library could wait for a lock another thread held.
_LIBC = ctypes.CDLL(None, use_errno=True) if sys.platform.startswith("linux") else None


def _stop_with_parent() -> None:
    """In the child before exec: SIGTERM when the process that started the node dies without stopping it.

    Ray ends a driver whose cluster goes away with os._exit, so a test's clean-up cannot be relied on alone.
    """
    if _LIBC is not None:
        _LIBC.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class RayNode:
    proc: subprocess.Popen[bytes]
    log: Path
    resources: dict[str, float]

    def kill(self) -> None:
        """The whole node dies at once, as a machine that loses power: SIGKILL to its process group."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=30)

    def stop(self) -> None:
        """`ray start --block` stops the node's processes on SIGTERM; the group is killed if it does not."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=20)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)


@dataclass
class RayCluster:
    root: Path
    address: str = ""
    nodes: list[RayNode] = field(default_factory=list)

    def _start(self, args: list[str], resources: dict[str, float], num_cpus: float, name: str, ip: str) -> RayNode:
        log = self.root / f"{name}.log"
        argv = [
            RAY, "start", "--block", "--disable-usage-stats",
            f"--num-cpus={int(num_cpus)}", f"--object-store-memory={OBJECT_STORE}",
            f"--resources={json.dumps(resources)}",
            # Ray replaces 127.0.0.1 by the machine's outward address; other loopback addresses stay as given.
            f"--node-ip-address={ip}",
            f"--dashboard-agent-listen-port={free_port()}",
            f"--metrics-export-port={free_port()}",
            *args,
        ]  # fmt: skip
        env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0"}
        with open(log, "wb") as out:
            proc = subprocess.Popen(
                argv,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                env=env,
                preexec_fn=_stop_with_parent,
            )
        node = RayNode(proc, log, resources)
        self.nodes.append(node)
        return node

    def start_head(self, num_cpus: float, resources: dict[str, float]) -> RayNode:
        port = free_port()
        self.address = f"{HEAD_IP}:{port}"
        return self._start(
            [
                "--head",
                f"--port={port}",
                "--include-dashboard=false",
                f"--temp-dir={self.root / 'head'}",
            ],  # fmt: skip
            resources,
            num_cpus,
            "head",
            HEAD_IP,
        )

    def add_worker(self, num_cpus: float, resources: dict[str, float]) -> RayNode:
        name = f"worker{len(self.nodes)}"
        ip = f"127.0.0.{2 + len(self.nodes)}"
        return self._start(
            [f"--address={self.address}", f"--temp-dir={self.root / name}"], resources, num_cpus, name, ip
        )

    def wait_alive(self, count: int, timeout: float = 120.0) -> None:
        """Until `ray status`-equivalent shows `count` live nodes (asked through a throwaway driver)."""
        code = (
            "import ray,sys; ray.init(address=sys.argv[1], _node_ip_address=sys.argv[2], logging_level='ERROR', "
            "log_to_driver=False); "
            "print(sum(n['Alive'] for n in ray.nodes()))"
        )
        deadline = time.monotonic() + timeout
        last = ""
        while time.monotonic() < deadline:
            for node in self.nodes:
                if node.proc.poll() is not None:
                    raise RuntimeError(f"a Ray node exited: {node.log.read_text()[-3000:]}")
            try:
                proc = subprocess.run(
                    [sys.executable, "-c", code, self.address, HEAD_IP],
                    capture_output=True,
                    text=True,
                    timeout=60,
                    check=False,
                )
            except subprocess.TimeoutExpired:
                last = "no answer in 60 s"
                continue
            last = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else proc.stderr[-2000:]
            if last.isdigit() and int(last) >= count:
                return
            time.sleep(1)
        raise RuntimeError(f"the Ray cluster did not reach {count} live nodes: {last}")

    def wait_listening(self, head: RayNode, timeout: float = 120.0) -> None:
        """Until the head's GCS port accepts connections: a driver started before that waits for a long time."""
        host, _, port = self.address.rpartition(":")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if head.proc.poll() is not None:
                raise RuntimeError(f"the Ray head exited: {head.log.read_text()[-3000:]}")
            try:
                with socket.create_connection((host, int(port)), timeout=2):
                    return
            except OSError:
                time.sleep(0.5)
        raise RuntimeError(f"the Ray head did not listen on {self.address} within {timeout:.0f}s")

    def stop(self) -> None:
        for node in reversed(self.nodes):
            node.stop()


def start_cluster(workers: list[tuple[float, dict[str, float]]], head: tuple[float, dict[str, float]]) -> RayCluster:
    # Short paths: Ray puts unix sockets below its temp dir, and socket paths are limited to about 100 bytes.
    root = Path(tempfile.mkdtemp(prefix="hgmray-", dir="/tmp"))
    cluster = RayCluster(root)
    try:
        head_node = cluster.start_head(*head)
        cluster.wait_listening(head_node)
        for num_cpus, resources in workers:
            cluster.add_worker(num_cpus, resources)
        cluster.wait_alive(1 + len(workers))
    except BaseException:
        cluster.stop()
        shutil.rmtree(root, ignore_errors=True)
        raise
    return cluster
