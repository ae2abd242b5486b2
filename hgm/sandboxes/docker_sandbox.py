"""The docker backend: a long-lived container with no network, a read-only root and hard resource limits.

Commands run as the user the image names (the sandbox image's `agent`; root in images such as SWE-bench's, which
expect it), always without capabilities; the container's own process runs as another user, so `kill -1` by the
sandbox user stops only its own processes. A grading sandbox may instead get network and a writable root; what it
writes there is measured while a command runs and the command is stopped beyond disk_mb.

Files move through `docker exec` as the sandbox user: in, a tar stream on the exec's stdin unpacked by `tar -x`;
out, `tar -c` streamed from its stdout to the bounded parser in export.py. So a remote engine (DOCKER_HOST) works for
everything except `mounts`: those are bind mounts of host paths and only make sense when the engine runs here. The
files a sandbox starts with are unpacked by the exec of its first command, before that command runs, which saves a
whole exec per sandbox; close() leaves the container's removal to a background thread.

The workspace is a size-limited tmpfs volume (workspace_mb). Docker does not copy an image's files into such a
volume, so when a task image brings its own workdir (SWE-bench: the repository at /testbed), a short-lived helper
copies it in and hands it to the sandbox user before anything else runs. Commands see the image's own PATH, so
toolchains it installs (conda, Go, ...) are found. Secrets are written, through the same stdin, into a tmpfs at
/run/hgm/secrets that only the sandbox user can read; they are never in an environment or a command line.
"""

from __future__ import annotations

import contextlib
import io
import logging
import re
import socket
import struct
import tarfile
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import IO, Any

import docker.errors
from docker.types import DriverConfig, Mount, Ulimit

from hgm.interfaces import ExecResult
from hgm.sandboxes.base import SECRETS_DIR, ClosesOnExit, SandboxError, Usage, check_secrets
from hgm.sandboxes.config import SandboxConfig
from hgm.sandboxes.env import sandbox_env
from hgm.sandboxes.export import Export, ExportLimits, export_argv, finish_export, read_tar_stream
from hgm.sandboxes.image import docker_client
from hgm.sandboxes.output import CappedOutput, timeout_note
from hgm.sandboxes.owner import RUN_LABEL, current_run, owner_tag
from hgm.sandboxes.paths import workspace_path, workspace_relative

log = logging.getLogger(__name__)

LABEL = "hgm.sandbox"
OWNER_LABEL = "hgm.owner"
NAME_LABEL = "hgm.label"
# The container's own process runs as a different user, so `kill -1` by the agent cannot stop the container.
KEEPER_UID = 65534
KEEPER = f"{KEEPER_UID}:{KEEPER_UID}"
# How often a sandbox with a writable root has the size of what it wrote there checked.
DISK_CHECK = 2.0
MiB = 1024 * 1024
SPOOL = 16 * MiB
KILL_GRACE = 10.0
POPULATE_TIMEOUT = 600
IO_TIMEOUT = 600.0
POPULATE_MOUNT = "/hgm-populate"
# Exit 3 when the image has nothing at the workdir; else copy it into the volume and give it to the user ($2).
POPULATE = (
    'if [ ! -d "$1" ] || [ -z "$(ls -A "$1")" ]; then exit 3; fi; '
    f'cp -a "$1"/. {POPULATE_MOUNT}/ && chown -R -h "$2" {POPULATE_MOUNT}'
)
# One stream keeps stdout and stderr in order; what the command leaves running is killed, as on every backend.
# Started like GO. The files a new sandbox starts with come first, on stdin, unpacked by the command after "$2" (if
# any) with its messages on stderr, then "$2 <exit status>": nothing the agent runs can write there, since stderr is
# closed before `sh -c "$1"`, which runs only if they were unpacked.
RUN = (
    'read -r _; cmd=$1; mark=$2; shift 2; if [ $# -gt 0 ]; then "$@" >&2; rc=$?; echo "$mark $rc" >&2; '
    '[ $rc -eq 0 ] || exit 125; fi; exec </dev/null 2>&1; sh -c "$cmd"; rc=$?; kill -KILL -1 2>/dev/null; exit $rc'
)
# Waits for a line on stdin before running the rest: the host sends it once it has read the reply's headers, so
# no output can arrive before the host reads from the raw socket.
GO = 'read -r _; exec "$@"'
UNTAR = ["tar", "--extract", "--file=-", "--no-same-owner", "--no-overwrite-dir"]

