"""Run a host process with a wall-clock limit, killing its whole process group when it ends or times out."""

from __future__ import annotations

import contextlib
import os
import selectors
import signal
import subprocess
import time
from collections.abc import Sequence

from hgm.interfaces import ExecResult
from hgm.sandboxes.output import CappedOutput, timeout_note

# After the command itself exits, leftovers still holding its output pipe get this long before the kill.
_DRAIN_SECONDS = 0.2
# Where there is no pidfd, how often to check whether the process has exited.
_POLL_SECONDS = 0.05


def _exited(pid: int) -> bool:
    """Whether `pid` has exited, leaving it unreaped so its process group id cannot be reused yet."""
    return os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None


def _kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


def _read_rest(fd: int, output: CappedOutput) -> None:
    """Take what is already in the pipe, without waiting for (or endlessly reading from) writers that escaped."""
    os.set_blocking(fd, False)
    stop = time.monotonic() + _DRAIN_SECONDS
    with contextlib.suppress(BlockingIOError):
        while (chunk := os.read(fd, 65536)) and time.monotonic() < stop:
            output.write(chunk)


def run_process(
    argv: Sequence[str],
    *,
    timeout: float,
    max_output: int,
    env: dict[str, str],
    cwd: str | None = None,
    pass_fds: Sequence[int] = (),
) -> ExecResult:
    """Run `argv` in a new session; stdout and stderr are combined and capped; never raises for the command."""
    output = CappedOutput(max_output)
    proc = subprocess.Popen(
        list(argv),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=env,
        cwd=cwd,
        pass_fds=tuple(pass_fds),
        start_new_session=True,
    )
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout
    timed_out = False
    # A pidfd turns readable when the process exits (still unreaped), so nothing here needs to poll on Linux.
    pidfd = os.pidfd_open(proc.pid) if hasattr(os, "pidfd_open") else None
    with selectors.DefaultSelector() as sel:
        sel.register(proc.stdout, selectors.EVENT_READ, "output")
        if pidfd is not None:
            sel.register(pidfd, selectors.EVENT_READ, "exit")
        open_pipe, exited = True, False
        while open_pipe or not exited:
            now = time.monotonic()
            if now >= deadline:
                timed_out = not exited
                break
            wait = deadline - now if pidfd is not None else min(deadline - now, _POLL_SECONDS)
            for key, _ in sel.select(wait):
                if key.data == "exit":
                    exited = True
                    sel.unregister(key.fileobj)
                    deadline = min(deadline, time.monotonic() + _DRAIN_SECONDS)
                    continue
                chunk = os.read(proc.stdout.fileno(), 65536)
                if chunk:
                    output.write(chunk)
                else:
                    open_pipe = False
                    sel.unregister(key.fileobj)
            if pidfd is None and not exited and _exited(proc.pid):
                exited = True
                deadline = min(deadline, time.monotonic() + _DRAIN_SECONDS)
    if pidfd is not None:
        os.close(pidfd)
    _kill_group(proc.pid)
    _read_rest(proc.stdout.fileno(), output)
    proc.stdout.close()
    returncode = proc.wait()
    return ExecResult(
        output=output.text(timeout_note(timeout) if timed_out else ""),
        returncode=-signal.SIGKILL if timed_out else returncode,
        timed_out=timed_out,
    )
