"""Sandboxes: isolated places where untrusted agent code runs (docker, bwrap, or local without isolation)."""

from __future__ import annotations

from hgm.interfaces import ExecResult, Sandbox
from hgm.sandboxes.base import ManagedSandbox, SandboxError, Usage
from hgm.sandboxes.cgroups import reclaim_cgroups
from hgm.sandboxes.config import SandboxConfig
from hgm.sandboxes.export import Export, ExportLimits
from hgm.sandboxes.registry import (
    SandboxUnavailable,
    bwrap_problem,
    cleanup_orphans,
    docker_problem,
    finish_closing,
    open_sandbox,
    resolve_backend,
)

__all__ = [
    "ExecResult",
    "Export",
    "ExportLimits",
    "ManagedSandbox",
    "Sandbox",
    "SandboxConfig",
    "SandboxError",
    "SandboxUnavailable",
    "bwrap_problem",
    "cleanup_orphans",
    "docker_problem",
    "finish_closing",
    "open_sandbox",
    "reclaim_cgroups",
    "resolve_backend",
    "Usage",
]
