"""What `hgm run`, `resume`, `bench` and `demo` check before they create or change anything.

A setting that cannot work (a model without its key, a server that does not answer, a benchmark selection with no
task that can run here) is refused in seconds with the advice `hgm doctor` gives, rather than found mid-run after
sandboxes were started and a run directory was made.
"""

from __future__ import annotations

import os
from pathlib import Path

from hgm.config import CodingConfig, RunConfig
from hgm.scratch import root_for

SOCKET_PATH_MAX = 107


class PreflightError(ValueError):
    """A setting the run cannot work with; the message says what and how to fix it."""


def model_problems(coding: CodingConfig, *, probe: bool) -> list[tuple[str, str, str | None]]:
    """(role, model, problem or None) for every model role; a model shared by roles is checked once.

    `probe` also makes a one-token call, which finds unknown model names and servers that do not answer.
    """
    from hgm.coding.world import gateway_config, install_scripted_models
    from hgm.gateway import check_model

    install_scripted_models(coding)
    checked: dict[str, str | None] = {}
    found = []
    for role, model in gateway_config(coding).models.items():
        key = model.model_dump_json()
        if key not in checked:
            checked[key] = check_model(model, probe=probe)
        found.append((role, model.model, checked[key]))
    return found


def check_models(coding: CodingConfig) -> None:
    """Raise PreflightError naming the roles whose model cannot be called, with the doctor's advice."""
    by_problem: dict[str, list[str]] = {}
    for role, _, problem in model_problems(coding, probe=True):
        if problem:
            by_problem.setdefault(problem, []).append(role)
    if by_problem:
        problem, roles = next(iter(by_problem.items()))
        raise PreflightError(f"the {' and '.join(roles)} model cannot be used: {problem}")


def unavailable_tasks(config: RunConfig) -> dict[str, str]:
    """The selected tasks that cannot run here, each with the reason; PreflightError if none can."""
    from hgm.coding.benchmarks import task_available
    from hgm.coding.world import _check_tasks, make_benchmark

    benchmark = make_benchmark(config.coding)
    tasks = _check_tasks(config.coding, benchmark.tasks())
    unavailable = {t: why for t in tasks if (why := task_available(benchmark, t))}
    if len(unavailable) == len(tasks):
        reason = next(iter(unavailable.values()), "the benchmark has no tasks")
        raise PreflightError(f"none of the {len(tasks)} selected tasks can run here: {reason}")
    return unavailable


def check_run(config: RunConfig, run_dir: Path) -> dict[str, str]:
    """Refuse what the run at `run_dir` could not work with; return the selected tasks that cannot run here."""
    if config.execution.executor == "ray":
        check_ray(config)
    if config.world == "sim":
        from hgm.worlds import sim_meta
        from hgm.worlds.sim import SimWorld

        sim = config.sim
        if config.selfmod.mode == "meta" or sim_meta.is_meta_landscape(sim.landscape):
            mode = config.selfmod.mode
            sim_meta.MetaSimWorld(sim.landscape, mode, config.seed, n_tasks=sim.n_tasks, latency=sim.latency)
        else:
            SimWorld(sim.landscape, config.seed, n_tasks=sim.n_tasks, latency=sim.latency)
        return {}
    from hgm.coding import world as coding
    from hgm.gateway.core import SOCKET_NAME

    coding.preflight(config)
    unavailable = unavailable_tasks(config)
    socket = root_for(run_dir) / "hgm-gw-xxxxxxxx" / SOCKET_NAME
    if len(os.fsencode(socket)) > SOCKET_PATH_MAX:
        raise PreflightError(
            f"the temp directory {root_for(run_dir).parent} is too long a path for the gateway's unix socket "
            f"({len(os.fsencode(socket))} > {SOCKET_PATH_MAX} bytes); set TMPDIR to a short directory such as /tmp"
        )
    check_models(config.coding)
    return unavailable


def check_ray(config: RunConfig) -> None:
    """Ray installed, its head answering, and a gateway address that the cluster's nodes can reach."""
    import importlib.util

    from hgm.execution.raycluster import INSTALL_HINT, reachable

    if importlib.util.find_spec("ray") is None:
        raise PreflightError(f"the ray executor needs Ray, which is not installed: {INSTALL_HINT}")
    address = config.execution.ray_address or os.environ.get("RAY_ADDRESS", "")
    host, _, port = address.removeprefix("ray://").rpartition(":")
    if not port.isdigit():
        return
    reachable(host, int(port), address)
    gateway = config.execution.gateway_host
    if config.world == "coding" and gateway.startswith("127.") and not host.startswith("127."):
        raise PreflightError(
            f"the Ray cluster at {address} is on other machines, which cannot reach a model gateway on {gateway}; "
            "set execution.gateway_host to the head's address on the cluster's network"
        )
