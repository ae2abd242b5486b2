"""`hgm doctor`: is each thing a coding run needs usable here, and how to fix what is not."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from hgm.config import RunConfig


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    needed: bool = True


def _git() -> Check:
    if shutil.which("git") is None:
        return Check("git", False, "not found; install it (apt-get install -y git)")
    version = subprocess.run(["git", "--version"], capture_output=True, text=True, check=False).stdout.strip()
    return Check("git", True, version)


def _docker(config: RunConfig) -> list[Check]:
    from hgm.sandboxes import docker_problem

    wanted = config.coding.sandbox.backend in ("auto", "docker")
    problem = docker_problem()
    if problem:
        return [Check("docker engine", False, f"{problem}; start dockerd, or use --sandbox bwrap", needed=False)]
    from hgm.sandboxes.image import docker_client, image_exists

    client = docker_client()
    try:
        present = image_exists(client, config.coding.sandbox.image)
    finally:
        client.close()
    image = Check(
        "sandbox image",
        present,
        config.coding.sandbox.image
        if present
        else f"{config.coding.sandbox.image} is missing; build it with `hgm sandbox build`",
        needed=wanted,
    )
    return [Check("docker engine", True, "answers"), image]


def _bwrap(config: RunConfig) -> Check:
    from hgm.sandboxes import bwrap_problem

    problem = bwrap_problem(config.coding.sandbox)
    wanted = config.coding.sandbox.backend == "bwrap"
    return Check("bubblewrap", problem is None, problem or "works", needed=wanted)


def _models(config: RunConfig) -> list[Check]:
    """One row per role; a model on a server of its own (`api_base`) is called, timed and asked for a tool call."""
    from hgm.coding.world import gateway_config, install_scripted_models
    from hgm.gateway import inspect_model

    install_scripted_models(config.coding)
    seen: dict[str, Check] = {}
    rows = []
    for role, model in gateway_config(config.coding).models.items():
        key = model.model_dump_json()
        if key not in seen:
            found = inspect_model(model, tools=model.api_base is not None)
            seen[key] = Check("", found.problem is None, found.summary)
        rows.append(Check(f"model for {role}", seen[key].ok, seen[key].detail))
    return rows


PROBE = "echo written > probe.txt && cat probe.txt"


def _sandbox_start(config: RunConfig) -> Check:
    """Start a sandbox of the configured backend the way a run does (a workspace and a mount) and run a command."""
    from hgm.sandboxes import SandboxUnavailable, open_sandbox, resolve_backend

    try:
        backend = resolve_backend(config.coding.sandbox.backend)
    except (SandboxUnavailable, ValueError) as exc:
        return Check("sandbox start", False, str(exc))
    sandbox = config.coding.sandbox.model_copy(update={"backend": backend})
    with tempfile.TemporaryDirectory(prefix="hgm-doctor-") as tmp:
        # Made like a run's scratch directories, so a temp directory sandbox users cannot reach shows up here.
        os.chmod(tmp, 0o755)
        workspace, shared = Path(tmp) / "workspace", Path(tmp) / "shared"
        for path in (workspace, shared):
            path.mkdir(mode=0o755)
        (shared / "mounted.txt").write_text("mounted\n")
        mounts, command = {str(shared): "/run/hgm/doctor"}, f"cat /run/hgm/doctor/mounted.txt && {PROBE}"
        if backend == "local":
            mounts, command = {}, PROBE
        try:
            with open_sandbox(sandbox, workspace, mounts=mounts, label="doctor") as box:
                result = box.exec(command, timeout=120)
        except Exception as exc:  # any failure to start is the finding
            return Check("sandbox start", False, f"a {backend} sandbox did not start: {exc}")
    expected = "written\n" if backend == "local" else "mounted\nwritten\n"
    if result.returncode != 0 or result.output != expected:
        return Check(
            "sandbox start",
            False,
            f"a {backend} sandbox started but could not read its mount and write its workspace: {result.output[-300:]}",
        )
    return Check("sandbox start", True, f"{backend}: ran a command on a workspace and a mount")


def run_checks(config: RunConfig) -> list[Check]:
    checks = [_git(), *_docker(config), _bwrap(config), _sandbox_start(config), *_models(config)]
    return checks


def healthy(checks: list[Check]) -> bool:
    return all(c.ok or not c.needed for c in checks)