# (image id, workdir) pairs known to have nothing at the workdir, so no helper needs to copy anything in.
_empty_workdirs: set[tuple[str, str]] = set()
# The uid and gid each image's USER names, by image id.
_image_users: dict[str, tuple[int, int]] = {}


def _slug(label: str) -> str:
    return re.sub(r"[^a-zA-Z0-9_.-]+", "-", label).strip("-.")[:40]


def _owned_by(uid: int, gid: int) -> Callable[[tarfile.TarInfo], tarfile.TarInfo | None]:
    def owned(info: tarfile.TarInfo) -> tarfile.TarInfo | None:
        if not (info.isfile() or info.isdir() or info.issym()):
            return None
        info.uid, info.gid = uid, gid
        info.uname = info.gname = ""
        return info

    return owned


def _entry(text: str, key: str, column: int = 0) -> tuple[int, int] | None:
    """(third, fourth) fields of the first /etc/passwd or /etc/group line whose `column` field is `key`."""
    for line in text.splitlines():
        fields = line.split(":")
        if len(fields) >= 4 and fields[column] == key and fields[2].isdigit():
            return int(fields[2]), int(fields[3]) if fields[3].isdigit() else 0
    return None


def _image_files(client: Any, image: Any, paths: tuple[str, ...]) -> dict[str, str]:
    """Small text files of an image, read from one container that is never started; "" for those it lacks."""
    found = dict.fromkeys(paths, "")
    container = client.containers.create(image.id, ["true"], network_mode="none")
    try:
        for path in paths:
            try:
                chunks, _ = container.get_archive(path)
                with tarfile.open(fileobj=io.BytesIO(b"".join(chunks)[: 4 * MiB])) as tar:
                    member = tar.extractfile(Path(path).name)
                    found[path] = member.read().decode(errors="replace") if member else ""
            except (docker.errors.NotFound, tarfile.TarError):
                pass
    finally:
        container.remove(force=True)
    return found


def image_user(client: Any, image: Any) -> tuple[int, int]:
    """The uid and gid an image's USER names, resolved as docker does (names through the image's /etc/passwd and
    /etc/group; without a group, the user's passwd group, else 0); root when it names none."""
    if image.id in _image_users:
        return _image_users[image.id]
    spec = str((image.attrs.get("Config") or {}).get("User") or "0:0")
    user, _, group = spec.partition(":")
    where = image.tags[0] if image.tags else image.id
    if user.isdigit() and group.isdigit():
        uid, gid = int(user), int(group)
    else:
        named_group = bool(group) and not group.isdigit()
        files = _image_files(client, image, ("/etc/passwd", "/etc/group") if named_group else ("/etc/passwd",))
        passwd = files["/etc/passwd"]
        if user.isdigit():
            uid, gid = int(user), (_entry(passwd, user, column=2) or (0, 0))[1]
        else:
            named = _entry(passwd, user)
            if named is None:
                raise SandboxError(f"image {where} runs as user {user!r}, which its /etc/passwd lacks")
            uid, gid = named
        if group.isdigit():
            gid = int(group)
        elif group:
            found = _entry(files["/etc/group"], group)
            if found is None:
                raise SandboxError(f"image {where} names group {group!r}, which its /etc/group lacks")
            gid = found[0]
    _image_users[image.id] = (uid, gid)
    return uid, gid


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


