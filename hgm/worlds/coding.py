"""The real world: agents solve benchmark tasks and rewrite themselves inside sandboxes, through the gateway."""

from __future__ import annotations

import shutil
import tempfile
import threading
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from hgm.archive import Archive
from hgm.bench import Benchmark, registry, task_attempts, task_available, task_feedback, task_image, task_workdir
from hgm.config import CodingConfig, RunConfig
from hgm.gateway import Gateway, GatewayConfig, ModelConfig
from hgm.interfaces import Evaluation, ExecResult, Expansion, NodeRef, Sandbox
from hgm.sandboxes import open_sandbox, resolve_backend

AGENT_MOUNT = "/run/hgm/agent"
GATEWAY_MOUNT = "/run/hgm/gateway"
IO_DIR = ".hgm"
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


def copy_agent(src: Path, dest: Path) -> None:
    shutil.copytree(src, dest, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", IO_DIR), dirs_exist_ok=True)


def gateway_config(coding: CodingConfig) -> GatewayConfig:
    chosen = {"agent": coding.agent_model, "selfmod": coding.selfmod_model, "diagnosis": coding.diagnosis_model}
    prices = {
        "input_cost_per_token": coding.input_cost_per_token,
        "output_cost_per_token": coding.output_cost_per_token,
    }
    models = {
        role: ModelConfig(model=chosen[role] or coding.model, api_base=coding.api_base, **prices) for role in ROLES
    }
    return GatewayConfig(
        models=models, max_cost_per_call=coding.max_cost_per_call, max_cost_per_node=coding.max_cost_per_node
    )


def make_benchmark(coding: CodingConfig) -> Benchmark:
    return registry.make_benchmark(coding.benchmark, coding.benchmark_path, **coding.benchmark_options)


def install_scripted_models(coding: CodingConfig) -> None:
    """Register the scripted models a config names, so the gateway can serve them offline."""
    names = {coding.model, coding.agent_model, coding.selfmod_model, coding.diagnosis_model}
    if any(name and name.startswith("scripted/") for name in names):
        from hgm.models import demo

        demo.install()


def preflight(config: RunConfig) -> None:
    """Refuse settings the coding world cannot use, before a run directory is written."""
    seed_source(config.coding)
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


# Gateway error codes that say the model cannot be reached at all: a task run that met one proves nothing about
# the agent, so it is an infrastructure error rather than a failed task.
UNREACHABLE = (
    "provider_key_missing",
    "provider_model_not_found",
    "provider_auth_failed",
    "provider_permission_denied",
    "provider_payment_required",
    "provider_unreachable",
    "provider_unavailable",
    "provider_timeout",
    "rate_limited",
    "provider_error",
    "gateway_error",
)


class CostMeter:
    """Records every model call in the archive and keeps per-(node, purpose) totals for the work that made them."""

    def __init__(self, archive: Archive) -> None:
        self.archive = archive
        self._costs: dict[tuple[int | None, str], float] = defaultdict(float)
        self._unreachable: dict[tuple[int | None, str], str] = {}
        self._lock = threading.Lock()

    def record_llm_call(
        self,
        *,
        node_id: int | None,
        purpose: str,
        model: str,
        prompt_tokens: int,
        completion_tokens: int,
        cost: float,
        latency: float,
        error: str | None,
    ) -> None:
        self.archive.record_llm_call(
            node_id=node_id,
            purpose=purpose,
            model=model,
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            cost=cost,
            latency=latency,
            error=error,
        )
        with self._lock:
            self._costs[(node_id, purpose)] += cost
            if error and error.startswith(UNREACHABLE):
                self._unreachable[(node_id, purpose)] = error

    def take(self, node_id: int | None, purpose: str) -> float:
        with self._lock:
            return self._costs.pop((node_id, purpose), 0.0)

    def take_unreachable(self, node_id: int | None, purpose: str) -> str:
        """The last error that showed the model unreachable during this work, or ''."""
        with self._lock:
            return self._unreachable.pop((node_id, purpose), "")


@dataclass
class AgentRun:
    result: ExecResult
    trajectory: str


def exec_cancellable(sandbox: Sandbox, cmd: str, timeout: float, cancel: threading.Event) -> ExecResult:
    """Run a command; closing the sandbox when `cancel` fires kills it at once."""
    done = threading.Event()

    def watch() -> None:
        while not done.wait(0.2):
            if cancel.is_set():
                sandbox.close()
                return

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        return sandbox.exec(cmd, timeout=timeout)
    finally:
        done.set()
        watcher.join()


class CodingWorld:
    """Expansion = one self-modification step; evaluation = one benchmark task, both sandboxed."""

    def __init__(self, config: RunConfig, archive: Archive) -> None:
        self.config = config
        self.coding = config.coding
        self.archive = archive
        self.benchmark = make_benchmark(self.coding)
        tasks = _check_tasks(self.coding, self.benchmark.tasks())
        self.unavailable = {t: why for t in tasks if (why := task_available(self.benchmark, t))}
        self._tasks = [t for t in tasks if t not in self.unavailable]
        if not self._tasks:
            raise ValueError(
                f"none of the {len(tasks)} selected tasks can run here: "
                f"{next(iter(self.unavailable.values()), 'no tasks')}"
            )
        self.sandbox_config = self.coding.sandbox.model_copy(
            update={"backend": resolve_backend(self.coding.sandbox.backend)}
        )
        install_scripted_models(self.coding)
        self.meter = CostMeter(archive)
        # A short private path: unix socket paths are limited to about 100 bytes.
        self.socket_dir = Path(tempfile.mkdtemp(prefix="hgm-gw-"))
        self.socket_dir.chmod(0o755)
        calls = archive.llm_calls()
        by_node: dict[int, float] = defaultdict(float)
        for call in calls:
            if call["node"] is not None:
                by_node[call["node"]] += call["cost"] or 0.0
        self.gateway = Gateway(
            gateway_config(self.coding),
            self.meter,
            socket_dir=self.socket_dir,
            spent_run=sum(c["cost"] or 0.0 for c in calls),
            spent_by_node=dict(by_node),
        )
        if config.budget.max_cost is not None:
            self.gateway.config.max_cost_per_run = config.budget.max_cost
        self.gateway.start()

    def tasks(self) -> list[str]:
        return list(self._tasks)

    def write_seed(self, dest: Path) -> float | None:
        copy_agent(seed_source(self.coding), dest / "agent_seed")
        return None

    def close(self) -> None:
        self.gateway.stop()
        shutil.rmtree(self.socket_dir, ignore_errors=True)

    # -- running an agent --------------------------------------------------------------------------------------

    def open(
        self,
        agent_source: Path,
        workspace: Path,
        token: str,
        alias: str,
        label: str,
        *,
        image: str | None = None,
        workdir: str | None = None,
    ) -> Sandbox:
        """A sandbox on `workspace` in which the agent at `agent_source` can run and reach the gateway."""
        assert self.gateway.socket_path is not None
        agent, gateway = AGENT_MOUNT, f"{GATEWAY_MOUNT}/{self.gateway.socket_path.name}"
        mounts: dict[str, str] | None = {str(agent_source): AGENT_MOUNT, str(self.socket_dir): GATEWAY_MOUNT}
        if self.sandbox_config.backend == "local":
            # No mount namespace without isolation: the agent uses the host paths themselves.
            agent, gateway, mounts = str(agent_source), str(self.gateway.socket_path), None
        env = {
            "HGM_GATEWAY": f"unix://{gateway}",
            "HGM_TOKEN": token,
            "HGM_MODEL": alias,
            "PYTHONPATH": agent,
            "PYTHONDONTWRITEBYTECODE": "1",
        }
        update = {key: value for key, value in (("image", image), ("workdir", workdir)) if value is not None}
        config = self.sandbox_config.model_copy(update=update)
        return open_sandbox(config, workspace, mounts=mounts, env=env, label=label)

    def run_agent(self, sandbox: Sandbox, statement: str, timeout: float, cancel: threading.Event) -> AgentRun:
        """Run the mounted agent on `statement` in the sandbox's workspace; never raises for agent failures."""
        io = f"{sandbox.workdir}/{IO_DIR}"
        with tempfile.TemporaryDirectory() as tmp:
            task_file = Path(tmp) / "task.md"
            task_file.write_text(statement)
            sandbox.exec(f"mkdir -p {io}", timeout=30)
            sandbox.copy_in(task_file, f"{io}/task.md")
            result = exec_cancellable(
                sandbox,
                f"python3 -m agent_seed --task {io}/task.md --workdir {sandbox.workdir} "
                f"--trajectory {io}/trajectory.json",
                timeout,
                cancel,
            )
            trajectory = ""
            if not cancel.is_set():
                try:
                    got = sandbox.export(f"{io}/trajectory.json")
                    trajectory = got.text("trajectory.json")
                except (OSError, RuntimeError, ValueError) as exc:
                    trajectory = f"(no trajectory: {exc})"
                except KeyError:
                    trajectory = f"(no trajectory: {'; '.join(got.notes)})"
                sandbox.exec(f"rm -rf {io}", timeout=30)
        return AgentRun(result, trajectory)

    # -- the World protocol ------------------------------------------------------------------------------------

    def evaluate(self, node: NodeRef, task: str, cancel: threading.Event) -> Evaluation:
        purpose = f"evaluate:{task}"
        token = self.gateway.issue_token(node.id, purpose, models=("agent",))
        workspace = private_dir(f"hgm-ws-{node.id}-")
        artefacts: dict[str, str] = {}
        attempts = task_attempts(self.benchmark)
        try:
            self.benchmark.prepare(task, workspace)
            statement = self.benchmark.info(task).statement
            sandbox = self.open(
                node.source,
                workspace,
                token,
                "agent",
                f"node-{node.id}",
                image=task_image(self.benchmark, task),
                workdir=task_workdir(self.benchmark, task),
            )
            try:
                for attempt in range(1, attempts + 1):
                    run = self.run_agent(sandbox, statement, self.coding.agent_timeout, cancel)
                    suffix = "" if attempt == 1 else f".{attempt}"
                    artefacts[f"trajectory{suffix}.json"] = run.trajectory
                    artefacts[f"agent_output{suffix}.txt"] = describe_run(run.result)
                    if cancel.is_set():
                        return Evaluation(False, cost=self.meter.take(node.id, purpose), error="cancelled")
                    score = self.benchmark.score(task, sandbox)
                    artefacts[f"test_output{suffix}.txt"] = score.output
                    if score.resolved or score.error or attempt == attempts:
                        break
                    statement = f"{statement}\n\n{task_feedback(self.benchmark, task, score)}"
            finally:
                sandbox.close()
            unreachable = self.meter.take_unreachable(node.id, purpose)
            return Evaluation(
                score.resolved and not unreachable,
                cost=self.meter.take(node.id, purpose),
                artefacts=artefacts,
                error=score.error or (f"model unreachable: {unreachable}" if unreachable else ""),
            )
        finally:
            self.gateway.revoke(token)
            shutil.rmtree(workspace, ignore_errors=True)

    def expand(self, parent: NodeRef, child_id: int, dest: Path, cancel: threading.Event) -> Expansion:
        from hgm.selfmod import SelfModification

        return SelfModification(self, parent, child_id, dest, cancel).run()


def describe_run(result: ExecResult) -> str:
    """A command's output headed by how it ended."""
    status = "timed out" if result.timed_out else f"exit code {result.returncode}"
    return f"[{status}]\n{result.output}"
