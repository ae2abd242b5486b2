"""The real world: agents solve benchmark tasks and rewrite themselves inside sandboxes, through the gateway."""

from __future__ import annotations

import json
import shutil
import tempfile
import threading
from collections import defaultdict
from dataclasses import asdict
from pathlib import Path
from typing import Any

from hgm.archive import Archive
from hgm.coding.agent import IO_DIR, Context, describe_run, open_agent, run_agent
from hgm.coding.benchmarks import (
    Benchmark,
    Score,
    registry,
    task_attempts,
    task_available,
    task_environment,
    task_feedback,
    task_image,
    task_workdir,
)
from hgm.coding.grading import SandboxGrader, grade
from hgm.coding.metamod import MetaSelfModification
from hgm.coding.meter import CostMeter
from hgm.coding.selfmod import SelfModification
from hgm.config import CodingConfig, RunConfig
from hgm.gateway import Gateway, GatewayConfig, ModelConfig
from hgm.interfaces import Evaluation, Expansion, NodeRef, Sandbox
from hgm.sandboxes import SandboxError, resolve_backend

SEED_DIR = Path(__file__).resolve().parents[2] / "agent_seed"
ROLES = ("agent", "selfmod", "diagnosis")


def seed_source(coding: CodingConfig) -> Path:
    """The root agent's package directory: `coding.seed_path` (a dir holding agent_seed/, or the package itself)."""
    if coding.seed_path is None:
        if not (SEED_DIR / "__main__.py").is_file():
            raise ValueError(f"the seed agent was not found at {SEED_DIR}; run hgm from a checkout of the project")
        return SEED_DIR
    path = Path(coding.seed_path)
    for candidate in (path / "agent_seed", path):
        if (candidate / "__main__.py").is_file():
            return candidate
    raise ValueError(f"{path} holds no agent: expected {path}/agent_seed/__main__.py (e.g. from `hgm best --export`)")


def copy_agent(src: Path, dest: Path, *, improver: bool = True) -> None:
    """Copy an agent package; without `improver`, leave its improver (agent_seed/improve/, meta mode only) out."""
    skip = shutil.ignore_patterns("__pycache__", "*.pyc", IO_DIR)

    def ignore(folder: str, names: list[str]) -> set[str]:
        left_out = set(skip(folder, names))
        if not improver and Path(folder) == src:
            left_out.add("improve")
        return left_out

    shutil.copytree(src, dest, ignore=ignore, dirs_exist_ok=True)


def check_improver(config: RunConfig) -> None:
    """In meta mode the seed must carry its improver, or no node could ever be expanded."""
    source = seed_source(config.coding)
    if config.selfmod.mode == "meta" and not (source / "improve" / "__main__.py").is_file():
        raise ValueError(
            f"selfmod.mode=meta needs the seed's improver, {source}/improve/__main__.py, which is missing; "
            "start from agent_seed/ of this checkout (coding.seed_path unset) or use selfmod.mode=classic"
        )


def gateway_config(coding: CodingConfig) -> GatewayConfig:
    chosen = {"agent": coding.agent_model, "selfmod": coding.selfmod_model, "diagnosis": coding.diagnosis_model}
    prices = {
        "input_cost_per_token": coding.input_cost_per_token,
        "output_cost_per_token": coding.output_cost_per_token,
    }
    models = {
        role: ModelConfig(
            model=chosen[role] or coding.model,
            api_base=coding.api_base,
            max_tokens=getattr(coding.limits, role).max_tokens,
            timeout=getattr(coding.limits, role).timeout,
            **prices,
        )
        for role in ROLES
    }
    return GatewayConfig(
        models=models, max_cost_per_call=coding.max_cost_per_call, max_cost_per_node=coding.max_cost_per_node
    )


def make_benchmark(coding: CodingConfig) -> Benchmark:
    """The configured benchmark, told which sandboxes grade it (an adapter may look at what they hold)."""
    benchmark = registry.make_benchmark(coding.benchmark, coding.benchmark_path, **coding.benchmark_options)
    use_sandbox = getattr(benchmark, "use_sandbox", None)
    if callable(use_sandbox):
        use_sandbox(coding.sandbox.model_copy(update={"backend": resolve_backend(coding.sandbox.backend)}))
    return benchmark


