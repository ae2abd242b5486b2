"""Sandboxes: isolated places where untrusted agent code runs (docker, bwrap, or local without isolation).

The public names are imported on first use, not with the package: importing a light submodule (the sandbox
settings, the run-owner records, the errors) must not bring cgroups, the backends and pydantic into commands that
never open a sandbox, such as `hgm --help` and `hgm tree`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hgm.interfaces import ExecResult, Sandbox
    from hgm.sandboxes.base import ManagedSandbox, SandboxError, SandboxUnavailable, Usage
    from hgm.sandboxes.cgroups import reclaim_cgroups
    from hgm.sandboxes.config import SandboxConfig
    from hgm.sandboxes.export import Export, ExportLimits
    from hgm.sandboxes.registry import (
        bwrap_problem,
        cleanup_orphans,
        docker_problem,
        finish_closing,
        open_sandbox,
        resolve_backend,
    )

_HOMES = {
    "ExecResult": "hgm.interfaces",
    "Sandbox": "hgm.interfaces",
    "ManagedSandbox": "hgm.sandboxes.base",
    "SandboxError": "hgm.sandboxes.base",
    "SandboxUnavailable": "hgm.sandboxes.base",
    "Usage": "hgm.sandboxes.base",
    "reclaim_cgroups": "hgm.sandboxes.cgroups",
    "SandboxConfig": "hgm.sandboxes.config",
    "Export": "hgm.sandboxes.export",
    "ExportLimits": "hgm.sandboxes.export",
    "bwrap_problem": "hgm.sandboxes.registry",
    "cleanup_orphans": "hgm.sandboxes.registry",
    "docker_problem": "hgm.sandboxes.registry",
    "finish_closing": "hgm.sandboxes.registry",
    "open_sandbox": "hgm.sandboxes.registry",
    "resolve_backend": "hgm.sandboxes.registry",
}

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


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_HOMES})
