"""The local backend: no isolation at all, for debugging and for machines with neither docker nor bwrap."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from hgm.interfaces import ExecResult
from hgm.sandboxes.base import ClosesOnExit, Usage, check_secrets
from hgm.sandboxes.config import SandboxConfig
from hgm.sandboxes.env import BASE_PATH, sandbox_env
from hgm.sandboxes.export import Export, ExportLimits, export_argv, finish_export, read_tar_stream
from hgm.sandboxes.hostfs import HostWorkspace
from hgm.sandboxes.paths import workspace_path
from hgm.sandboxes.process import StreamedProcess, run_process

log = logging.getLogger(__name__)


class LocalSandbox(ClosesOnExit):
    """Runs commands as host processes in a private copy of the workspace; sees the whole host and network."""

    def __init__(
        self,
        config: SandboxConfig,
        workspace: Path,
        env: dict[str, str] | None = None,
        secrets: dict[str, str] | None = None,
    ) -> None:
        log.warning("the local sandbox backend does not isolate anything: agent code can read and change the host")
        self.config = config
        values = check_secrets(secrets)
        self._ws = HostWorkspace(workspace)
        self.workdir = self._ws.workdir
        self._env = sandbox_env(str(self._ws.scratch("home")), env)
        secrets_dir = self._ws.scratch("secrets")
        secrets_dir.chmod(0o700)
        self.secrets_dir = str(secrets_dir)
        for name, value in values.items():
            fd = os.open(secrets_dir / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o400)
            with os.fdopen(fd, "wb") as out:
                out.write(value)

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

    def export(self, src: str, limits: ExportLimits | None = None) -> Export:
        """The regular files at `src`, archived by a host `tar` (nothing is isolated here), read with caps."""
        path = workspace_path(self.workdir, src)
        timeout = self.config.timeout
        with StreamedProcess(export_argv(path), timeout=timeout, env={"PATH": BASE_PATH, "LANG": "C.UTF-8"}) as tar:
            got = read_tar_stream(tar.chunks(), limits)
        return finish_export(got, src, tar.returncode, tar.errors(), stopped=tar.killed or tar.timed_out)

    def usage(self) -> Usage | None:
        """None: nothing accounts for a local sandbox."""
        return None

    def close(self) -> None:
        """Delete the workspace."""
        self._ws.remove()
