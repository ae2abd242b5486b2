"""What isolated backends must keep in: secrets, network, processes, memory, writes; and the gateway socket way out."""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from hgm.sandboxes import ManagedSandbox
from hgm.sandboxes.bwrap_sandbox import BwrapSandbox

OpenBox = Callable[..., ManagedSandbox]

NET_PROBE = """
import socket, sys
names = [name for _, name in socket.if_nameindex()]
print("interfaces", ",".join(names))
targets = [("127.0.0.1", int(sys.argv[1]))]
# Only with nothing but loopback can a connection to an outside address provably never leave this namespace.
if names == ["lo"]:
    targets.append(("1.1.1.1", 53))
for host, port in targets:
    try:
        socket.create_connection((host, port), timeout=2).close()
        print("connected", host)
    except OSError as exc:
        print("refused", host, type(exc).__name__)
"""

FORK_BOMB = """
import os, time
forked = 0
while forked < 2000:
    try:
        pid = os.fork()
    except OSError:
        break
    if pid == 0:
        time.sleep(2)
        os._exit(0)
    forked += 1
print("forked", forked)
"""

MEMORY_HOG = """
import sys
chunks = []
for _ in range(int(sys.argv[1]) // 64):
    chunks.append(b"x" * (64 * 1024 * 1024))
print("survived", len(chunks) * 64, "MiB")
"""


def test_no_secret_is_visible_inside(open_box: OpenBox, isolated_backend: str, planted_secrets: str) -> None:
    box = open_box(isolated_backend)
    env_dump = box.exec("env; cat /proc/self/environ /proc/1/environ 2>/dev/null", timeout=30).output
    assert "PATH=" in env_dump
    assert planted_secrets not in env_dump
    assert "API_KEY" not in env_dump
    # The pattern never matches itself, so a command line showing up in a file cannot cause a false alarm.
    pattern = planted_secrets[:-1] + f"[{planted_secrets[-1]}]"
    skip = "--exclude-dir=proc --exclude-dir=sys --exclude-dir=dev"
    if isolated_backend == "bwrap-host":
        skip += " --exclude-dir=usr"  # the host's 5 GB /usr, bound read-only, holds only packaged files
    found = box.exec(f"timeout 300 grep -rlsI {skip} -e '{pattern}' / ; echo grep-done", timeout=330)
    assert found.output == "grep-done\n"
    home = os.environ["HOME"]
    seen = box.exec(f"ls -d {home} /root/.cache /work 2>&1; echo end", timeout=30).output
    assert seen.count("No such file or directory") + seen.count("Permission denied") == 3, seen


@pytest.fixture
def tcp_server() -> Iterator[tuple[int, list[str]]]:
    """A TCP listener on 127.0.0.1 of the host; yields its port and the peers that connected."""
    peers: list[str] = []
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.2)
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, addr = server.accept()
            except TimeoutError:
                continue
            peers.append(str(addr))
            conn.close()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1], peers
    stop.set()
    thread.join()
    server.close()


def test_no_network_way_out(
    open_box: OpenBox, isolated_backend: str, tcp_server: tuple[int, list[str]], tmp_path: Path
) -> None:
    port, peers = tcp_server
    box = open_box(isolated_backend)
    box.copy_in(_script(tmp_path, "probe.py", NET_PROBE), "probe.py")
    result = box.exec(f"python3 probe.py {port}", timeout=60)
    assert "interfaces lo\n" in result.output
    assert "refused 127.0.0.1" in result.output
    assert "refused 1.1.1.1" in result.output
    assert "connected" not in result.output
    assert peers == []


def test_fork_bomb_is_contained(open_box: OpenBox, isolated_backend: str, tmp_path: Path) -> None:
    box = open_box(isolated_backend, pids=64)
    box.copy_in(_script(tmp_path, "bomb.py", FORK_BOMB), "bomb.py")
    result = box.exec("python3 bomb.py", timeout=120)
    forked = int(result.output.split("forked ")[1].split()[0])
    assert 0 < forked < 64
    assert box.exec("echo still-works", timeout=30).output == "still-works\n"


