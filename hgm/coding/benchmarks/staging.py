"""Building the workspace a grading sandbox starts from: pristine task files plus what the agent submitted."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterable
from pathlib import Path, PurePosixPath

from hgm.sandboxes.export import Export, ExportLimits

MiB = 1024 * 1024
# What a task's solution plausibly needs; a workspace beyond this is cut (and noted), never read whole.
SUBMISSION_LIMITS = ExportLimits(max_files=5_000, max_file_bytes=4 * MiB, max_total_bytes=32 * MiB)


class SubmissionError(ValueError):
    """The submission cannot be laid out as files (e.g. a name used both as a file and as a directory)."""


def copy_pristine(src: Path, dest: Path, *, skip: Callable[[str], bool] = lambda rel: False) -> None:
    """Copy a task's own files (trusted, from the benchmark) into `dest`, leaving out relative paths `skip` names."""
    for path in sorted(src.rglob("*")):
        rel = path.relative_to(src).as_posix()
        if skip(rel) or "__pycache__" in path.relative_to(src).parts:
            continue
        if path.is_file() and not path.name.endswith(".pyc"):
            target = dest / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)


def write_files(dest: Path, files: dict[str, bytes]) -> None:
    """Write submitted files under `dest`, a directory the host made; never follows or replaces a symlink."""
    for rel, data in sorted(files.items()):
        parts = PurePosixPath(rel).parts
        if not parts or PurePosixPath(rel).is_absolute() or ".." in parts:
            raise SubmissionError(f"submitted file name {rel!r} is not inside the workspace")
        folder = dest
        for part in parts[:-1]:
            folder = folder / part
            if folder.is_symlink() or (folder.exists() and not folder.is_dir()):
                raise SubmissionError(f"submitted file {rel!r} needs {part!r} to be a directory, but it is a file")
            folder.mkdir(exist_ok=True)
        target = folder / parts[-1]
        if target.is_symlink() or target.is_dir():
            raise SubmissionError(f"submitted file {rel!r} collides with a directory of the task")
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o644)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)


def submitted(export: Export, *, only: Iterable[str] | None = None) -> dict[str, bytes]:
    """The exported files a grading may use: all of them, or just the relative paths in `only`."""
    files = {rel: data for rel, data in export.files.items() if not _ignored(rel)}
    if only is None:
        return files
    wanted = set(only)
    return {rel: data for rel, data in files.items() if rel in wanted}


def _ignored(rel: str) -> bool:
    parts = PurePosixPath(rel).parts
    return "__pycache__" in parts or rel.endswith(".pyc")


def export_note(export: Export) -> str:
    """A line for the grading log saying what the export left out, or ''."""
    if not export.notes:
        return ""
    shown = "; ".join(export.notes[:5]) + (f"; and {len(export.notes) - 5} more" if len(export.notes) > 5 else "")
    return f"[hgm: not taken from the agent's workspace: {shown}]\n"
