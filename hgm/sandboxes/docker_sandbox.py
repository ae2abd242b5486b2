"""The docker backend: a long-lived container with no network, a read-only root and hard resource limits.

Files move with put_archive/get_archive, so a remote engine (DOCKER_HOST) works for everything except `mounts`:
those are bind mounts of host paths and only make sense when the engine runs on this machine.

A task image may bring its own workdir (SWE-bench: the repository at /testbed, owned by root): the workspace
volume then starts as a copy of it, which is handed to the agent user before anything else runs. Commands see the
image's own PATH, so toolchains it installs (conda, Go, ...) are found.
"""

from __future__ import annotations

import os
import re
import tarfile
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docker.errors
from docker.types import Mount, Ulimit

from hgm.interfaces import ExecResult
from hgm.sandboxes.base import ClosesOnExit, SandboxError
from hgm.sandboxes.config import SandboxConfig
from hgm.sandboxes.env import sandbox_env
from hgm.sandboxes.hostfs import copy_entry, remove_tree
from hgm.sandboxes.image import docker_client
from hgm.sandboxes.output import CappedOutput, timeout_note
from hgm.sandboxes.owner import RUN_LABEL, current_run, owner_tag
from hgm.sandboxes.paths import workspace_relative

LABEL = "hgm.sandbox"
OWNER_LABEL = "hgm.owner"
NAME_LABEL = "hgm.label"
AGENT = "1000:1000"
AGENT_UID = 1000
# The container's own process runs as a different user, so `kill -1` by the agent cannot stop the container.
KEEPER = "65534:65534"
MiB = 1024 * 1024
SPOOL = 16 * MiB
KILL_GRACE = 10.0
CHOWN_TIMEOUT = 600
# Exit status 0 iff everything under the workdir is the agent's (an unreadable entry counts as not).
OWNED_BY_AGENT = f'test -z "$(find "$1" ! -user {AGENT_UID} -print -quit 2>&1)"'
# One stream keeps stdout and stderr in order; what the command leaves running is killed, as on every backend.
WRAPPER = 'exec 2>&1; sh -c "$1"; rc=$?; kill -KILL -1 2>/dev/null; exit $rc'


def _slug(label: str) -> str:
    return re.sub(r"[^a-zA-Z0-9_.-]+", "-", label).strip("-.")[:40]


def _as_agent(info: tarfile.TarInfo) -> tarfile.TarInfo | None:
    if not (info.isfile() or info.isdir() or info.issym()):
        return None
    info.uid = info.gid = AGENT_UID
    info.uname = info.gname = "agent"
    return info


def _to_host(member: tarfile.TarInfo, dest: str) -> tarfile.TarInfo | None:
    if not (member.isfile() or member.isdir() or member.issym() or member.islnk()):
        return None
    # Files copied out belong to whoever runs hgm, whatever user made them inside.
    return tarfile.tar_filter(member, dest).replace(uid=os.getuid(), gid=os.getgid(), uname="", gname="", deep=False)


def image_path(image_env: list[str] | None) -> dict[str, str]:
    """The PATH an image's `Config.Env` sets, as an environment layer; empty when it sets none."""
    for entry in image_env or []:
        key, _, value = entry.partition("=")
        if key == "PATH" and value:
            return {"PATH": value}
    return {}


def _drain(stream: Iterator[bytes], output: CappedOutput) -> None:
    for chunk in stream:
        output.write(chunk)


