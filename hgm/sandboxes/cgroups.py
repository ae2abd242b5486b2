"""Control groups that hold a whole bwrap sandbox to its memory, CPU and process limits, where the host allows it.

hgm makes them itself in the cgroup file system, which needs root: `<hierarchy>/hgm/<name>` in every hierarchy that
hosts one of the controllers (cgroup v1: usually one hierarchy per controller; v2: the unified one). The names carry
the owning process, so `reclaim_cgroups` can tell the leftovers of a dead process from live sandboxes.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import secrets
import signal
import socket
import time
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from hgm.sandboxes.base import Usage
from hgm.sandboxes.owner import owner_alive, owner_tag

log = logging.getLogger(__name__)

NEEDED = ("memory", "cpu", "pids")
# cgroup v1 keeps CPU time in its own controller; v2 has it in every group's cpu.stat.
ACCOUNTING = "cpuacct"
PARENT = "hgm"
PERIOD_US = 100_000
MOUNTS = Path("/proc/self/mounts")
REMOVE_TRIES = 100
SETTLE_SECONDS = 30.0
# Pids a settled sandbox may still have charged by exited processes.
LINGERING_PIDS = 8


@dataclass(frozen=True)
class Hierarchy:
    """A mounted cgroup hierarchy and the controllers it hosts."""

    path: Path
    version: int
    controllers: frozenset[str]


def hierarchies(mounts_text: str) -> dict[str, Hierarchy]:
    """Which mounted hierarchy hosts each controller hgm uses, from the text of /proc/self/mounts."""
    found: dict[str, Hierarchy] = {}
    for line in mounts_text.splitlines():
        fields = line.split()
        if len(fields) < 4:
            continue
        path = Path(fields[1].replace("\\040", " "))
        if fields[2] == "cgroup":
            names = frozenset(fields[3].split(",")) & {*NEEDED, ACCOUNTING}
            hierarchy = Hierarchy(path, 1, names)
        elif fields[2] == "cgroup2":
            try:
                names = frozenset((path / "cgroup.controllers").read_text().split()) & set(NEEDED)
            except OSError:
                continue
            hierarchy = Hierarchy(path, 2, names)
        else:
            continue
        for name in hierarchy.controllers:
            found.setdefault(name, hierarchy)
    return found


def _write(path: Path, value: str) -> None:
    path.write_text(value)


def _prepare_parent(hierarchy: Hierarchy) -> Path:
    """`<hierarchy>/hgm`, made once, with the controllers its children need switched on (v2)."""
    parent = hierarchy.path / PARENT
    parent.mkdir(exist_ok=True)
    if hierarchy.version == 2:
        wanted = " ".join(f"+{name}" for name in sorted(hierarchy.controllers))
        for level in (hierarchy.path, parent):
            enabled = set((level / "cgroup.subtree_control").read_text().split())
            if not hierarchy.controllers <= enabled:
                _write(level / "cgroup.subtree_control", wanted)
    return parent


@cache
def _layout() -> tuple[tuple[Hierarchy, ...], str | None]:
    """The hierarchies sandbox cgroups go in, or why there are none."""
    if os.geteuid() != 0:
        return (), "hgm does not run as root, and only root makes cgroups here"
    try:
        found = hierarchies(MOUNTS.read_text())
    except OSError as exc:
        return (), f"cannot read {MOUNTS}: {exc}"
    missing = [name for name in NEEDED if name not in found]
    if missing:
        return (), f"no cgroup hierarchy offers the {', '.join(missing)} controller"
    chosen = {found[name].path: found[name] for name in (*NEEDED, ACCOUNTING) if name in found}
    try:
        for hierarchy in chosen.values():
            _prepare_parent(hierarchy)
    except OSError as exc:
        return (), f"cannot make cgroups under {exc.filename or 'the cgroup file system'}: {exc.strerror}"
    return tuple(chosen.values()), None


def cgroup_problem() -> str | None:
    """Why bwrap sandboxes get no cgroup here, or None if they do."""
    return _layout()[1]


class SandboxCgroup:
    """One sandbox's group in each hierarchy: limits written when made; processes killed and groups removed at close."""

    def __init__(
        self, *, memory_bytes: int, cpus: float, pids: int, layout: tuple[Hierarchy, ...] | None = None
    ) -> None:
        if layout is None:
            layout, problem = _layout()
            if problem:
                raise OSError(problem)
        tag = owner_tag()
        _, pid, started = tag.split(":")
        self.name = f"sbx-{pid}-{started}-{secrets.token_hex(4)}"
        self.dirs: list[Path] = []
        try:
            for hierarchy in layout:
                path = hierarchy.path / PARENT / self.name
                path.mkdir()
                self.dirs.append(path)
                _limit(hierarchy, path, memory_bytes, cpus, pids)
        except BaseException:
            self.close()
            raise
        self._layout = layout

    @property
    def procs_files(self) -> list[Path]:
        """The files a process writes its pid to, to join the cgroup in every hierarchy."""
        return [path / "cgroup.procs" for path in self.dirs]

    def usage(self) -> Usage:
        """CPU time, quota periods and peak memory so far."""
        cpu_ns = 0
        stat: dict[str, int] = {}
        peak: int | None = None
        for hierarchy, path in zip(self._layout, self.dirs, strict=True):
            names = hierarchy.controllers
            if "cpu" in names:
                stat = _keyed(path / "cpu.stat")
            if hierarchy.version == 2:
                cpu_ns = _keyed(path / "cpu.stat").get("usage_usec", 0) * 1000
                peak = _int_or_none(path / "memory.peak")
            else:
                if ACCOUNTING in names:
                    cpu_ns = int((path / "cpuacct.usage").read_text())
                if "memory" in names:
                    peak = int((path / "memory.max_usage_in_bytes").read_text())
        return Usage(cpu_ns / 1e9, stat.get("nr_periods", 0), stat.get("nr_throttled", 0), peak)

    def settle(self, timeout: float = SETTLE_SECONDS) -> bool:
        """Kill what still runs in the cgroup and wait until it has gone; False if it outlasts `timeout`."""
        deadline = time.monotonic() + timeout
        while True:
            left = False
            for path in self.dirs:
                for pid in _read(path / "cgroup.procs").split():
                    left = True
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(int(pid), signal.SIGKILL)
                # Dying processes hold their pid (and so the pids limit) until they are reaped; recent kernels also
                # release an exited task's charge up to ~2 s late, so a few charges left cost the next command
                # nothing worth waiting for on every command.
                left = left or int(_read(path / "pids.current").strip() or 0) > LINGERING_PIDS
            if not left:
                return True
            if time.monotonic() > deadline:
                log.warning("processes of sandbox cgroup %s outlived %gs after being killed", self.name, timeout)
                return False
            time.sleep(0.005)

    def close(self) -> None:
        """Kill whatever still runs in the cgroup and remove it from every hierarchy."""
        remove_groups(self.dirs)
        self.dirs = []