def test_memory_hog_is_stopped(open_box: OpenBox, isolated_backend: str, tmp_path: Path) -> None:
    box = open_box(isolated_backend, memory_mb=256)
    box.copy_in(_script(tmp_path, "hog.py", MEMORY_HOG), "hog.py")
    result = box.exec("python3 hog.py 1024", timeout=120)
    assert "survived" not in result.output
    assert result.returncode != 0
    assert result.timed_out is False
    assert box.exec("echo still-works", timeout=30).output == "still-works\n"


def test_writes_outside_the_workspace_fail(open_box: OpenBox, isolated_backend: str, tmp_path: Path) -> None:
    gateway = tmp_path / "gw"
    gateway.mkdir(mode=0o755)
    box = open_box(isolated_backend, mounts={str(gateway): "/run/hgm"})
    places = ["/", "/etc", "/usr", "/usr/bin", "/var", "/root", "/home", "/run/hgm", "/opt"]
    script = "; ".join(f"(echo x > {place}/hgm-probe) 2>/dev/null && echo WROTE {place}" for place in places)
    result = box.exec(f"{script}; echo ws > in-workspace && echo t > /tmp/scratch && echo done", timeout=30)
    assert result.output == "done\n"
    assert list(gateway.iterdir()) == []


@pytest.fixture
def unix_echo_server(tmp_path: Path) -> Iterator[tuple[Path, list[bytes]]]:
    """A gateway-like directory holding a unix socket that echoes what it receives; yields it and the messages."""
    gateway = tmp_path / "gw"
    gateway.mkdir()
    gateway.chmod(0o755)
    path = gateway / "gateway.sock"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(path))
    path.chmod(0o666)
    server.listen(1)
    server.settimeout(0.2)
    received: list[bytes] = []
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            with conn:
                data = conn.recv(1024)
                received.append(data)
                conn.sendall(b"echo:" + data)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield gateway, received
    stop.set()
    thread.join()
    server.close()


def test_gateway_socket_mount_reaches_the_host(
    open_box: OpenBox, isolated_backend: str, unix_echo_server: tuple[Path, list[bytes]]
) -> None:
    gateway, received = unix_echo_server
    box = open_box(isolated_backend, mounts={str(gateway): "/run/hgm"})
    client = (
        "import socket; s = socket.socket(socket.AF_UNIX); s.connect('/run/hgm/gateway.sock'); "
        "s.sendall(b'hello'); print(s.recv(1024).decode())"
    )
    result = box.exec(f'python3 -c "{client}"', timeout=60)
    assert result.output == "echo:hello\n"
    assert received == [b"hello"]


def _script(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


STUBBORN_BOMB = """
import os, time
while True:
    try:
        if os.fork() == 0:
            time.sleep(300)
            os._exit(0)
    except OSError:
        time.sleep(0.05)
"""


def test_fork_bomb_that_outlives_its_timeout_is_cleared(
    open_box: OpenBox, isolated_backend: str, tmp_path: Path
) -> None:
    box = open_box(isolated_backend, pids=64)
    box.copy_in(_script(tmp_path, "stubborn.py", STUBBORN_BOMB), "stubborn.py")
    result = box.exec("python3 stubborn.py", timeout=2)
    assert result.timed_out is True
    if isinstance(box, BwrapSandbox) and box._cgroup is not None:
        # Every process of the bomb is gone, not just killed: the next command gets (nearly) the whole pids limit;
        # a few charges of exited processes may linger, as some kernels release them late.
        from hgm.sandboxes.cgroups import LINGERING_PIDS

        assert all((d / "cgroup.procs").read_text() == "" for d in box._cgroup.dirs)
        charged = [int((d / "pids.current").read_text()) for d in box._cgroup.dirs if (d / "pids.current").exists()]
        assert len(charged) == 1 and charged[0] <= LINGERING_PIDS
    assert box.exec("echo still-works", timeout=30).output == "still-works\n"
    assert box.exec("cat stubborn.py", timeout=30).output == STUBBORN_BOMB
