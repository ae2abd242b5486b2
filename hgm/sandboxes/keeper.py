"""A root process holding a bwrap sandbox's private mount namespace: a size-capped tmpfs and the staged sources.

The tmpfs (workspace and /tmp) exists only in that namespace, so the kernel frees it when the namespace ends: when
hgm closes the keeper's stdin, or when hgm dies and the pipe closes with it. On the way out the keeper also empties
and removes the sandbox's cgroups, so a killed hgm leaves neither memory nor cgroups behind.
"""

from __future__ import annotations

import os
import selectors
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

from hgm.sandboxes.base import SandboxError
from hgm.sandboxes.env import BASE_PATH

READY_SECONDS = 30.0
STOP_SECONDS = 10.0
# $1 mount point, $2 size in bytes, $3 owner uid, $4 number of sources to stage; then the sources; then cgroups.
SCRIPT = r"""
set -e
base=$1 size=$2 uid=$3 n=$4
shift 4
mount -t tmpfs -o "size=$size,mode=0700,uid=$uid,gid=$uid,nosuid,nodev" hgm-sandbox "$base"
cd "$base"
# Every mount point in one mkdir: each process started here adds to every sandbox's start.
dirs=stage i=0
for src; do
    [ "$i" -lt "$n" ] || break
    if [ -d "$src" ]; then dirs="$dirs stage/$i"; fi
    i=$((i + 1))
done
mkdir $dirs
i=0
while [ "$i" -lt "$n" ]; do
    [ -e "stage/$i" ] || : > "stage/$i"
    mount --bind "$1" "stage/$i"
    i=$((i + 1))
    shift
done
echo ready
read -r _ || true
set +e
tries=0
while [ "$tries" -lt 100 ]; do
    left=0
    for group; do
        [ -d "$group" ] || continue
        for pid in $(cat "$group/cgroup.procs" 2>/dev/null); do kill -9 "$pid" 2>/dev/null; done
        rmdir "$group" 2>/dev/null || left=1
    done
    [ "$left" = 0 ] && break
    tries=$((tries + 1))
    sleep 0.1
done
"""


class Keeper:
    """Mounts a tmpfs of `size` bytes at `base` in a new mount namespace and binds each staged source below it."""

    def __init__(self, base: Path, size: int, uid: int, stage: Sequence[Path], cgroups: Sequence[Path]) -> None:
        self.base = base
        argv = ["unshare", "--mount", "--propagation", "private", "--", "sh", "-c", SCRIPT, "hgm-keeper"]
        argv += [str(base), str(size), str(uid), str(len(stage)), *map(str, stage), *map(str, cgroups)]
        # Its own session: a Ctrl-C meant for hgm must not end the namespace under a sandbox still being closed.
        self._proc = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env={"PATH": BASE_PATH},
            start_new_session=True,
        )
        said = self._wait_ready()
        if said != "ready\n":
            self.close()
            raise SandboxError(f"could not set up the sandbox's private workspace file system: {said.strip()}")

    def _wait_ready(self) -> str:
        assert self._proc.stdout is not None
        fd = self._proc.stdout.fileno()
        said = b""
        deadline = time.monotonic() + READY_SECONDS
        with selectors.DefaultSelector() as sel:
            sel.register(fd, selectors.EVENT_READ)
            while not said.endswith(b"\n") and time.monotonic() < deadline:
                if not sel.select(deadline - time.monotonic()):
                    break
                chunk = os.read(fd, 4096)
                if not chunk:
                    break
                said += chunk
        return said.decode(errors="replace") or "the keeper process said nothing"

    @property
    def pid(self) -> int:
        """The keeper's process id (it stays our unreaped child, so the id cannot be reused while it is open)."""
        return self._proc.pid

    @property
    def view(self) -> Path:
        """Where the host reaches `base` inside the namespace."""
        return Path(f"/proc/{self._proc.pid}/root{self.base}")

    def enter(self) -> list[str]:
        """The command prefix that runs a program in the namespace."""
        return ["nsenter", f"--mount=/proc/{self._proc.pid}/ns/mnt"]

    def close(self) -> None:
        """End the namespace (the kernel frees the tmpfs with it) after the keeper removed the cgroups."""
        if self._proc.stdin is not None and not self._proc.stdin.closed:
            self._proc.stdin.close()
        try:
            self._proc.wait(STOP_SECONDS)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        if self._proc.stdout is not None:
            self._proc.stdout.close()
