"""Run a host process with a wall-clock limit, killing its whole process group when it ends or times out."""

from __future__ import annotations

import contextlib
import fcntl
import os
import selectors
import signal
import subprocess
import time
from collections.abc import Iterator, Sequence

from hgm.interfaces import ExecResult
from hgm.sandboxes.output import CappedOutput, timeout_note

# After the command itself exits, leftovers still holding its output pipe get this long before the kill.
_DRAIN_SECONDS = 0.2
# Where there is no pidfd, how often to check whether the process has exited.
_POLL_SECONDS = 0.05
# A larger pipe moves archives in fewer, bigger reads (1 MiB is what unprivileged processes may ask for).
PIPE_BYTES = 1024 * 1024
F_SETPIPE_SZ = getattr(fcntl, "F_SETPIPE_SZ", 1031)


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


def _spawn(
    argv: Sequence[str], env: dict[str, str], cwd: str | None, pass_fds: Sequence[int], *, stderr: int
) -> subprocess.Popen[bytes]:
    """`argv` in a session of its own (so its whole group can be killed), stdout piped, no stdin."""
    return subprocess.Popen(
        list(argv),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=stderr,
        env=env,
        cwd=cwd,
        pass_fds=tuple(pass_fds),
        start_new_session=True,
    )


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
    proc = _spawn(argv, env, cwd, pass_fds, stderr=subprocess.STDOUT)
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


class StreamedProcess:
    """A host process whose stdout is read as a stream of chunks; stderr is kept, capped; its group dies on close."""

    def __init__(
        self,
        argv: Sequence[str],
        *,
        timeout: float,
        env: dict[str, str],
        cwd: str | None = None,
        pass_fds: Sequence[int] = (),
        max_errors: int = 4000,
    ) -> None:
        self._proc = _spawn(argv, env, cwd, pass_fds, stderr=subprocess.PIPE)
        self._deadline = time.monotonic() + timeout
        self._timeout = timeout
        self._errors = CappedOutput(max_errors)
        self.timed_out = False
        self.killed = False
        self.returncode: int | None = None
        self._ended = False
        assert self._proc.stdout is not None
        with contextlib.suppress(OSError):
            fcntl.fcntl(self._proc.stdout.fileno(), F_SETPIPE_SZ, PIPE_BYTES)

    def chunks(self) -> Iterator[bytes]:
        """Stdout as it comes, until it ends or the time is up."""
        assert self._proc.stdout is not None and self._proc.stderr is not None
        out, err = self._proc.stdout.fileno(), self._proc.stderr.fileno()
        with selectors.DefaultSelector() as sel:
            sel.register(out, selectors.EVENT_READ)
            sel.register(err, selectors.EVENT_READ)
            while sel.get_map():
                left = self._deadline - time.monotonic()
                if left <= 0:
                    self.timed_out = True
                    return
                for key, _ in sel.select(left):
                    chunk = os.read(key.fd, PIPE_BYTES)
                    if not chunk:
                        sel.unregister(key.fd)
                    elif key.fd == err:
                        self._errors.write(chunk)
                    else:
                        yield chunk
        self._ended = True

    def errors(self) -> str:
        """What the process wrote to stderr (head and tail when long)."""
        return self._errors.text(timeout_note(self._timeout) if self.timed_out else "")

    def close(self) -> None:
        """Kill the process group if it still runs, and reap the process."""
        # A process that closed its output is about to exit; give it a moment so its own status counts.
        stop = time.monotonic() + (_DRAIN_SECONDS if self._ended else 0)
        while not _exited(self._proc.pid) and time.monotonic() < stop:
            time.sleep(0.005)
        self.killed = not _exited(self._proc.pid)
        _kill_group(self._proc.pid)
        assert self._proc.stdout is not None and self._proc.stderr is not None
        self._proc.stdout.close()
        self._proc.stderr.close()
        self.returncode = self._proc.wait()

    def __enter__(self) -> StreamedProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
