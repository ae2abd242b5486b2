"""The bwrap backend: bubblewrap namespaces with no network, a read-only system, and limits on the whole sandbox.

bwrap always runs unprivileged, inside a user namespace of its own. When hgm runs as root it first drops to
`bwrap_uid` (root would be exempt from the process limit), and it can do more, once per sandbox:
- a Keeper holds a private mount namespace with a tmpfs of workspace_mb + tmp_mb for the workspace and /tmp, and
  with the sources that user cannot reach (the rootfs under /root/.cache, a gateway socket under a private
  directory) bind-mounted into a staging directory; every command enters that namespace;
- a cgroup caps memory, CPU and processes of everything the sandbox runs.
Without root (or without cgroups) the limits are prlimit's, per process; `limits_statement` says which hold.

bwrap's own arguments travel through a memfd (`--args`), and secrets through one memfd each (`--ro-bind-data`), so
neither the environment given to sandboxed code nor a secret shows in any host process's command line.
"""

from __future__ import annotations

import logging
import math
import os
import re
import shutil
import subprocess
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import cache
from pathlib import Path

from hgm.interfaces import ExecResult
from hgm.sandboxes.base import SECRETS_DIR, ClosesOnExit, SandboxError, Usage, check_secrets
from hgm.sandboxes.cgroups import SandboxCgroup, cgroup_problem
from hgm.sandboxes.config import SandboxConfig
from hgm.sandboxes.env import BASE_PATH, sandbox_env
from hgm.sandboxes.export import Export, ExportLimits, export_argv, finish_export, read_tar_stream
from hgm.sandboxes.hostfs import HostWorkspace
from hgm.sandboxes.paths import workspace_path
from hgm.sandboxes.process import StreamedProcess, run_process
from hgm.sandboxes.rootfs import default_rootfs

log = logging.getLogger(__name__)

MiB = 1024 * 1024
# What of the host's /etc programs need; the rest (shadow, credentials, configs) stays invisible.
HOST_ETC = (
    "alternatives",
    "group",
    "hosts",
    "ld.so.cache",
    "ld.so.conf",
    "ld.so.conf.d",
    "localtime",
    "mime.types",
    "nsswitch.conf",
    "passwd",
)
HOST_SYSTEM = ("usr", "bin", "sbin", "lib", "lib32", "lib64", "libx32")
NOT_FROM_ROOTFS = {"proc", "dev", "sys", "tmp", "run"}
# How bwrap reports a failure to build the sandbox (after the namespaces exist): one line, exit status 1.
SETUP_ERROR = re.compile(r"bwrap: [^\n]*\n")


class BwrapUnavailable(RuntimeError):
    """bubblewrap is missing or cannot create namespaces here."""


def bwrap_binary() -> str:
    """Path of the bwrap executable."""
    path = shutil.which("bwrap")
    if path is None:
        raise BwrapUnavailable("bubblewrap is not installed: run `apt-get install -y bubblewrap`")
    return path


def run_as(uid: int) -> int | None:
    """The uid bwrap runs as: `uid` when hgm is root, else None (hgm's own)."""
    return uid if os.geteuid() == 0 else None


@cache
def _supports_disable_userns(binary: str) -> bool:
    help_text = subprocess.run([binary, "--help"], capture_output=True, text=True).stdout
    return "--disable-userns" in help_text


def check_bwrap(config: SandboxConfig) -> None:
    """Raise BwrapUnavailable with a fix if a trivial sandbox cannot start."""
    argv = [bwrap_binary(), "--unshare-all", "--unshare-user", "--ro-bind", "/", "/", "true"]
    uid = run_as(config.bwrap_uid)
    if uid is not None:
        argv = ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "--", *argv]
    proc = subprocess.run(argv, capture_output=True, text=True, env={"PATH": BASE_PATH})
    if proc.returncode != 0:
        raise BwrapUnavailable(
            f"bubblewrap cannot create a sandbox ({proc.stderr.strip()}); unprivileged user namespaces must be "
            "allowed: `sysctl -w user.max_user_namespaces=10000` (and `kernel.unprivileged_userns_clone=1` "
            "where that setting exists)"
        )


def resolve_rootfs(setting: str) -> Path | None:
    """The root filesystem bwrap uses, or None for read-only parts of the host's own system."""
    if setting == "host":
        return None
    if setting == "auto":
        built = default_rootfs()
        return built if (built / "usr").is_dir() else None
    path = Path(setting)
    if not (path / "usr").is_dir():
        raise FileNotFoundError(
            f"bwrap rootfs {path} has no usr/ directory; build one with `hgm sandbox build --offline`, "
            "or set rootfs to auto or host"
        )
    return path


