"""Limits on the whole sandbox: memory, CPU and workspace size hold on docker and on bwrap (with a cgroup, as root).

Where bwrap cannot get a cgroup or a private tmpfs (hgm not root, no cgroup controllers), the tests check that hgm
says so and that the per-process caps still apply.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from hgm.sandboxes import ManagedSandbox, SandboxConfig
from hgm.sandboxes.bwrap_sandbox import BwrapSandbox, limits_statement, run_as
from hgm.sandboxes.cgroups import SandboxCgroup, cgroup_problem, reclaim_cgroups

OpenBox = Callable[..., ManagedSandbox]
MiB = 1024 * 1024
# How bwrap sandboxes are limited on this machine, as hgm states it.
STATEMENT = limits_statement(run_as(SandboxConfig().bwrap_uid))

# Four children each allocate `size` MiB and hold it. Once every child has allocated or died, the parent asks each
# one that allocated whether it still lives: those that answer held their memory at the same time.
HOGS = """
import os, sys
size = int(sys.argv[1]) * 1024 * 1024
kids = []
for _ in range(4):
    up_r, up_w = os.pipe()
    down_r, down_w = os.pipe()
    if os.fork() == 0:
        os.close(up_r)
        os.close(down_w)
        data = b"x" * size
        os.write(up_w, b"1")
        os.read(down_r, 1)
        os.write(up_w, b"2")
        os.read(down_r, 1)
        os._exit(0)
    os.close(up_w)
    os.close(down_r)
    kids.append((up_r, down_w))
reported = [kid for kid in kids if os.read(kid[0], 1) == b"1"]
alive = 0
for up_r, down_w in reported:
    try:
        os.write(down_w, b"?")
    except BrokenPipeError:
        continue
    alive += os.read(up_r, 1) == b"2"
print("reported", len(reported), "alive", alive, flush=True)
"""

SPIN = "import time\nend = time.monotonic() + 3\nwhile time.monotonic() < end:\n    pass\n"


def _no_cgroup(box: ManagedSandbox) -> bool:
    """A bwrap sandbox that hgm could not put in a cgroup here (not root, or no controllers)."""
    return isinstance(box, BwrapSandbox) and box.usage() is None


def _script(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.mark.parametrize("each_mb", [1024, 200])
def test_memory_is_capped_for_the_whole_sandbox(
    open_box: OpenBox, isolated_backend: str, tmp_path: Path, each_mb: int
) -> None:
    box = open_box(isolated_backend, memory_mb=512)
    box.copy_in(_script(tmp_path, "hogs.py", HOGS), "hogs.py")
    result = box.exec(f"python3 hogs.py {each_mb}", timeout=600)
    assert result.timed_out is False
    words = result.output.split()
    reported, alive = int(words[words.index("reported") + 1]), int(words[words.index("alive") + 1])
    if _no_cgroup(box):
        assert cgroup_problem() is not None or os.geteuid() != 0
        assert "memory is an address-space cap per process" in STATEMENT
        # The per-process cap still stops any single process from taking more than the limit.
        assert (reported, alive) == ((0, 0) if each_mb > 512 else (4, 4))
        return
    assert alive * each_mb < 512
    assert alive < 4
    if each_mb > 512:
        assert reported == 0
    usage = box.usage()
    assert usage is not None
    if usage.memory_peak is not None:
        assert usage.memory_peak <= 512 * MiB
    assert box.exec("echo still-works", timeout=60).output == "still-works\n"


def test_a_busy_loop_is_held_to_the_cpu_quota(open_box: OpenBox, isolated_backend: str, tmp_path: Path) -> None:
    box = open_box(isolated_backend, cpus=0.1)
    box.copy_in(_script(tmp_path, "spin.py", SPIN), "spin.py")
    before = box.usage()
    spin = "python3 spin.py & python3 spin.py & python3 spin.py & python3 spin.py & wait"
    assert box.exec(spin, timeout=600).returncode == 0
    after = box.usage()
    if before is None or after is None:
        assert _no_cgroup(box)
        assert "there is no CPU quota" in STATEMENT
        return
    used = after.cpu_seconds - before.cpu_seconds
    periods = after.periods - before.periods
    assert after.throttled - before.throttled > 0
    # By the cgroup's own count: each 100 ms period in which it ran allows 10 ms of CPU, whatever the wall clock.
    assert periods > 0
    assert used <= 0.01 * (periods + 2) * 1.1


def test_the_workspace_and_tmp_are_size_limited(open_box: OpenBox, isolated_backend: str) -> None:
    box = open_box(isolated_backend, workspace_mb=32, tmp_mb=16)
    free_before = shutil.disk_usage(tempfile.gettempdir()).free
    result = box.exec(
        "dd if=/dev/zero of=big bs=1M count=1024 2>&1; stat -c %s big; stat -f -c %T . /tmp; "
        "dd if=/dev/zero of=/tmp/big bs=1M count=1024 2>&1; rm big /tmp/big",
        timeout=600,
    )
    free_after = shutil.disk_usage(tempfile.gettempdir()).free
    if isinstance(box, BwrapSandbox) and os.geteuid() != 0:
        assert "the workspace and /tmp have no size limit" in STATEMENT
        return
    lines = result.output.splitlines()
    assert result.output.count("No space left on device") == 2, result.output
    written = int(next(line for line in lines if line.isdigit()))
    assert 0 < written <= 48 * MiB
    assert "tmpfs\ntmpfs\n" in result.output
    # Nothing of it landed on the host's disk (a margin for whatever else writes there meanwhile).
    assert free_before - free_after < 512 * MiB
    assert box.exec("echo fine > small && cat small", timeout=60).output == "fine\n"


@pytest.mark.bwrap
def test_bwrap_reclaims_its_mounts_and_cgroups_on_close(open_box: OpenBox) -> None:
    box = open_box("bwrap")
    assert isinstance(box, BwrapSandbox)
    keeper = box._ws.keeper
    groups = list(box._cgroup.dirs) if box._cgroup else []
    if os.geteuid() == 0:
        assert keeper is not None
        assert cgroup_problem() is not None or groups
    box.close()
    assert not box._ws.base.exists()
    assert [g for g in groups if g.exists()] == []
    if keeper is not None:
        assert not Path(f"/proc/{keeper.pid}").exists()


CRASH = """
import os, sys, threading, time
from pathlib import Path
from hgm.sandboxes import SandboxConfig, open_sandbox
box = open_sandbox(SandboxConfig(backend="bwrap", rootfs="host"), Path(sys.argv[1]))
threading.Thread(target=box.exec, args=("sleep 300",), kwargs={"timeout": 600}, daemon=True).start()
while b"sleep 300" not in b"".join(p.read_bytes() for p in Path("/proc").glob("[0-9]*/cmdline") if p.exists()):
    time.sleep(0.05)