class _Run:
    """The output of one RUN exec, read in a thread: stdout, and on stderr what unpacking said and its status."""

    def __init__(self, stream: _ExecSocket, mark: str, max_output: int) -> None:
        self.output = CappedOutput(max_output)
        self.errors = CappedOutput(4000)
        self.unpack_status: int | None = None
        self.unpacked = threading.Event()  # set once unpacking ended (or the output did)
        self._end = re.compile(rb"(?:^|\n)" + mark.encode() + rb" (\d+)\n$")
        self._tail = b""
        self._stream = stream
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        try:
            for kind, chunk in self._stream.frames():
                if kind != 2:
                    self.output.write(chunk)
                    continue
                self.errors.write(chunk)
                self._tail = (self._tail + chunk)[-200:]
                found = self._end.search(self._tail)
                if found:
                    self.unpack_status = int(found.group(1))
                    self.unpacked.set()
        except OSError:
            pass
        finally:
            self.unpacked.set()


class _ExecSocket:
    """One `docker exec` on a raw socket: bytes for its stdin, and its output as (stream, bytes) frames."""

    def __init__(
        self,
        api: Any,
        container: str,
        argv: list[str],
        *,
        user: str,
        workdir: str | None = None,
        environment: dict[str, str] | None = None,
        io_timeout: float | None = IO_TIMEOUT,
        script: str = GO,
    ) -> None:
        self._api = api
        self.exec_id = api.exec_create(
            container,
            ["sh", "-c", script, "hgm", *argv],
            user=user,
            stdin=True,
            workdir=workdir,
            environment=environment,
        )["Id"]
        sock = api.exec_start(self.exec_id, socket=True)
        self._sock: socket.socket = getattr(sock, "_sock", sock)
        self._sock.settimeout(io_timeout)
        self._sock.sendall(b"\n")

    def send(self, chunks: Iterable[bytes]) -> None:
        """Write `chunks` to the command's stdin, then close it."""
        for chunk in chunks:
            self._sock.sendall(chunk)
        self._sock.shutdown(socket.SHUT_WR)

    def end_input(self) -> None:
        """Close the command's stdin."""
        self._sock.shutdown(socket.SHUT_WR)

    def frames(self) -> Iterator[tuple[int, bytes]]:
        """(1 for stdout or 2 for stderr, bytes) until the command's output ends."""
        while True:
            header = self._exactly(8)
            if header is None:
                return
            stream, size = struct.unpack(">BxxxL", header)
            while size:
                chunk = self._sock.recv(min(size, 1 << 16))
                if not chunk:
                    return
                size -= len(chunk)
                yield stream, chunk

    def _exactly(self, n: int) -> bytes | None:
        data = b""
        while len(data) < n:
            chunk = self._sock.recv(n - len(data))
            if not chunk:
                return None
            data += chunk
        return data

    def close(self) -> None:
        """Close the connection (the command keeps running if it has not ended)."""
        # Other objects still hold the socket, so only shutting it down makes the engine stop sending at once.
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_RDWR)
        self._sock.close()


