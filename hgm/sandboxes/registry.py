"""Choosing a backend, opening sandboxes and removing what crashed runs left behind."""

from __future__ import annotations

import logging
import os
import sys
import time
from pathlib import Path

from hgm.sandboxes.base import ManagedSandbox, SandboxUnavailable
from hgm.sandboxes.config import SandboxConfig
from hgm.sandboxes.hostfs import DIR_PREFIX, remove_tree
from hgm.sandboxes.owner import RUN_LABEL, SCRATCH_PREFIX, owner_alive, scratch_owner, temp_base

log = logging.getLogger(__name__)


def docker_problem() -> str | None:
    """Why no Docker engine answers, or None if one does."""
    import docker.errors
    import requests

    try:
        from hgm.sandboxes.image import docker_client

        client = docker_client(timeout=5)
        try:
            client.ping()
        finally:
            client.close()
    except (docker.errors.DockerException, requests.RequestException, OSError) as exc:
        return f"no Docker engine answers ({exc})"
    return None


def bwrap_problem(config: SandboxConfig | None = None) -> str | None:
    """Why bubblewrap cannot make a sandbox here, or None if it can."""
    from hgm.sandboxes.bwrap_sandbox import BwrapUnavailable, check_bwrap

    try:
        check_bwrap(config or SandboxConfig())
    except BwrapUnavailable as exc:
        return str(exc)
    return None


# A backend that answered is not probed again for this long: a bwrap probe costs as much as a sandbox's cycle.
PROBE_TTL = 60.0
_answered: dict[str, float] = {}


def _problem(backend: str) -> str | None:
    """docker_problem() or bwrap_problem(), skipped while an earlier probe's success is recent."""
    if time.monotonic() - _answered.get(backend, -PROBE_TTL) < PROBE_TTL:
        return None
    problem = docker_problem() if backend == "docker" else bwrap_problem()
    if problem is None:
        _answered[backend] = time.monotonic()
    return problem


def resolve_backend(name: str) -> str:
    """The backend to use for `name`: "auto" is docker if an engine answers, else bwrap; raise if it cannot run."""
    if name == "local":
        return name
    if name == "docker":
        problem = _problem("docker")
        if problem:
            raise SandboxUnavailable(f"docker sandboxes need a Docker engine: {problem}; start it or use bwrap")
        return name
    if name == "bwrap":
        problem = _problem("bwrap")
        if problem:
            raise SandboxUnavailable(problem)
        return name
    if name != "auto":
        raise ValueError(f"unknown sandbox backend {name!r}; choose auto, docker, bwrap or local")
    docker_issue = _problem("docker")
    if docker_issue is None:
        return "docker"
    bwrap_issue = _problem("bwrap")
    if bwrap_issue is None:
        return "bwrap"
    raise SandboxUnavailable(
        f"no sandbox backend works here: {docker_issue}, and {bwrap_issue}. Start Docker and build the image "
        "(`hgm sandbox build`), or install bubblewrap (`apt-get install -y bubblewrap`). The local backend runs "
        "agent code without any isolation and is used only when asked for by name."
    )


def open_sandbox(
    config: SandboxConfig,
    workspace: Path,
    *,
    mounts: dict[str, str] | None = None,
    env: dict[str, str] | None = None,
    label: str = "",
    secrets: dict[str, str] | None = None,
) -> ManagedSandbox:
    """Start a sandbox whose workspace starts as a copy of `workspace`; close it (or use `with`) when done.

    `mounts` maps host paths to read-only paths inside (e.g. the LLM gateway's socket directory; the directory must
    be searchable and the socket writable by other users, since sandboxed code runs as an unprivileged user).
    `env` is all the environment the code sees besides PATH, HOME and LANG: it is visible in process listings, so
    secrets go in `secrets` instead, each readable by sandboxed code alone as the file `<sandbox.secrets_dir>/<name>`
    and never put in a command line or an environment on the host.
    """
    backend = resolve_backend(config.backend)
    sandbox: ManagedSandbox
    if backend == "docker":
        from hgm.sandboxes.docker_sandbox import DockerSandbox

        sandbox = DockerSandbox(config, workspace, mounts, env, label, secrets)
    elif backend == "bwrap":
        from hgm.sandboxes.bwrap_sandbox import BwrapSandbox

        sandbox = BwrapSandbox(config, workspace, mounts, env, secrets)
    else:
        from hgm.sandboxes.local_sandbox import LocalSandbox

        if mounts:
            log.warning("the local sandbox ignores mounts; sandboxed code sees host paths directly")
        sandbox = LocalSandbox(config, workspace, env, secrets)
    return sandbox


def finish_closing(timeout: float = 60.0) -> bool:
    """Wait up to `timeout` seconds until the sandboxes closed so far are gone; False if some are not yet.

    Docker sandboxes are removed in the background after close(); a normal interpreter exit waits for that, but a
    process about to end with os._exit should call this first (what it still leaves, `cleanup_orphans` removes).
    """
    module = sys.modules.get("hgm.sandboxes.docker_sandbox")
    return module is None or bool(module.drain_removals(timeout))


def cleanup_orphans(run: str | None = None, *, include_live: bool = False) -> int:
    """Remove sandboxes and scratch directories of processes that died (of run `run` only, when given); with
    `include_live` also those of live processes. Return how many were removed."""
    removed = 0
    if docker_problem() is None:
        import docker.errors

        from hgm.sandboxes.docker_sandbox import LABEL, OWNER_LABEL
        from hgm.sandboxes.image import docker_client

        wanted = [f"{LABEL}=1"] + ([f"{RUN_LABEL}={run}"] if run is not None else [])
        client = docker_client()
        try:
            # The low-level listing carries the labels, so a container removed meanwhile by its owner is no error.
            for info in client.api.containers(all=True, filters={"label": wanted}):
                if include_live or not owner_alive((info.get("Labels") or {}).get(OWNER_LABEL, "")):
                    try:
                        client.api.remove_container(info["Id"], force=True, v=True)
                    except docker.errors.NotFound:
                        continue
                    except docker.errors.APIError as exc:
                        if exc.status_code != 409:  # 409: its removal is already under way
                            raise
                        continue
                    removed += 1
        finally:
            client.close()
    # A bwrap sandbox's cgroups outlive only a killed keeper; whose run they served is not recorded, and a dead
    # owner's cgroups are garbage for every run.
    from hgm.sandboxes.cgroups import reclaim_cgroups

    removed += reclaim_cgroups(include_live=include_live and run is None)
    base = Path(temp_base())
    for path in base.glob(f"{SCRATCH_PREFIX}*"):
        owned = scratch_owner(path)
        if owned is not None and run in (None, owned[0]) and (include_live or not owner_alive(owned[1])):
            remove_tree(path)
            removed += 1
    if run is not None:
        return removed
    for path in base.glob(f"{DIR_PREFIX}*"):
        pid = path.name[len(DIR_PREFIX) :].split("-")[0]
        if path.is_dir() and (include_live or not _pid_alive(pid)):
            remove_tree(path)
            removed += 1
    return removed


def _pid_alive(pid: str) -> bool:
    try:
        os.kill(int(pid), 0)
    except (ValueError, ProcessLookupError):
        return False
    except PermissionError:
        pass
    return True
