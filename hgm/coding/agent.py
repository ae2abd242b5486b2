"""Running an agent program in a sandbox with model access, and taking its trajectory out through the export."""

from __future__ import annotations

import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

from hgm.archive import Archive
from hgm.coding.benchmarks import Benchmark
from hgm.coding.meter import CostMeter
from hgm.config import CodingConfig, RunConfig
from hgm.gateway import Gateway
from hgm.interfaces import ExecResult, Sandbox
from hgm.sandboxes import SandboxConfig, SandboxError, open_sandbox
from hgm.sandboxes.export import Export, ExportLimits

AGENT_MOUNT = "/run/hgm/agent"
GATEWAY_MOUNT = "/run/hgm/gateway"
IO_DIR = ".hgm"
TOKEN = "token"
MiB = 1024 * 1024
# A trajectory is evidence for the archive and the diagnosis, never more than this much of it.
TRAJECTORY_LIMITS = ExportLimits(max_files=4, max_file_bytes=4 * MiB, max_total_bytes=5 * MiB)


@dataclass
class Context:
    """What evaluations and self-modifications of one coding run share."""

    config: RunConfig
    archive: Archive
    benchmark: Benchmark
    gateway: Gateway
    meter: CostMeter
    sandbox_config: SandboxConfig
    socket_dir: Path
    tasks: list[str]

    @property
    def coding(self) -> CodingConfig:
        return self.config.coding


@dataclass
class AgentRun:
    """How an agent run ended and the trajectory it left (as text, bounded; a note when there was none)."""

    result: ExecResult
    trajectory: str


def open_agent(
    ctx: Context,
    agent_source: Path,
    workspace: Path,
    token: str,
    alias: str,
    label: str,
    *,
    image: str | None = None,
    workdir: str | None = None,
    extra_mounts: dict[str, str] | None = None,
    task_env: dict[str, str] | None = None,
) -> Sandbox:
    """A sandbox on `workspace` in which the agent at `agent_source` can run and reach the gateway as `alias`.

    `extra_mounts` (host path -> path inside) are read-only too; without isolation the host paths are used as they are.
    """
    assert ctx.gateway.socket_path is not None
    agent, gateway = AGENT_MOUNT, f"{GATEWAY_MOUNT}/{ctx.gateway.socket_path.name}"
    mounts: dict[str, str] | None = {
        str(agent_source): AGENT_MOUNT,
        str(ctx.socket_dir): GATEWAY_MOUNT,
        **(extra_mounts or {}),
    }
    if ctx.sandbox_config.backend == "local":
        # No mount namespace without isolation: the agent uses the host paths themselves.
        agent, gateway, mounts = str(agent_source), str(ctx.gateway.socket_path), None
    env = {"HGM_GATEWAY": f"unix://{gateway}", "HGM_MODEL": alias, "PYTHONPATH": agent, "PYTHONDONTWRITEBYTECODE": "1"}
    # The task's environment (an activated conda env) is for the commands the agent runs, not for hgm's variables.
    env = {**(task_env or {}), **env}
    update = {key: value for key, value in (("image", image), ("workdir", workdir)) if value is not None}
    config = ctx.sandbox_config.model_copy(update=update)
    # The token is a file only sandboxed code can read: never in an environment or a command line on the host.
    return open_sandbox(config, workspace, mounts=mounts, env=env, label=label, secrets={TOKEN: token})


def run_agent(sandbox: Sandbox, statement: str, timeout: float, cancel: threading.Event) -> AgentRun:
    """Run the mounted agent on `statement` in the sandbox's workspace; never raises for what the agent did."""
    io = f"{sandbox.workdir}/{IO_DIR}"
    with tempfile.TemporaryDirectory(prefix="hgm-task-") as tmp:
        (Path(tmp) / "task.md").write_text(statement, encoding="utf-8")
        sandbox.copy_in(Path(tmp), IO_DIR)
    result = exec_cancellable(
        sandbox,
        # HGM_PYTHON: the interpreter from before a task's environment was activated, which the agent was written for.
        f'"${{HGM_PYTHON:-python3}}" -m agent_seed --task {io}/task.md --workdir {sandbox.workdir} '
        f"--trajectory {io}/trajectory.json",
        timeout,
        cancel,
        env={"HGM_TOKEN_FILE": f"{sandbox.secrets_dir}/{TOKEN}"},
    )
    if cancel.is_set():
        return AgentRun(result, "")
    try:
        taken = sandbox.export(IO_DIR, TRAJECTORY_LIMITS)
        # What the agent left for hgm is not part of its submission; a failure to remove it changes nothing.
        sandbox.exec(f"rm -rf {io}", timeout=60)
    except FileNotFoundError:
        taken = Export(notes=[f"the agent removed its {IO_DIR}/ folder"])
    except (OSError, SandboxError) as e:
        # The agent may have made its own sandbox unusable; grading (and its health check) decides whose fault.
        taken = Export(notes=[f"its sandbox no longer answers: {e}"])
    trajectory = taken.text("trajectory.json") if "trajectory.json" in taken.files else "(the agent left no trajectory)"
    if taken.notes:
        trajectory += "\n[hgm: " + "; ".join(taken.notes[:5]) + "]"
    return AgentRun(result, trajectory)


def exec_cancellable(
    sandbox: Sandbox, cmd: str, timeout: float, cancel: threading.Event, env: dict[str, str] | None = None
) -> ExecResult:
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
        return sandbox.exec(cmd, timeout=timeout, env=env)
    finally:
        done.set()
        watcher.join()


def describe_run(result: ExecResult) -> str:
    """A command's output headed by how it ended."""
    status = "timed out" if result.timed_out else f"exit code {result.returncode}"
    return f"[{status}]\n{result.output}"
