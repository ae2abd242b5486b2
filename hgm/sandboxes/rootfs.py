"""The Debian root filesystem made by debootstrap: the offline image's base and bwrap's root."""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

from hgm.sandboxes.hostfs import remove_tree

SUITE = "bookworm"
DEFAULT_MIRROR = "http://deb.debian.org/debian"
PACKAGES = ("python3", "git")
# Debian packages that give a sandbox each language's compiler and test tools (the Polyglot benchmark's six).
TOOLCHAINS: dict[str, tuple[str, ...]] = {
    "python": (),  # in PACKAGES: the agent and hgm's test runner need python3 anyway
    "javascript": ("nodejs",),
    "go": ("golang-go",),
    "rust": ("cargo", "rustc"),
    "cpp": ("g++", "cmake", "make"),
    "java": ("default-jdk-headless", "junit5", "libassertj-core-java"),
}
DEFAULT_TOOLCHAINS = ("python",)


class RootfsError(RuntimeError):
    """The root filesystem could not be made."""


def cache_dir() -> Path:
    """Where hgm keeps large reusable files: $HGM_CACHE, else ~/.cache/hgm."""
    env = os.environ.get("HGM_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "hgm"


def parse_toolchains(spec: str | list[str] | tuple[str, ...] | None) -> tuple[str, ...]:
    """Toolchain names (comma-separated, or `all`) checked and in a fixed order; python is always included."""
    if spec is None:
        return DEFAULT_TOOLCHAINS
    names = [n.strip().lower() for n in (spec.split(",") if isinstance(spec, str) else spec) if n.strip()]
    if names == ["all"]:
        names = list(TOOLCHAINS)
    unknown = sorted(set(names) - set(TOOLCHAINS))
    if unknown:
        raise ValueError(f"unknown toolchain(s) {', '.join(unknown)}; known: {', '.join(TOOLCHAINS)} (or all)")
    return tuple(t for t in TOOLCHAINS if t in names or t == "python")


def toolchain_packages(toolchains: tuple[str, ...]) -> tuple[str, ...]:
    """The Debian packages a root filesystem with `toolchains` holds beyond PACKAGES."""
    return tuple(p for t in parse_toolchains(toolchains) for p in TOOLCHAINS[t])


def rootfs_path(toolchains: tuple[str, ...] | None = None) -> Path:
    """Where the debootstrap root filesystem with `toolchains` (default: python only) is cached."""
    chosen = parse_toolchains(toolchains)
    if chosen == DEFAULT_TOOLCHAINS:
        return cache_dir() / f"rootfs-{SUITE}"
    return cache_dir() / f"rootfs-{SUITE}-{'-'.join(chosen)}"


def default_rootfs() -> Path:
    """The root filesystem bwrap's `rootfs: auto` uses: the one `hgm sandbox build` made last, else python only."""
    chosen = cache_dir() / "rootfs-default"
    try:
        name = chosen.read_text(encoding="utf-8").strip()
    except OSError:
        name = ""
    candidate = cache_dir() / name
    if name.startswith(f"rootfs-{SUITE}") and "/" not in name and (candidate / "usr").is_dir():
        return candidate
    return rootfs_path()


def set_default_rootfs(path: Path) -> None:
    """Make `path` (a root filesystem in the cache) the one `rootfs: auto` uses."""
    marker = cache_dir() / "rootfs-default"
    tmp = marker.with_name(marker.name + f".{os.getpid()}")
    tmp.write_text(path.name + "\n", encoding="utf-8")
    tmp.replace(marker)


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


def ensure_rootfs(
    dest: Path | None = None,
    mirror: str = DEFAULT_MIRROR,
    log: Callable[[str], None] = print,
    toolchains: tuple[str, ...] | None = None,
) -> Path:
    """Return a Debian root filesystem with python3, git and `toolchains` at `dest`, making it if it is missing."""
    chosen = parse_toolchains(toolchains)
    dest = dest or rootfs_path(chosen)
    dest.parent.mkdir(parents=True, exist_ok=True)
    with open(dest.with_name(dest.name + ".lock"), "w") as lock:
        # Several processes (test workers, parallel runs) may ask at once; one builds, the others wait.
        fcntl.flock(lock, fcntl.LOCK_EX)
        return _ensure_locked(dest, mirror, log, toolchain_packages(chosen))


def installed_toolchains(rootfs: Path) -> tuple[str, ...]:
    """The toolchains whose packages a root filesystem made here has (from its dpkg status file)."""
    try:
        status = (rootfs / "var" / "lib" / "dpkg" / "status").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ()
    present = set(re.findall(r"^Package: (\S+)\nStatus: install ok installed$", status, flags=re.MULTILINE))
    return tuple(t for t, packages in TOOLCHAINS.items() if all(p in present for p in packages or PACKAGES[:1]))


def _ensure_locked(dest: Path, mirror: str, log: Callable[[str], None], extra: tuple[str, ...]) -> Path:
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
    _run(argv, "debootstrap", log)
    if extra:
        _install(partial, extra, log)
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


def _run(argv: list[str], what: str, log: Callable[[str], None]) -> None:
    log(f"running {' '.join(argv)}")
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert proc.stdout is not None
    tail: list[str] = []
    for line in proc.stdout:
        log(line.rstrip())
        tail = (tail + [line])[-20:]
    if proc.wait() != 0:
        raise RootfsError(f"{what} failed (exit {proc.returncode}); its last lines:\n{''.join(tail)}")


def _install(root: Path, packages: tuple[str, ...], log: Callable[[str], None]) -> None:
    """apt-get install `packages` inside the new root (from the mirror debootstrap configured), /proc mounted
    in a private mount namespace so nothing stays mounted when it ends (Java's set-up scripts need /proc)."""
    shutil.copyfile("/etc/resolv.conf", root / "etc" / "resolv.conf")
    script = (
        'mount -t proc proc "$1/proc" && shift && exec chroot "$0" /bin/sh -c '
        '"apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $*"'
    )
    unshare = shutil.which("unshare") or "unshare"
    _run(
        [unshare, "--mount", "--propagation", "private", "--fork", "sh", "-c", script, str(root), str(root), *packages],
        "apt-get install of the toolchains",
        log,
    )