class DockerSandbox(ClosesOnExit):
    """A container kept alive with `sleep infinity`; each command is a `docker exec` as the image's user."""

    _closed = False
    _files: IO[bytes] | None = None
    _put_error = ""

    def __init__(
        self,
        config: SandboxConfig,
        workspace: Path,
        mounts: dict[str, str] | None = None,
        env: dict[str, str] | None = None,
        label: str = "",
        secrets: dict[str, str] | None = None,
    ) -> None:
        if not workspace.is_dir():
            raise FileNotFoundError(f"sandbox workspace {workspace} is not a directory")
        self.config = config
        self.workdir = config.workdir
        self.secrets_dir = SECRETS_DIR
        secret_files = check_secrets(secrets, mounts)
        self._client = docker_client()
        try:
            image = self._client.images.get(config.image)
            uid, gid = image_user(self._client, image) if config.user == "image" else map(int, config.user.split(":"))
        except docker.errors.ImageNotFound as exc:
            self._client.close()
            raise SandboxError(f"sandbox image {config.image} not found; build it with `hgm sandbox build`") from exc
        except BaseException:
            self._client.close()
            raise
        if uid == KEEPER_UID:
            self._client.close()
            raise SandboxError(f"docker sandboxes cannot run as uid {uid}: the container's keeper process uses it")
        self.user, self._owned, self._image_id = f"{uid}:{gid}", _owned_by(uid, gid), image.id
        secrets_tmpfs = (
            {SECRETS_DIR: f"rw,noexec,nosuid,nodev,size=1m,mode=0700,uid={uid},gid={gid}"} if secret_files else {}
        )
        space = DriverConfig(
            "local",
            {"type": "tmpfs", "device": "tmpfs", "o": f"size={config.workspace_mb}m,uid={uid},gid={gid},mode=0755"},
        )
        volumes = [Mount(config.workdir, None, type="volume", no_copy=True, driver_config=space)]
        volumes += [Mount(inside, host, type="bind", read_only=True) for host, inside in (mounts or {}).items()]
        self._labels = {LABEL: "1", OWNER_LABEL: owner_tag(), RUN_LABEL: current_run(), NAME_LABEL: label}
        name = "-".join(part for part in ("hgm", _slug(label), uuid.uuid4().hex[:8]) if part)
        self._env = sandbox_env("/tmp", image_path((image.attrs.get("Config") or {}).get("Env")), env)
        try:
            self._container = self._client.containers.run(
                image.id,
                ["sleep", "infinity"],
                name=name,
                hostname="sandbox",
                detach=True,
                init=True,
                user=KEEPER,
                working_dir=config.workdir,
                labels=self._labels,
                network_mode="bridge" if config.network else "none",
                read_only=config.read_only_root,
                tmpfs={"/tmp": f"rw,exec,nosuid,nodev,size={config.tmp_mb}m,mode=1777", **secrets_tmpfs},
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
        except BaseException:
            self._client.close()
            raise
        try:
            if (image.id, config.workdir) not in _empty_workdirs and not self._populate():
                _empty_workdirs.add((image.id, config.workdir))
            self._secret_files = secret_files
            self._unpacking = threading.Lock()
            self._files = self._pack(workspace)  # unpacked by the first command, or the first copy_in or export
        except BaseException:
            self.close()
            raise

    @property
    def name(self) -> str:
        """The container's name."""
        return str(self._container.name)

    def _put_files(self, workspace: Path | None) -> None:
        """Copy `workspace` (if given) into the workdir and write the secrets, in one pass as the sandbox user."""
        with self._pack(workspace) as buf:
            self._put(buf, "/")

    def _pack(self, workspace: Path | None) -> IO[bytes]:
        """A tar archive (relative to /) of `workspace` (if given) as the workdir, and of the secrets."""
        buf = tempfile.SpooledTemporaryFile(SPOOL)  # noqa: SIM115 (the caller closes it)
        try:
            with tarfile.open(fileobj=buf, mode="w") as tar:
                if workspace is not None:
                    tar.add(workspace, arcname=self.workdir.lstrip("/"), filter=self._owned)
                for secret, value in self._secret_files.items():
                    info = tarfile.TarInfo(f"{SECRETS_DIR.lstrip('/')}/{secret}")
                    info.size, info.mode, info.mtime = len(value), 0o400, int(time.time())
                    tar.addfile(info, io.BytesIO(value))
        except BaseException:
            buf.close()
            raise
        return buf  # type: ignore[return-value]

    def _flush_files(self) -> None:
        """Unpack the files the sandbox starts with now, if no command has done it yet."""
        with self._unpacking:
            if self._put_error:
                raise SandboxError(self._put_error)
            files, self._files = self._files, None
            if files is not None:
                with files:
                    try:
                        self._put(files, "/")
                    except BaseException as exc:
                        self._put_error = (
                            str(exc)
                            if isinstance(exc, SandboxError)
                            else f"docker sandbox {self.name} is broken: {exc}"
                        )
                        raise

    def _helper(self, suffix: str, command: list[str], mount: str, **options: Any) -> Any:
        """A created (not started) short-lived container of the image with the workspace volume at `mount`."""
        self._container.reload()
        volume = next(m["Name"] for m in self._container.attrs["Mounts"] if m["Destination"] == self.workdir)
        return self._client.containers.create(
            self._image_id,
            command,
            name=f"{self.name}-{suffix}",
            labels=self._labels,
            network_mode="none",
            read_only=True,
            mounts=[Mount(mount, volume, type="volume", no_copy=True)],
            nano_cpus=int(self.config.cpus * 1e9),
            mem_limit=f"{self.config.memory_mb}m",
            pids_limit=self.config.pids,
            cap_drop=["ALL"],
            security_opt=["no-new-privileges"],
            **options,
        )

    def _populate(self) -> bool:
        """Copy the image's files at the workdir into the workspace volume as the agent's; False if it has none."""
        # Root with only the capabilities to copy and chown does it; the sandbox itself never holds one.
        helper = self._helper(
            "populate",
            ["-c", POPULATE, "hgm", self.workdir, self.user],
            POPULATE_MOUNT,
            entrypoint=["sh"],
            user="0:0",
            cap_add=["CHOWN", "DAC_OVERRIDE", "FOWNER"],
        )
        try:
            helper.start()
            status = helper.wait(timeout=POPULATE_TIMEOUT)["StatusCode"]
            said = "" if status in (0, 3) else helper.logs().decode(errors="replace").strip()[-2000:]
        except docker.errors.APIError as exc:
            status, said = -1, str(exc)
        finally:
            helper.remove(force=True)
        if status == 3:
            return False
        if status != 0:
            full = " (it does not fit in workspace_mb; raise it)" if "No space left" in said else ""
            raise SandboxError(
                f"could not copy {self.workdir} of image {self.config.image} into the sandbox's workspace{full}: "
                f"{said or f'exit {status}'}"
            )
        return True

    def _put(self, tar: IO[bytes], into: str) -> None:
        """Unpack the tar archive `tar` (read from its start) at `into`, as the sandbox user."""
        tar.seek(0)
        stream = _ExecSocket(self._client.api, self._container.id, [*UNTAR, f"--directory={into}"], user=self.user)
        output = CappedOutput(4000)
        reader = threading.Thread(target=_drain, args=((c for _, c in stream.frames()), output), daemon=True)
        reader.start()
        try:
            # tar may stop reading early (a full workspace); its exit status and message say why.
            with contextlib.suppress(OSError):
                stream.send(iter(lambda: tar.read(1 << 16), b""))
            reader.join(IO_TIMEOUT)
        finally:
            stream.close()
        status = self._exit_code(stream.exec_id)
        if status != 0:
            raise SandboxError(f"could not write files into docker sandbox {self.name}: {output.text().strip()}")

    def _run_detached(self, argv: list[str], user: str) -> int:
        api = self._client.api
        exec_id = api.exec_create(self._container.id, argv, user=user)["Id"]
        api.exec_start(exec_id, detach=True)
        return self._exit_code(exec_id)

    def _exit_code(self, exec_id: str) -> int:
        deadline = time.monotonic() + KILL_GRACE
        while True:
            info = self._client.api.exec_inspect(exec_id)
            if not info["Running"] or time.monotonic() > deadline:
                return int(info["ExitCode"] if info["ExitCode"] is not None else -1)
            time.sleep(0.01)

    def _kill_all(self) -> str:
        """Kill every process of the sandbox user; restart the container if that cannot be done from inside."""
        try:
            if self._run_detached(["sh", "-c", "kill -KILL -1"], self.user) == 0:
                return ""
        except docker.errors.APIError:
            pass
        # A tmpfs volume lives while a container has it mounted: a holder keeps the workspace through the restart.
        holder = self._helper("hold", ["sleep", "infinity"], POPULATE_MOUNT, user=KEEPER)
        try:
            holder.start()
            self._container.restart(timeout=0)
        finally:
            holder.remove(force=True)
        self._put_files(None)
        return "; the sandbox was restarted to stop it, so /tmp was emptied"

    def exec(self, cmd: str, timeout: float, env: dict[str, str] | None = None) -> ExecResult:
        """Run `cmd` with `sh -c` in the workspace; processes it leaves behind are killed when it returns.

        The first command also unpacks the files the sandbox starts with (one `docker exec` fewer per sandbox);
        other calls wait until it has.
        """
        self._unpacking.acquire()
        held = True

        def unpacked() -> None:
            nonlocal held
            held = False
            self._unpacking.release()

        try:
            if self._put_error:
                raise SandboxError(self._put_error)
            files, self._files = self._files, None
            if files is None:
                unpacked()
                return self._run(cmd, timeout, env, None, unpacked)
            with files:
                try:
                    return self._run(cmd, timeout, env, files, unpacked)
                except BaseException as exc:
                    if held:  # what the workspace holds is unknown: nothing more runs in this sandbox
                        self._put_error = self._put_error or f"docker sandbox {self.name} is broken: {exc}"
                    raise
        finally:
            if held:
                self._unpacking.release()

    def _run(
        self,
        cmd: str,
        timeout: float,
        env: dict[str, str] | None,
        files: IO[bytes] | None,
        unpacked: Callable[[], None],
    ) -> ExecResult:
        """Run RUN with `cmd`, unpacking `files` first (if given) and calling `unpacked()` once they are."""
        mark = uuid.uuid4().hex
        unpack = [*UNTAR, "--directory=/"] if files is not None else []
        try:
            stream = _ExecSocket(
                self._client.api,
                self._container.id,
                [cmd, mark, *unpack],
                user=self.user,
                workdir=self.workdir,
                environment={**self._env, **(env or {})},
                io_timeout=None,
                script=RUN,
            )
        except docker.errors.APIError as exc:
            raise SandboxError(f"docker sandbox {self.name} cannot run commands: {exc}") from exc
        run = _Run(stream, mark, self.config.max_output)
        try:
            if files is not None:
                # tar may stop reading early (a full workspace); its message and status say why.
                files.seek(0)
                with contextlib.suppress(OSError):
                    stream.send(iter(lambda: files.read(1 << 16), b""))
                if not run.unpacked.wait(IO_TIMEOUT):
                    self._kill_all()
                    raise SandboxError(f"could not write files into docker sandbox {self.name}: stalled")
                if run.unpack_status != 0:
                    said = run.errors.text().replace(f"{mark} {run.unpack_status}", "").strip()
                    self._put_error = f"could not write files into docker sandbox {self.name}: {said}"
                    raise SandboxError(self._put_error)
                unpacked()
            else:
                stream.end_input()
            overfull = self._wait(run.thread, timeout)
            if run.thread.is_alive():
                if overfull:
                    note = f"[hgm: stopped: wrote more than {self.config.disk_mb} MB outside the workspace and /tmp]"
                    note += self._kill_all()
                    run.thread.join(KILL_GRACE)
                    return ExecResult(output=run.output.text(note), returncode=-9)
                note = timeout_note(timeout) + self._kill_all()
                run.thread.join(KILL_GRACE)
                return ExecResult(output=run.output.text(note), returncode=-9, timed_out=True)
        finally:
            stream.close()
        return ExecResult(output=run.output.text(), returncode=self._exit_code(stream.exec_id))

    def _wait(self, reader: threading.Thread, timeout: float) -> bool:
        """Wait for `reader` to end, at most `timeout` seconds; True if a writable root outgrew disk_mb first."""
        if self.config.read_only_root:
            reader.join(timeout)
            return False
        deadline = time.monotonic() + timeout
        while reader.is_alive() and (left := deadline - time.monotonic()) > 0:
            reader.join(min(DISK_CHECK, left))
            if reader.is_alive() and self.written() > self.config.disk_mb * MiB:
                return True
        return False

    def written(self) -> int:
        """Bytes the container wrote to its own (writable) root filesystem, as the engine counts them."""
        found = self._client.api.containers(all=True, size=True, filters={"id": self._container.id})
        return int(found[0].get("SizeRw") or 0) if found else 0

    def copy_in(self, src: Path, dest: str) -> None:
        """Copy a host file or directory to `dest` in the workspace, owned by the sandbox user."""
        if not src.exists():
            raise FileNotFoundError(f"cannot copy {src} into the sandbox: it does not exist")
        rel = workspace_relative(self.workdir, dest)
        self._flush_files()
        with tempfile.SpooledTemporaryFile(SPOOL) as buf:
            with tarfile.open(fileobj=buf, mode="w") as tar:
                tar.add(src, arcname=rel, filter=self._owned)
            self._put(buf, self.workdir)

    def export(self, src: str, limits: ExportLimits | None = None) -> Export:
        """The regular files at `src`, archived by `tar` in the container as the sandbox user, read with caps.

        Stopping at a cap kills every process of the sandbox user, as the end of a command does.
        """
        inside = workspace_path(self.workdir, src)
        self._flush_files()
        try:
            stream = _ExecSocket(self._client.api, self._container.id, export_argv(inside), user=self.user)
        except docker.errors.APIError as exc:
            raise SandboxError(f"docker sandbox {self.name} cannot run commands: {exc}") from exc
        errors = CappedOutput(4000)
        ended = False

        def stdout() -> Iterator[bytes]:
            nonlocal ended
            for kind, chunk in stream.frames():
                if kind == 1:
                    yield chunk
                else:
                    errors.write(chunk)
            ended = True

        timed_out = False
        try:
            stream.end_input()
            got = read_tar_stream(stdout(), limits)
        except TimeoutError:
            got, timed_out = Export(), True
            got.note(f"stopped: the archive stalled for {IO_TIMEOUT:g}s", incomplete=True)
        finally:
            stream.close()
        if not ended:
            self._kill_all()
        status = self._exit_code(stream.exec_id)
        return finish_export(got, src, status, errors.text(), stopped=not ended or timed_out)

    def usage(self) -> Usage | None:
        """CPU and memory used so far, from the container's cgroup as the engine reports it."""
        stats = self._container.stats(stream=False, one_shot=True)
        cpu = stats.get("cpu_stats") or {}
        throttling = cpu.get("throttling_data") or {}
        memory = stats.get("memory_stats") or {}
        return Usage(
            cpu_seconds=(cpu.get("cpu_usage") or {}).get("total_usage", 0) / 1e9,
            periods=throttling.get("periods", 0),
            throttled=throttling.get("throttled_periods", 0),
            memory_peak=memory.get("max_usage"),
        )

    def close(self) -> None:
        """Remove the container and its workspace volume, in the background: this returns at once.

        `drain_removals()` waits until every container closed so far is gone; the interpreter waits for them too
        when it exits normally, and `cleanup_orphans` finds those of a process that died first.
        """
        if not self._closed:
            self._closed = True
            if self._files is not None:
                self._files.close()
                self._files = None
            _removals.start(self._client, self._container.id)


class _Removals:
    """Containers being removed, each by its own thread so one slow removal never delays the others."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._threads: set[threading.Thread] = set()

    def start(self, client: Any, container: str) -> None:
        """Remove `container` (with its volumes) and then close `client`, in a thread of its own."""
        # Not a daemon: a normal interpreter exit waits for the removal rather than leaving the container behind.
        thread = threading.Thread(target=self._remove, args=(client, container), name=f"hgm-rm-{container[:12]}")
        with self._lock:
            self._threads.add(thread)
        thread.start()

    def _remove(self, client: Any, container: str) -> None:
        try:
            client.api.remove_container(container, force=True, v=True)
        except docker.errors.NotFound:
            pass
        except docker.errors.APIError as exc:
            if exc.status_code != 409:  # 409: its removal is already under way (by cleanup_orphans, say)
                log.warning("could not remove docker sandbox %s: %s", container[:12], exc)
        except Exception as exc:  # the engine went away: cleanup_orphans removes it later
            log.warning("could not remove docker sandbox %s: %s", container[:12], exc)
        finally:
            client.close()
            with self._lock:
                self._threads.discard(threading.current_thread())

    def drain(self, timeout: float | None = None) -> bool:
        """Wait until every removal started so far has ended; False if some still run after `timeout` seconds."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._lock:
            threads = list(self._threads)
        for thread in threads:
            thread.join(None if deadline is None else max(0.0, deadline - time.monotonic()))
        return not any(thread.is_alive() for thread in threads)


_removals = _Removals()


def drain_removals(timeout: float | None = None) -> bool:
    """Wait until the containers of every docker sandbox closed so far are removed; False if `timeout` ran out."""
    return _removals.drain(timeout)


def list_sandboxes(client: Any) -> list[Any]:
    """Every hgm sandbox container on the engine, running or not."""
    return list(client.containers.list(all=True, filters={"label": f"{LABEL}=1"}))
