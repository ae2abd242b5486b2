"""Grading an agent's work: take its submission out through the export, test it in a fresh sandbox.

The fresh sandbox has no agent mount, no model access, no PYTHONPATH and none of the agent's files but the ones the
task lets it change, so nothing the agent left behind can run during grading unless the tests import it as the
code under test. Once the agent has run, whatever keeps its work from being graded is its failure; only faults of
hgm and the sandboxes themselves (a grading sandbox that does not start, an image without the tools) are
infrastructure errors.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from hgm.coding.benchmarks import Benchmark, Score
from hgm.interfaces import Sandbox
from hgm.sandboxes import SandboxConfig, SandboxError, open_sandbox
from hgm.sandboxes.base import ManagedSandbox


class SandboxGrader:
    """Opens grading sandboxes of a configured backend, with a minimal environment and only read-only `mounts`."""

    def __init__(self, config: SandboxConfig, label: str = "grade", mounts: dict[str, str] | None = None) -> None:
        self.config = config
        self.label = label
        self.mounts = mounts

    def open(
        self,
        workspace: Path,
        *,
        image: str | None = None,
        workdir: str | None = None,
        user: str | None = None,
        network: bool = False,
        writable_root: bool = False,
    ) -> ManagedSandbox:
        """A fresh sandbox whose workspace starts as a copy of `workspace`."""
        update: dict[str, object] = {
            key: value for key, value in (("image", image), ("workdir", workdir), ("user", user)) if value is not None
        }
        if network or writable_root:
            update.update(network=network, read_only_root=not writable_root)
        config = SandboxConfig.model_validate({**self.config.model_dump(), **update})
        env = {"PYTHONDONTWRITEBYTECODE": "1"}
        return open_sandbox(config, workspace, mounts=self.mounts, env=env, label=self.label)

    def healthy(self) -> bool:
        """Whether a fresh sandbox starts and runs a command (tells a broken agent sandbox from broken sandboxes)."""
        try:
            with tempfile.TemporaryDirectory(prefix="hgm-probe-") as tmp, self.open(Path(tmp)) as sandbox:
                return sandbox.exec("true", timeout=60).returncode == 0
        except (SandboxError, OSError):
            return False


def grade(benchmark: Benchmark, task: str, sandbox: Sandbox, grader: SandboxGrader) -> Score:
    """Take the submission from the agent's `sandbox` and grade it in a fresh one; never raises for the agent."""
    try:
        submission = benchmark.submission(task, sandbox)
    except (OSError, ValueError, RuntimeError) as e:
        if isinstance(e, SandboxError) and not grader.healthy():
            return Score(False, "", error=f"sandboxes stopped working: {e}")
        reason = f"the agent's work could not be taken out of its sandbox: {e}"
        return Score(False, reason, reason=reason)
    try:
        return benchmark.grade(task, submission, grader)
    except SandboxError as e:
        return Score(False, "", error=f"the grading sandbox failed: {e}")
    except (OSError, ValueError) as e:
        reason = f"the submission could not be graded: {e}"
        return Score(False, reason, reason=reason)
