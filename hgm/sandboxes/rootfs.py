"""The Debian root filesystem made by debootstrap: the offline image's base and bwrap's root."""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

from hgm.sandboxes.hostfs import remove_tree

SUITE = "bookworm"
DEFAULT_MIRROR = "http://deb.debian.org/debian"
PACKAGES = ("python3", "git")


class RootfsError(RuntimeError):
    """The root filesystem could not be made."""


def cache_dir() -> Path:
    """Where hgm keeps large reusable files: $HGM_CACHE, else ~/.cache/hgm."""
    env = os.environ.get("HGM_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "hgm"


def rootfs_path() -> Path:
    """Where the debootstrap root filesystem is cached."""
    return cache_dir() / f"rootfs-{SUITE}"


def _mounts_under(path: Path) -> list[str]:
    prefix = str(path.resolve()) + "/"
    with open("/proc/self/mounts") as mounts:
        points = [line.split()[1].replace("\\040", " ") for line in mounts]
    return sorted((p for p in points if p.startswith(prefix)), key=len, reverse=True)


def _discard_partial(partial: Path) -> None:
    """Remove an interrupted debootstrap target, first unmounting the /proc or /sys it may have left inside."""
    if not partial.exists():
        return
    for point in _mounts_under(partial):
        subprocess.run(["umount", "--lazy", point], check=False)
    if _mounts_under(partial):
        raise RootfsError(f"{partial} still has file systems mounted inside; unmount them, then delete it")
    remove_tree(partial)


def ensure_rootfs(dest: Path | None = None, mirror: str = DEFAULT_MIRROR, log: Callable[[str], None] = print) -> Path:
    """Return a minimal Debian root filesystem with python3 and git at `dest`, running debootstrap if it is missing."""
    dest = dest or rootfs_path()
    dest.parent.mkdir(parents=True, exist_ok=True)
    with open(dest.with_name(dest.name + ".lock"), "w") as lock:
        # Several processes (test workers, parallel runs) may ask at once; one builds, the others wait.
        fcntl.flock(lock, fcntl.LOCK_EX)
        return _ensure_locked(dest, mirror, log)


def _ensure_locked(dest: Path, mirror: str, log: Callable[[str], None]) -> Path:
    if (dest / "usr" / "bin" / "python3").exists():
        log(f"using the root filesystem in {dest}")
        return dest
    if os.geteuid() != 0:
        raise RootfsError("debootstrap needs root: run `sudo hgm sandbox build --offline` (or build online)")
    debootstrap = shutil.which("debootstrap") or shutil.which("debootstrap", path="/usr/sbin:/sbin")
    if debootstrap is None:
        raise RootfsError("debootstrap is not installed: run `apt-get install -y debootstrap`")
    partial = dest.with_name(dest.name + ".partial")
    _discard_partial(partial)
    argv = [debootstrap, "--variant=minbase", f"--include={','.join(PACKAGES)}", SUITE, str(partial), mirror]
    log(f"running {' '.join(argv)}")
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert proc.stdout is not None
    tail: list[str] = []
    for line in proc.stdout:
        log(line.rstrip())
        tail = (tail + [line])[-20:]
    if proc.wait() != 0:
        raise RootfsError(f"debootstrap failed (exit {proc.returncode}); its last lines:\n{''.join(tail)}")
    for leftover in ("var/cache/apt/archives", "var/lib/apt/lists"):
        for entry in (partial / leftover).glob("*"):
            if entry.is_file():
                entry.unlink()
    # debootstrap copies these from the host; the sandbox has no network and its own name.
    (partial / "etc" / "resolv.conf").write_text("")
    (partial / "etc" / "hostname").write_text("sandbox\n")
    (partial / "workspace").mkdir(exist_ok=True)
    partial.rename(dest)
    log(f"root filesystem ready in {dest}")
    return dest
