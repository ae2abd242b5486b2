"""A sandbox workspace kept on the host, copied to and from without following the sandbox's symlinks."""

from __future__ import annotations

import logging
import os
import shutil
import stat
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

from hgm.sandboxes.keeper import Keeper
from hgm.sandboxes.paths import workspace_relative

log = logging.getLogger(__name__)

DIR_PREFIX = "hgm-sbx-"


class UnsafePathError(ValueError):
    """A copy would pass through a symlink that sandboxed code could have planted."""


def _remove(path: Path) -> None:
    if path.is_symlink() or (path.exists() and not path.is_dir()):
        path.unlink()
    elif path.is_dir():
        shutil.rmtree(path)


def copy_entry(src: Path, dst: Path, owner: tuple[int, int] | None = None) -> None:
    """Copy `src` to `dst` (file, directory tree or symlink), merging directories and never following a symlink."""
    mode = os.lstat(src).st_mode
    if stat.S_ISLNK(mode):
        _remove(dst)
        os.symlink(os.readlink(src), dst)
    elif stat.S_ISDIR(mode):
        if dst.is_symlink() or (dst.exists() and not dst.is_dir()):
            _remove(dst)
        dst.mkdir(exist_ok=True)
        for child in os.scandir(src):
            copy_entry(Path(child.path), dst / child.name, owner)
        shutil.copystat(src, dst, follow_symlinks=False)
    elif stat.S_ISREG(mode):
        _remove(dst)
        shutil.copyfile(src, dst, follow_symlinks=False)
        shutil.copystat(src, dst, follow_symlinks=False)
    else:
        log.debug("not copying special file %s", src)
        return
    if owner is not None:
        os.lchown(dst, *owner)


def chown_tree(path: Path, owner: tuple[int, int]) -> None:
    """Give `path` and everything under it to `owner` (uid, gid) without following symlinks."""
    os.lchown(path, *owner)
    for root, dirs, files in os.walk(path):
        for name in dirs + files:
            os.lchown(os.path.join(root, name), *owner)


class HostWorkspace:
    """A private host directory holding a sandbox's workspace (and its other writable dirs).

    With `tmpfs_bytes` (root only) its content lives in a tmpfs of that size that only a Keeper's mount namespace
    sees; `top` is where the host reaches it, `base` where programs entering the namespace do.
    """

    def __init__(
        self,
        seed: Path,
        workdir: str | None = None,
        owner: tuple[int, int] | None = None,
        *,
        tmpfs_bytes: int = 0,
        stage: Sequence[Path] = (),
        cgroups: Sequence[Path] = (),
    ) -> None:
        if not seed.is_dir():
            raise FileNotFoundError(f"sandbox workspace {seed} is not a directory")
        self.base = Path(tempfile.mkdtemp(prefix=f"{DIR_PREFIX}{os.getpid()}-"))
        self.owner = owner
        self.keeper: Keeper | None = None
        try:
            if tmpfs_bytes:
                self.keeper = Keeper(self.base, tmpfs_bytes, owner[0] if owner else os.getuid(), stage, cgroups)
            self.top = self.keeper.view if self.keeper else self.base
            self.root = self.top / "workspace"
            self.root.mkdir()
            self.workdir = workdir or str(self.root)
            copy_entry(seed, self.root)
            if owner is not None:
                chown_tree(self.root, owner)
                os.lchown(self.top, *owner)
        except BaseException:
            self.remove()
            raise

    def scratch(self, name: str) -> Path:
        """A private writable directory next to the workspace (e.g. a persistent /tmp or HOME), as the host sees it."""
        path = self.top / name
        path.mkdir(exist_ok=True)
        if self.owner is not None:
            os.lchown(path, *self.owner)
        return path

    def host_path(self, inside: str, *, create_parents: bool = False) -> Path:
        """The host path of `inside`, refusing any parent directory that is a symlink."""
        rel = workspace_relative(self.workdir, inside)
        path = self.root
        parts = [] if rel == "." else rel.split("/")
        for part in parts[:-1]:
            path = path / part
            if path.is_symlink():
                raise UnsafePathError(f"{inside!r} passes through the symlink {part!r} in the workspace")
            if not path.exists() and create_parents:
                path.mkdir()
                if self.owner is not None:
                    os.lchown(path, *self.owner)
            elif not path.is_dir():
                raise FileNotFoundError(f"{inside!r}: {part!r} is not a directory in the workspace")
        return path / parts[-1] if parts else path

    def copy_in(self, src: Path, dest: str) -> None:
        """Copy a host file or directory to `dest` in the workspace."""
        if not src.exists():
            raise FileNotFoundError(f"cannot copy {src} into the sandbox: it does not exist")
        copy_entry(src, self.host_path(dest, create_parents=True), self.owner)

    def remove(self) -> None:
        """Delete the workspace and its scratch directories, even ones sandboxed code made read-only; once."""
        if self.keeper is not None:
            self.keeper.close()
        # remove_tree opens up the parent of a path it cannot delete, so it must never see a missing one.
        if os.path.lexists(self.base):
            remove_tree(self.base)


def remove_tree(path: Path) -> None:
    """Delete a directory tree, unlocking read-only directories inside it; a tree already gone is no error."""
    root = os.path.abspath(path)

    def unlock(func: Callable[[str], object], failed: str, exc: BaseException) -> None:
        if isinstance(exc, FileNotFoundError):
            return
        parent = os.path.dirname(failed)
        # Only directories inside the tree are ours to change: its parent (say /tmp) is shared with everyone.
        if parent != root and not parent.startswith(root + os.sep):
            raise exc
        fd = os.open(parent, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
        try:
            os.fchmod(fd, 0o700)
        finally:
            os.close(fd)
        func(failed)

    try:
        if sys.version_info >= (3, 12):
            shutil.rmtree(root, onexc=unlock)
        else:
            shutil.rmtree(root, onerror=lambda func, failed, info: unlock(func, failed, info[1]))
    except OSError as exc:
        log.warning("could not remove sandbox directory %s: %s", path, exc)