def install_scripted_models(coding: CodingConfig) -> None:
    """Register the scripted models a config names, so the gateway can serve them offline."""
    names = {coding.model, coding.agent_model, coding.selfmod_model, coding.diagnosis_model}
    if any(name and name.startswith("scripted/") for name in names):
        from hgm.models import demo

        demo.install()


def preflight(config: RunConfig) -> None:
    """Refuse settings the coding world cannot use, before a run directory is written."""
    check_improver(config)
    benchmark = make_benchmark(config.coding)
    _check_tasks(config.coding, benchmark.tasks())
    resolve_backend(config.coding.sandbox.backend)
    gateway_config(config.coding)


def _check_tasks(coding: CodingConfig, available: list[str]) -> list[str]:
    wanted = list(coding.tasks or [])
    if coding.subset:
        wanted += registry.load_subset(coding.subset, available)
    if not wanted:
        return available
    unknown = sorted(set(wanted) - set(available))
    if unknown:
        raise ValueError(f"unknown task ids: {', '.join(unknown[:10])}; the benchmark has {len(available)} tasks")
    return list(dict.fromkeys(wanted))


def private_dir(prefix: str) -> Path:
    """A fresh scratch directory that an unprivileged sandbox user can read."""
    path = Path(tempfile.mkdtemp(prefix=prefix))
    path.chmod(0o755)
    return path


class CodingWork:
    """Evaluations and self-modifications over one Context, on the head or (with its own Context) on a Ray node."""

    ctx: Context
    grader: SandboxGrader

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.grader = SandboxGrader(ctx.sandbox_config)

    def evaluate(self, node: NodeRef, task: str, cancel: threading.Event) -> Evaluation:
        ctx = self.ctx
        purpose = f"evaluate:{task}"
        token = ctx.gateway.issue_token(node.id, purpose, models=("agent",))
        workspace = private_dir(f"hgm-ws-{node.id}-")
        try:
            try:
                ctx.benchmark.prepare(task, workspace)
                statement = ctx.benchmark.info(task).statement
                sandbox = open_agent(
                    ctx,
                    node.source,
                    workspace,
                    token,
                    "agent",
                    f"node-{node.id}",
                    image=task_image(ctx.benchmark, task),
                    workdir=task_workdir(ctx.benchmark, task),
                    task_env=task_environment(ctx.benchmark, task),
                )
            except (OSError, ValueError, RuntimeError) as e:
                # Nothing of the agent has run yet: the task or the sandbox failed, not the agent.
                return Evaluation(False, cost=ctx.meter.take(node.id, purpose), error=f"could not start the task: {e}")
            try:
                return self._attempts(node, task, statement, sandbox, purpose, cancel)
            finally:
                sandbox.close()
        finally:
            ctx.gateway.revoke(token)
            shutil.rmtree(workspace, ignore_errors=True)

    def _attempts(
        self, node: NodeRef, task: str, statement: str, sandbox: Sandbox, purpose: str, cancel: threading.Event
    ) -> Evaluation:
        ctx = self.ctx
        artefacts: dict[str, str] = {}
        attempts = task_attempts(ctx.benchmark)
        for attempt in range(1, attempts + 1):
            suffix = "" if attempt == 1 else f".{attempt}"
            try:
                run = run_agent(sandbox, statement, ctx.coding.agent_timeout, cancel)
            except SandboxError as e:
                if not self.grader.healthy():
                    return Evaluation(False, ctx.meter.take(node.id, purpose), artefacts, f"sandboxes failed: {e}")
                # Fresh sandboxes work, so the agent broke its own while it ran: that is its failure.
                score = Score(False, str(e), reason=f"the agent's sandbox stopped working while it ran: {e}")
                artefacts[f"test_results{suffix}.json"] = _results_json(score)
                break
            artefacts[f"trajectory{suffix}.json"] = run.trajectory
            artefacts[f"agent_output{suffix}.txt"] = describe_run(run.result)
            if cancel.is_set():
                return Evaluation(False, cost=ctx.meter.take(node.id, purpose), error="cancelled")
            score = grade(ctx.benchmark, task, sandbox, self.grader)
            artefacts[f"test_output{suffix}.txt"] = score.output
            artefacts[f"test_results{suffix}.json"] = _results_json(score)
            if score.resolved or score.error or attempt == attempts:
                break
            statement = f"{statement}\n\n{task_feedback(ctx.benchmark, task, score)}"
        unreachable = ctx.meter.take_unreachable(node.id, purpose)
        error = score.error or (f"model unreachable: {unreachable}" if unreachable else "")
        return Evaluation(score.resolved and not error, ctx.meter.take(node.id, purpose), artefacts, error)

    def expand(self, parent: NodeRef, child_id: int, dest: Path, cancel: threading.Event) -> Expansion:
        if self.ctx.config.selfmod.mode == "meta":
            return MetaSelfModification(self.ctx, parent, child_id, dest, cancel).run()
        return SelfModification(self.ctx, parent, child_id, dest, cancel).run()


