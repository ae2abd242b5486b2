"""The local backend: no isolation at all, for debugging and for machines with neither docker nor bwrap."""

from __future__ import annotations

import logging
from pathlib import Path

from hgm.interfaces import ExecResult
from hgm.sandboxes.base import ClosesOnExit
from hgm.sandboxes.config import SandboxConfig
from hgm.sandboxes.env import sandbox_env
from hgm.sandboxes.hostfs import HostWorkspace
from hgm.sandboxes.process import run_process

log = logging.getLogger(__name__)


class LocalSandbox(ClosesOnExit):
    """Runs commands as host processes in a private copy of the workspace; sees the whole host and network."""

    def __init__(self, config: SandboxConfig, workspace: Path, env: dict[str, str] | None = None) -> None:
        log.warning("the local sandbox backend does not isolate anything: agent code can read and change the host")
        self.config = config
        self._ws = HostWorkspace(workspace)
        self.workdir = self._ws.workdir
        self._env = sandbox_env(str(self._ws.scratch("home")), env)

    def exec(self, cmd: str, timeout: float, env: dict[str, str] | None = None) -> ExecResult:
        """Run `cmd` with `sh -c` in the workspace; processes it leaves behind in its group are killed."""
        return run_process(
            ["sh", "-c", cmd],
            timeout=timeout,
            max_output=self.config.max_output,
            env={**self._env, **(env or {})},
            cwd=self.workdir,
        )

    def copy_in(self, src: Path, dest: str) -> None:
        """Copy a host file or directory into the workspace."""
        self._ws.copy_in(src, dest)

    def copy_out(self, src: str, dest: Path) -> None:
        """Copy a file or directory from the workspace to the host."""
        self._ws.copy_out(src, dest)

    def close(self) -> None:
        """Delete the workspace."""
        self._ws.remove()
