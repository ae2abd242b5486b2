"""Paths inside a sandbox: copies in and out may only reach the workspace."""

from __future__ import annotations

import posixpath


class OutsideWorkspaceError(ValueError):
    """A copy named a path outside the sandbox's workspace."""


def workspace_relative(workdir: str, path: str) -> str:
    """`path` (absolute, or relative to `workdir`) as a normalised path relative to `workdir`; "." is the workspace."""
    full = posixpath.normpath(posixpath.join(workdir, path))
    rel = posixpath.relpath(full, workdir)
    if rel == ".." or rel.startswith("../"):
        raise OutsideWorkspaceError(
            f"{path!r} is outside the workspace {workdir}; sandbox copies only reach files inside the workspace"
        )
    return rel


def workspace_path(workdir: str, path: str) -> str:
    """`path` (absolute, or relative to `workdir`) as a normalised absolute path inside the workspace."""
    rel = workspace_relative(workdir, path)
    return workdir if rel == "." else f"{workdir}/{rel}"