print(box._ws.keeper.pid, *box._cgroup.dirs, flush=True)
os._exit(0)
"""


@pytest.mark.bwrap
def test_a_crashed_owner_leaves_no_cgroup_or_keeper(tmp_path: Path) -> None:
    if os.geteuid() != 0 or cgroup_problem() is not None:
        assert "no cgroup" in STATEMENT or "per process only" in STATEMENT
        return
    said = subprocess.run(
        [sys.executable, "-c", CRASH, str(tmp_path)], capture_output=True, text=True, timeout=300, check=True
    ).stdout.split()
    keeper, groups = int(said[0]), [Path(g) for g in said[1:]]
    assert groups
    deadline = time.monotonic() + 120
    while (Path(f"/proc/{keeper}").exists() or any(g.exists() for g in groups)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not Path(f"/proc/{keeper}").exists()
    assert [g for g in groups if g.exists()] == []


LEAK = """
import os
from hgm.sandboxes.cgroups import SandboxCgroup
print(*SandboxCgroup(memory_bytes=64 << 20, cpus=1, pids=16).dirs, flush=True)
os._exit(0)
"""


@pytest.mark.bwrap
def test_reclaim_removes_cgroups_of_dead_owners_only() -> None:
    if os.geteuid() != 0 or cgroup_problem() is not None:
        assert reclaim_cgroups() == 0
        return
    leaked = [
        Path(g) for g in subprocess.run([sys.executable, "-c", LEAK], capture_output=True, text=True).stdout.split()
    ]
    live = SandboxCgroup(memory_bytes=64 * MiB, cpus=1, pids=16)
    try:
        assert all(g.exists() for g in leaked)
        assert reclaim_cgroups() >= 1
        assert [g for g in leaked if g.exists()] == []
        assert all(g.exists() for g in live.dirs)
    finally:
        live.close()
    assert [g for g in live.dirs if g.exists()] == []


def test_limits_statement_says_what_holds() -> None:
    assert "no CPU quota" in limits_statement(None)
    assert "no size limit" in limits_statement(None)
    if os.geteuid() == 0 and cgroup_problem() is None:
        assert limits_statement(0).startswith("bwrap sandboxes run in a cgroup")