@cache
def limits_statement(uid: int | None) -> str:
    """How bwrap sandboxes are limited here, in one line (logged once, shown by `hgm sandbox info`)."""
    if uid is None:
        return (
            "bwrap sandboxes are limited per process only, as hgm does not run as root: memory is an address-space "
            "cap per process, there is no CPU quota, and the workspace and /tmp have no size limit"
        )
    problem = cgroup_problem()
    if problem:
        return (
            f"bwrap sandboxes get no cgroup ({problem}): memory is an address-space cap per process and there is "
            "no CPU quota; the workspace and /tmp share a size-limited tmpfs"
        )
    return "bwrap sandboxes run in a cgroup (memory, CPU, processes) over a size-limited tmpfs workspace and /tmp"


def _memfd(name: str, data: bytes) -> int:
    fd = os.memfd_create(name, 0)
    try:
        os.write(fd, data)
        os.lseek(fd, 0, os.SEEK_SET)
    except BaseException:
        os.close(fd)
        raise
    return fd


# Joins the cgroup in each hierarchy named before "--", then runs the rest.
ATTACH = 'for f; do [ "$f" = -- ] && break; echo $$ > "$f" || exit 125; shift; done; shift; exec "$@"'


class BwrapSandbox(ClosesOnExit):
    """Each command runs in a fresh bwrap sandbox over a workspace and /tmp that persist for the sandbox's life."""

    def __init__(
        self,
        config: SandboxConfig,
        workspace: Path,
        mounts: dict[str, str] | None = None,
        env: dict[str, str] | None = None,
        secrets: dict[str, str] | None = None,
    ) -> None:
        if config.network or not config.read_only_root:
            raise SandboxError("bwrap sandboxes have no network and a read-only root; those settings need docker")
        self.config = config
        self.workdir = config.workdir
        self.secrets_dir = SECRETS_DIR
        self._secrets = check_secrets(secrets, mounts)
        self._binary = bwrap_binary()
        self._uid = run_as(config.bwrap_uid)
        self._rootfs = resolve_rootfs(config.rootfs)
        self._mounts = {Path(host): inside for host, inside in (mounts or {}).items()}
        for host, inside in self._mounts.items():
            if not host.exists():
                raise FileNotFoundError(f"sandbox mount source {host} does not exist")
            if not inside.startswith("/") or inside == "/":
                raise ValueError(f"sandbox mount target {inside!r} must be an absolute path below /")
        self._env = sandbox_env("/tmp", env)
        self._cgroup: SandboxCgroup | None = None
        staged = [*([self._rootfs] if self._rootfs else []), *self._mounts] if self._uid is not None else []
        if self._uid is not None and cgroup_problem() is None:
            self._cgroup = SandboxCgroup(memory_bytes=config.memory_mb * MiB, cpus=config.cpus, pids=config.pids)
        else:
            _warn_once(limits_statement(self._uid))
        try:
            self._ws = HostWorkspace(
                workspace,
                config.workdir,
                (self._uid, self._uid) if self._uid is not None else None,
                tmpfs_bytes=(config.workspace_mb + config.tmp_mb) * MiB if self._uid is not None else 0,
                stage=staged,
                cgroups=self._cgroup.dirs if self._cgroup else (),
            )
            self._ws.scratch("tmp")
        except BaseException:
            if self._cgroup is not None:
                self._cgroup.close()
            raise
        self._staged = {src: self._ws.base / "stage" / str(i) for i, src in enumerate(staged)}

    def _source(self, path: Path) -> str:
        return str(self._staged.get(path, path))

    def _system_args(self) -> list[str]:
        args: list[str] = []
        top = self.workdir.strip("/").split("/")[0]
        if self._rootfs is not None:
            root = Path(self._source(self._rootfs))
            names = [n for n in sorted(os.listdir(self._rootfs)) if n not in NOT_FROM_ROOTFS and n != top]
        else:
            root = Path("/")
            names = list(HOST_SYSTEM)
        for name in names:
            path = (self._rootfs or root) / name
            if path.is_symlink():
                args += ["--symlink", os.readlink(path), f"/{name}"]
            elif path.is_dir():
                args += ["--ro-bind", str(root / name), f"/{name}"]
        if self._rootfs is None:
            etc = Path("/etc")
            for path in [etc / name for name in HOST_ETC] + sorted(etc.glob("python3*")):
                if path.exists():
                    args += ["--ro-bind", str(path), f"/etc/{path.name}"]
        return args

    def _bwrap_args(self, env: dict[str, str], info_fd: int, secret_fds: dict[str, int]) -> list[str]:
        args = ["--unshare-all", "--unshare-user", "--die-with-parent", "--new-session", "--info-fd", str(info_fd)]
        if _supports_disable_userns(self._binary):
            args.append("--disable-userns")
        args += ["--hostname", "sandbox", "--clearenv", *self._system_args(), "--proc", "/proc", "--dev", "/dev"]
        args += ["--bind", str(self._ws.base / "workspace"), self.workdir, "--bind", str(self._ws.base / "tmp"), "/tmp"]
        # /run is a tmpfs, as on a real system, so mounts can go below it even over a read-only rootfs.
        args += ["--tmpfs", "/run"]
        for host, inside in self._mounts.items():
            args += ["--ro-bind", self._source(host), inside]
        if secret_fds:
            args += ["--perms", "0500", "--dir", self.secrets_dir]
            for name, fd in secret_fds.items():
                args += ["--perms", "0400", "--ro-bind-data", str(fd), f"{self.secrets_dir}/{name}"]
        args += ["--remount-ro", "/run", "--remount-ro", "/", "--chdir", self.workdir]
        for key, value in env.items():
            args += ["--setenv", key, value]
        return args

    def _limits(self, timeout: float) -> list[str]:
        cfg = self.config
        limits = [f"--cpu={math.ceil(timeout) + 1}", f"--fsize={cfg.file_size_mb * MiB}", "--core=0"]
        if self._cgroup is None:
            limits += [f"--nproc={cfg.pids}", f"--as={cfg.memory_mb * MiB}"]
        return limits

    @contextmanager
    def _launch(self, command: Sequence[str], timeout: float, env: dict[str, str]) -> Iterator[_Launch]:
        """The host command line that runs `command` in a fresh bwrap, with the descriptors it must inherit."""
        fds: list[int] = []
        info_r, info_w = os.pipe()
        try:
            fds.append(info_w)
            secret_fds = {name: _memfd("hgm-secret", value) for name, value in self._secrets.items()}
            fds += secret_fds.values()
            args = self._bwrap_args(env, info_w, secret_fds)
            if any("\0" in arg for arg in args):
                raise ValueError("sandbox environment values must not contain NUL characters")
            args_fd = _memfd("hgm-bwrap-args", b"".join(arg.encode() + b"\0" for arg in args))
            fds.append(args_fd)
            argv = [self._binary, "--args", str(args_fd), "--", "prlimit", *self._limits(timeout), "--", *command]
            if self._uid is not None:
                assert self._ws.keeper is not None
                argv = [*self._ws.keeper.enter(), f"--setuid={self._uid}", f"--setgid={self._uid}", "--", *argv]
                if self._cgroup is not None:
                    argv = ["sh", "-c", ATTACH, "hgm", *map(str, self._cgroup.procs_files), "--", *argv]
            yield _Launch(argv, fds, info_r)
        finally:
            for fd in [info_r, *fds]:
                os.close(fd)

    def exec(self, cmd: str, timeout: float, env: dict[str, str] | None = None) -> ExecResult:
        """Run `cmd` with `sh -c` in the workspace; processes it leaves behind die with it."""
        with self._launch(["sh", "-c", cmd], timeout, {**self._env, **(env or {})}) as launch:
            result = run_process(
                launch.argv,
                timeout=timeout,
                max_output=self.config.max_output,
                env={"PATH": BASE_PATH},
                pass_fds=launch.fds,
            )
            started = launch.started()
        self._settle()
        setup_failed = result.returncode == 1 and SETUP_ERROR.fullmatch(result.output) is not None
        if (not started or setup_failed) and not result.timed_out:
            raise SandboxError(f"bwrap could not set up the sandbox: {result.output.strip()}")
        return result

    def copy_in(self, src: Path, dest: str) -> None:
        """Copy a host file or directory into the workspace."""
        self._ws.copy_in(src, dest)

    def export(self, src: str, limits: ExportLimits | None = None) -> Export:
        """The regular files at `src`, archived by `tar` inside a fresh sandbox as its user, read with caps."""
        inside = workspace_path(self.workdir, src)
        timeout = self.config.timeout
        with self._launch(export_argv(inside), timeout, sandbox_env("/tmp")) as launch:
            with StreamedProcess(launch.argv, timeout=timeout, env={"PATH": BASE_PATH}, pass_fds=launch.fds) as tar:
                got = read_tar_stream(tar.chunks(), limits)
            self._settle()
            if not launch.started() and not tar.timed_out:
                raise SandboxError(f"bwrap could not set up the sandbox: {tar.errors().strip()}")
        return finish_export(got, src, tar.returncode, tar.errors(), stopped=tar.killed or tar.timed_out)

    def _settle(self) -> None:
        """Wait until what the command left has died, so the next one starts with the whole pids limit."""
        if self._cgroup is not None:
            self._cgroup.settle()

    def usage(self) -> Usage | None:
        """CPU and memory used so far by everything the sandbox ran, from its cgroup (None without one)."""
        return self._cgroup.usage() if self._cgroup is not None else None

    def close(self) -> None:
        """Stop what still runs, then free the workspace file system and the cgroup."""
        try:
            if self._cgroup is not None:
                self._cgroup.close()
        finally:
            self._ws.remove()


class _Launch:
    """A prepared bwrap command line, the descriptors it inherits, and whether bwrap got as far as its namespaces."""

    def __init__(self, argv: list[str], fds: list[int], info_r: int) -> None:
        self.argv, self.fds, self._info_r = argv, fds, info_r

    def started(self) -> bool:
        """Whether bwrap made the namespaces (it writes its info once they exist); call after it ended."""
        os.set_blocking(self._info_r, False)
        try:
            return bool(os.read(self._info_r, 65536))
        except BlockingIOError:
            return False


@cache
def _warn_once(statement: str) -> None:
    log.warning(statement)
