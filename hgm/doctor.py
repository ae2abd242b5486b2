"""`hgm doctor`: is each thing a coding run needs usable here, and how to fix what is not."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass

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
    from hgm.coding.world import gateway_config, install_scripted_models
    from hgm.gateway import check_model

    install_scripted_models(config.coding)
    checks = []
    for role, model in gateway_config(config.coding).models.items():
        problem = check_model(model)
        checks.append(Check(f"model for {role}", problem is None, problem or model.model))
    return checks


def run_checks(config: RunConfig) -> list[Check]:
    checks = [_git(), *_docker(config), _bwrap(config), *_models(config)]
    docker_ok = all(c.ok for c in checks if c.name in ("docker engine", "sandbox image"))
    bwrap_ok = next(c.ok for c in checks if c.name == "bubblewrap")
    if config.coding.sandbox.backend == "auto" and not (docker_ok or bwrap_ok):
        checks.append(Check("sandbox", False, "neither docker (engine + image) nor bubblewrap is usable"))
    return checks


def healthy(checks: list[Check]) -> bool:
    return all(c.ok or not c.needed for c in checks)