class DockerSandbox(ClosesOnExit):
    """A container kept alive with `sleep infinity`; each command is a `docker exec` as the non-root user agent."""

    def __init__(
        self,
        config: SandboxConfig,
        workspace: Path,
        mounts: dict[str, str] | None = None,
        env: dict[str, str] | None = None,
        label: str = "",
    ) -> None:
        if not workspace.is_dir():
            raise FileNotFoundError(f"sandbox workspace {workspace} is not a directory")
        self.config = config
        self.workdir = config.workdir
        self._client = docker_client()
        volumes = [Mount(config.workdir, None, type="volume")]
        volumes += [Mount(inside, host, type="bind", read_only=True) for host, inside in (mounts or {}).items()]
        self._labels = {LABEL: "1", OWNER_LABEL: owner_tag(), RUN_LABEL: current_run(), NAME_LABEL: label}
        name = "-".join(part for part in ("hgm", _slug(label), uuid.uuid4().hex[:8]) if part)
        try:
            image_env = (self._client.images.get(config.image).attrs.get("Config") or {}).get("Env")
            self._env = sandbox_env("/tmp", image_path(image_env), env)
            self._container = self._client.containers.run(
                config.image,
                ["sleep", "infinity"],
                name=name,
                hostname="sandbox",
                detach=True,
                init=True,
                user=KEEPER,
                working_dir=config.workdir,
                environment=self._env,
                labels=self._labels,
                network_mode="none",
                read_only=True,
                tmpfs={"/tmp": f"rw,exec,nosuid,nodev,size={config.tmp_mb}m,mode=1777"},
                mounts=volumes,
                nano_cpus=int(config.cpus * 1e9),
                mem_limit=f"{config.memory_mb}m",
                memswap_limit=f"{config.memory_mb}m",
                pids_limit=config.pids,
                ulimits=[
                    Ulimit(name="fsize", soft=config.file_size_mb * MiB, hard=config.file_size_mb * MiB),
                    Ulimit(name="core", soft=0, hard=0),
                ],
                cap_drop=["ALL"],
                security_opt=["no-new-privileges"],
            )
        except docker.errors.ImageNotFound as exc:
            self._client.close()
            raise SandboxError(f"sandbox image {config.image} not found; build it with `hgm sandbox build`") from exc
        except BaseException:
            self._client.close()
            raise
        try:
            self._give_workdir_to_agent()
            self.copy_in(workspace, ".")
        except BaseException:
            self.close()
            raise

    @property
    def name(self) -> str:
        """The container's name."""
        return str(self._container.name)

    def _give_workdir_to_agent(self) -> None:
        """Make the workspace volume the agent's when the image's files at the workdir filled it as another user's."""
        if self._run_detached(["sh", "-c", OWNED_BY_AGENT, "hgm", self.workdir], AGENT) == 0:
            return
        self._container.reload()
        volume = next(m["Name"] for m in self._container.attrs["Mounts"] if m["Destination"] == self.workdir)
        # A short-lived root container with only CHOWN and DAC_OVERRIDE does it; the sandbox never holds a capability.
        helper = self._client.containers.create(
            self.config.image,
            ["-R", "-h", AGENT, self.workdir],
            entrypoint=["chown"],
            name=f"{self.name}-chown",
            user="0:0",
            labels=self._labels,
            network_mode="none",
            read_only=True,
            mounts=[Mount(self.workdir, volume, type="volume", no_copy=True)],
            nano_cpus=int(self.config.cpus * 1e9),
            mem_limit=f"{self.config.memory_mb}m",
            pids_limit=self.config.pids,
            cap_drop=["ALL"],
            cap_add=["CHOWN", "DAC_OVERRIDE"],
            security_opt=["no-new-privileges"],
        )
        try:
            helper.start()
            status = helper.wait(timeout=CHOWN_TIMEOUT)["StatusCode"]
            problem = "" if status == 0 else helper.logs().decode(errors="replace").strip()[-2000:] or f"exit {status}"
        except docker.errors.APIError as exc:
            problem = str(exc)
        finally:
            helper.remove(force=True)
        if problem:
            raise SandboxError(
                f"could not give {self.workdir} of image {self.config.image} to the sandbox user (uid {AGENT_UID}) "
                f"with `chown -R` as root: {problem}. Make it theirs in the image (`RUN chown -R {AGENT} "
                f"{self.workdir}`) or choose another workdir"
            )

    def _run_detached(self, argv: list[str], user: str) -> int:
        api = self._client.api
        exec_id = api.exec_create(self._container.id, argv, user=user)["Id"]
        api.exec_start(exec_id)
        return self._exit_code(exec_id)

    def _exit_code(self, exec_id: str) -> int:
        deadline = time.monotonic() + KILL_GRACE
        while True:
            info = self._client.api.exec_inspect(exec_id)
            if not info["Running"] or time.monotonic() > deadline:
                return int(info["ExitCode"] if info["ExitCode"] is not None else -1)
            time.sleep(0.01)

    def _kill_all(self) -> str:
        """Kill every process of the agent user; restart the container if that cannot be done from inside."""
        try:
            if self._run_detached(["sh", "-c", "kill -KILL -1"], AGENT) == 0:
                return ""
        except docker.errors.APIError:
            pass
        self._container.restart(timeout=0)
        return "; the sandbox was restarted to stop it, so /tmp was emptied"

    def exec(self, cmd: str, timeout: float, env: dict[str, str] | None = None) -> ExecResult:
        """Run `cmd` with `sh -c` in the workspace; processes it leaves behind are killed when it returns."""
        api = self._client.api
        try:
            exec_id = api.exec_create(
                self._container.id,
                ["sh", "-c", WRAPPER, "hgm", cmd],
                user=AGENT,
                environment={**self._env, **(env or {})},
                workdir=self.workdir,
            )["Id"]
            stream: Iterator[bytes] = api.exec_start(exec_id, stream=True)
        except docker.errors.APIError as exc:
            raise SandboxError(f"docker sandbox {self.name} cannot run commands: {exc}") from exc
        output = CappedOutput(self.config.max_output)
        reader = threading.Thread(target=_drain, args=(stream, output), daemon=True)
        reader.start()
        reader.join(timeout)
        if not reader.is_alive():
            return ExecResult(output=output.text(), returncode=self._exit_code(exec_id))
        note = timeout_note(timeout) + self._kill_all()
        reader.join(KILL_GRACE)
        return ExecResult(output=output.text(note), returncode=-9, timed_out=True)

    def copy_in(self, src: Path, dest: str) -> None:
        """Copy a host file or directory to `dest` in the workspace, owned by the agent user."""
        if not src.exists():
            raise FileNotFoundError(f"cannot copy {src} into the sandbox: it does not exist")
        rel = workspace_relative(self.workdir, dest)
        parts = [] if rel == "." else rel.split("/")
        with tempfile.SpooledTemporaryFile(SPOOL) as buf:
            with tarfile.open(fileobj=buf, mode="w") as tar:
                for i in range(1, len(parts)):
                    parent = tarfile.TarInfo("/".join(parts[:i]))
                    parent.type, parent.mode, parent.mtime = tarfile.DIRTYPE, 0o755, int(time.time())
                    parent.uid = parent.gid = AGENT_UID
                    tar.addfile(parent)
                tar.add(src, arcname=rel, filter=_as_agent)
            buf.seek(0)
            self._container.put_archive(self.workdir, buf)

    def copy_out(self, src: str, dest: Path) -> None:
        """Copy a file or directory from the workspace to the host path `dest`."""
        rel = workspace_relative(self.workdir, src)
        inside = self.workdir if rel == "." else f"{self.workdir}/{rel}"
        try:
            chunks, stat = self._container.get_archive(inside)
        except docker.errors.NotFound as exc:
            raise FileNotFoundError(f"cannot copy {src!r} out of the sandbox: it does not exist") from exc
        dest.parent.mkdir(parents=True, exist_ok=True)
        unpack = Path(tempfile.mkdtemp(prefix=".hgm-copy-", dir=dest.parent))
        try:
            with tempfile.SpooledTemporaryFile(SPOOL) as buf:
                for chunk in chunks:
                    buf.write(chunk)
                buf.seek(0)
                with tarfile.open(fileobj=buf) as tar:
                    tar.extractall(unpack, filter=_to_host)
            got = unpack / stat["name"]
            if dest.exists() or dest.is_symlink():
                copy_entry(got, dest)
            else:
                got.rename(dest)
        finally:
            remove_tree(unpack)

    def close(self) -> None:
        """Remove the container and its workspace volume."""
        try:
            self._container.remove(force=True, v=True)
        except docker.errors.NotFound:
            pass
        finally:
            self._client.close()


def list_sandboxes(client: Any) -> list[Any]:
    """Every hgm sandbox container on the engine, running or not."""
    return list(client.containers.list(all=True, filters={"label": f"{LABEL}=1"}))
