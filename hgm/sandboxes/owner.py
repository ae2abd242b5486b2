"""Which process and run own a sandbox or a scratch directory, so leftovers of dead processes can be told apart."""

from __future__ import annotations

import json
import os
import socket
import stat
import tempfile
from pathlib import Path

RUN_LABEL = "hgm.run"
SCRATCH_PREFIX = "hgm-run-"
OWNER_FILE = "owner.json"

_current_run = ""
_temp_base = ""


def _start_time(pid: int) -> str:
    try:
        stat_line = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    # The command name may contain spaces; fields after it are fixed. Field 22 is the start time.
    return stat_line.rsplit(")", 1)[1].split()[19]


def owner_tag(pid: int | None = None) -> str:
    """`host:pid:start-time` of this process (or `pid`)."""
    pid = pid or os.getpid()
    return f"{socket.gethostname()}:{pid}:{_start_time(pid)}"


def owner_alive(tag: str) -> bool:
    """Whether the process named by `tag` still runs; a tag from another host counts as alive."""
    host, _, rest = tag.partition(":")
    pid_text, _, started = rest.partition(":")
    if host != socket.gethostname():
        return True
    try:
        pid = int(pid_text)
        os.kill(pid, 0)
    except (ValueError, ProcessLookupError):
        return False
    except PermissionError:
        pass
    return _start_time(pid) == started


def current_run() -> str:
    """The run directory this process works for ('' outside a run); sandboxes are labelled with it."""
    return _current_run


def set_current_run(run: str, temp_base: str = "") -> None:
    """Name the run directory this process works for ('' when it no longer works for one) and the system temp
    directory, which the run's scratch directory replaces as the process's default while it works for the run."""
    global _current_run, _temp_base
    _current_run, _temp_base = run, temp_base


def temp_base() -> str:
    """The system's temp directory, where scratch directories live (never a run's scratch directory itself)."""
    return _temp_base or tempfile.gettempdir()


def mark_scratch(root: Path, run: str) -> None:
    """Write the file that names the run and the process owning the scratch directory `root`."""
    tmp = root / f".{OWNER_FILE}.tmp"
    tmp.write_text(json.dumps({"run": run, "owner": owner_tag()}))
    tmp.replace(root / OWNER_FILE)


def scratch_owner(root: Path) -> tuple[str, str] | None:
    """(run, owner tag) of a scratch directory made by this user, or None if `root` is not one."""
    try:
        info = os.lstat(root)
    except OSError:
        return None
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.geteuid():
        return None
    try:
        data = json.loads((root / OWNER_FILE).read_text())
        return str(data["run"]), str(data["owner"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