class CodingWorld(CodingWork):
    """Expansion = one self-modification step; evaluation = one benchmark task, both sandboxed."""

    uses_sandboxes = True

    def __init__(self, config: RunConfig, archive: Archive) -> None:
        coding = config.coding
        benchmark = make_benchmark(coding)
        tasks = _check_tasks(coding, benchmark.tasks())
        self.unavailable = {t: why for t in tasks if (why := task_available(benchmark, t))}
        usable = [t for t in tasks if t not in self.unavailable]
        if not usable:
            raise ValueError(
                f"none of the {len(tasks)} selected tasks can run here: "
                f"{next(iter(self.unavailable.values()), 'no tasks')}"
            )
        sandbox_config = coding.sandbox.model_copy(update={"backend": resolve_backend(coding.sandbox.backend)})
        install_scripted_models(coding)
        meter = CostMeter(archive)
        # A short private path: unix socket paths are limited to about 100 bytes.
        socket_dir = Path(tempfile.mkdtemp(prefix="hgm-gw-"))
        socket_dir.chmod(0o755)
        calls = archive.llm_calls()
        by_node: dict[int, float] = defaultdict(float)
        for call in calls:
            if call["node"] is not None:
                by_node[call["node"]] += call["cost"] or 0.0
        # Ray nodes reach this gateway over TCP (execution.gateway_host); locally it listens on loopback only.
        host = config.execution.gateway_host if config.execution.executor == "ray" else "127.0.0.1"
        gateway = Gateway(
            gateway_config(coding),
            meter,
            socket_dir=socket_dir,
            host=host,
            spent_run=sum(c["cost"] or 0.0 for c in calls),
            spent_by_node=dict(by_node),
        )
        if config.budget.max_cost is not None:
            gateway.config.max_cost_per_run = config.budget.max_cost
        gateway.start()
        super().__init__(Context(config, archive, benchmark, gateway, meter, sandbox_config, socket_dir, usable))
        self.sandbox_config = sandbox_config

    def tasks(self) -> list[str]:
        return list(self.ctx.tasks)

    def write_seed(self, dest: Path) -> float | None:
        meta = self.ctx.config.selfmod.mode == "meta"
        copy_agent(seed_source(self.ctx.coding), dest / "agent_seed", improver=meta)
        return None

    def close(self) -> None:
        self.ctx.gateway.stop()
        shutil.rmtree(self.ctx.socket_dir, ignore_errors=True)

    def portable(self) -> Any:
        """What a Ray node needs: the config, the tasks and the gateway's address (never a key)."""
        from hgm.coding.remote import RemoteCodingWorld

        return RemoteCodingWorld(self.ctx.config, self.ctx.tasks, self.ctx.gateway.url)

    def remote_grant(self, kind: str, node: NodeRef, arg: Any) -> Any:
        """Tokens and evidence for one job on a Ray node, and how its answer is settled here (see coding/remote)."""
        from hgm.coding.remote import grant

        return grant(self, kind, node, arg)


def _results_json(score: Score) -> str:
    """The structured verdict an evaluation leaves for later diagnosis (never the raw test sources)."""
    data = {"resolved": score.resolved, "reason": score.reason, "error": score.error}
    return json.dumps({**data, "tests": [asdict(t) for t in score.tests]}, indent=1)