def _limit(hierarchy: Hierarchy, path: Path, memory_bytes: int, cpus: float, pids: int) -> None:
    names = hierarchy.controllers
    quota = max(1000, int(cpus * PERIOD_US))
    if hierarchy.version == 1:
        if "memory" in names:
            _write(path / "memory.limit_in_bytes", str(memory_bytes))
            if (path / "memory.memsw.limit_in_bytes").exists():
                _write(path / "memory.memsw.limit_in_bytes", str(memory_bytes))
        if "cpu" in names:
            _write(path / "cpu.cfs_period_us", str(PERIOD_US))
            _write(path / "cpu.cfs_quota_us", str(quota))
        if "pids" in names:
            _write(path / "pids.max", str(pids))
        return
    _write(path / "memory.max", str(memory_bytes))
    if (path / "memory.swap.max").exists():
        _write(path / "memory.swap.max", "0")
    _write(path / "cpu.max", f"{quota} {PERIOD_US}")
    _write(path / "pids.max", str(pids))


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except FileNotFoundError:
        return ""


def _keyed(path: Path) -> dict[str, int]:
    values: dict[str, int] = {}
    for line in path.read_text().splitlines():
        key, _, value = line.partition(" ")
        with contextlib.suppress(ValueError):
            values[key] = int(value)
    return values


def _int_or_none(path: Path) -> int | None:
    try:
        return int(path.read_text())
    except (OSError, ValueError):
        return None


def remove_groups(dirs: list[Path]) -> list[Path]:
    """Kill the processes in each cgroup and remove it; return those that could not be removed."""
    left = list(dirs)
    for _ in range(REMOVE_TRIES):
        for path in list(left):
            with contextlib.suppress(FileNotFoundError):
                for pid in (path / "cgroup.procs").read_text().split():
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(int(pid), signal.SIGKILL)
            try:
                path.rmdir()
            except FileNotFoundError:
                pass
            except OSError as exc:
                if exc.errno != errno.EBUSY:
                    raise
                continue
            left.remove(path)
        if not left:
            return []
        # Killed processes take a moment to leave.
        time.sleep(0.05)
    for path in left:
        log.warning("could not remove the sandbox cgroup %s: processes are still in it", path)
    return left


def reclaim_cgroups(*, include_live: bool = False) -> int:
    """Remove sandbox cgroups whose owning process died (every one with `include_live`); return how many."""
    layout, problem = _layout()
    if problem:
        return 0
    names: set[str] = set()
    for hierarchy in layout:
        with contextlib.suppress(FileNotFoundError):
            names |= {p.name for p in (hierarchy.path / PARENT).iterdir() if p.is_dir()}
    removed = 0
    for name in sorted(names):
        parts = name.split("-")
        if len(parts) != 4 or parts[0] != "sbx":
            continue
        if not include_live and owner_alive(f"{socket.gethostname()}:{parts[1]}:{parts[2]}"):
            continue
        if not remove_groups([h.path / PARENT / name for h in layout if (h.path / PARENT / name).exists()]):
            removed += 1
    return removed
