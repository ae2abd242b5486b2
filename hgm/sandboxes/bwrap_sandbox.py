"""The bwrap backend: bubblewrap namespaces with no network, a read-only system and prlimit resource limits.

bwrap always runs unprivileged, inside a user namespace of its own. When hgm runs as root it first drops to
`bwrap_uid` (root would be exempt from the process limit); sources that user cannot reach (the rootfs under
/root/.cache, a gateway socket under a private directory) are bind-mounted into a staging directory inside a
throw-away mount namespace before the drop.
"""

from __future__ import annotations

import math
import os
import re
import shlex
import shutil
import subprocess
from functools import cache
from pathlib import Path

from hgm.interfaces import ExecResult
from hgm.sandboxes.base import ClosesOnExit, SandboxError
from hgm.sandboxes.config import SandboxConfig
from hgm.sandboxes.env import BASE_PATH, sandbox_env
from hgm.sandboxes.hostfs import HostWorkspace
from hgm.sandboxes.process import run_process
from hgm.sandboxes.rootfs import rootfs_path

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


def _drop_to(uid: int | None, argv: list[str], staged: dict[Path, Path]) -> list[str]:
    """`argv` run as `uid` after bind-mounting each staged source in a private mount namespace (root only)."""
    if uid is None:
        return argv
    steps = [f"mount --bind {shlex.quote(str(src))} {shlex.quote(str(dst))}" for src, dst in staged.items()]
    drop = ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "--", *argv]
    script = " && ".join([*steps, f"exec {shlex.join(drop)}"])
    return ["unshare", "--mount", "--propagation", "private", "--", "sh", "-c", script]


def check_bwrap(config: SandboxConfig) -> None:
    """Raise BwrapUnavailable with a fix if a trivial sandbox cannot start."""
    argv = [bwrap_binary(), "--unshare-all", "--unshare-user", "--ro-bind", "/", "/", "true"]
    argv = _drop_to(run_as(config.bwrap_uid), argv, {})
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
        built = rootfs_path()
        return built if (built / "usr").is_dir() else None
    path = Path(setting)
    if not (path / "usr").is_dir():
        raise FileNotFoundError(
            f"bwrap rootfs {path} has no usr/ directory; build one with `hgm sandbox build --offline`, "
            "or set rootfs to auto or host"
        )
    return path


class BwrapSandbox(ClosesOnExit):
    """Each command runs in a fresh bwrap sandbox over a workspace and /tmp that persist on the host."""

    def __init__(
        self,
        config: SandboxConfig,
        workspace: Path,
        mounts: dict[str, str] | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        self.config = config
        self.workdir = config.workdir
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
        self._ws = HostWorkspace(workspace, config.workdir, (self._uid, self._uid) if self._uid is not None else None)
        self._tmp = self._ws.scratch("tmp")
        self._staged: dict[Path, Path] = {}
        if self._uid is not None:
            stage = self._ws.scratch("stage")
            for i, src in enumerate([*([self._rootfs] if self._rootfs else []), *self._mounts]):
                dst = stage / str(i)
                dst.mkdir() if src.is_dir() else dst.touch()
                self._staged[src] = dst

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

    def _argv(self, cmd: str, timeout: float, env: dict[str, str], info_fd: int) -> list[str]:
        cfg = self.config
        argv = [self._binary, "--unshare-all", "--unshare-user", "--die-with-parent", "--new-session"]
        argv += ["--info-fd", str(info_fd)]
        if _supports_disable_userns(self._binary):
            argv.append("--disable-userns")
        argv += ["--hostname", "sandbox", "--clearenv", *self._system_args(), "--proc", "/proc", "--dev", "/dev"]
        argv += ["--bind", str(self._ws.root), self.workdir, "--bind", str(self._tmp), "/tmp"]
        # /run is a tmpfs, as on a real system, so mounts can go below it even over a read-only rootfs.
        argv += ["--tmpfs", "/run"]
        for host, inside in self._mounts.items():
            argv += ["--ro-bind", self._source(host), inside]
        argv += ["--remount-ro", "/run", "--remount-ro", "/", "--chdir", self.workdir]
        for key, value in env.items():
            argv += ["--setenv", key, value]
        limits = [
            f"--nproc={cfg.pids}",
            f"--as={cfg.memory_mb * MiB}",
            f"--cpu={math.ceil(timeout) + 1}",
            f"--fsize={cfg.file_size_mb * MiB}",
            "--core=0",
        ]
        argv += ["--", "prlimit", *limits, "--", "sh", "-c", cmd]
        return _drop_to(self._uid, argv, self._staged)

    def exec(self, cmd: str, timeout: float, env: dict[str, str] | None = None) -> ExecResult:
        """Run `cmd` with `sh -c` in the workspace; processes it leaves behind die with it."""
        # bwrap writes to this pipe once it has made the namespaces, so silence means staging or bwrap itself failed.
        info_r, info_w = os.pipe()
        try:
            argv = self._argv(cmd, timeout, {**self._env, **(env or {})}, info_fd=info_w)
            result = run_process(
                argv, timeout=timeout, max_output=self.config.max_output, env={"PATH": BASE_PATH}, pass_fds=[info_w]
            )
            os.set_blocking(info_r, False)
            try:
                started = bool(os.read(info_r, 65536))
            except BlockingIOError:
                started = False
        finally:
            os.close(info_r)
            os.close(info_w)
        setup_failed = result.returncode == 1 and SETUP_ERROR.fullmatch(result.output) is not None
        if (not started or setup_failed) and not result.timed_out:
            raise SandboxError(f"bwrap could not set up the sandbox: {result.output.strip()}")
        return result

    def copy_in(self, src: Path, dest: str) -> None:
        """Copy a host file or directory into the workspace."""
        self._ws.copy_in(src, dest)

    def copy_out(self, src: str, dest: Path) -> None:
        """Copy a file or directory from the workspace to the host."""
        self._ws.copy_out(src, dest)

    def close(self) -> None:
        """Delete the workspace."""
        self._ws.remove()
