"""One self-improvement step: diagnose a failure, let the parent agent rewrite its own source, validate the child."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from hgm.gateway import GatewayError
from hgm.interfaces import Expansion, NodeRef
from hgm.sandboxes import open_sandbox

if TYPE_CHECKING:
    from hgm.worlds.coding import CodingWorld

from hgm.worlds.coding import copy_agent, describe_run, private_dir

EVIDENCE_LIMIT = 12_000
SOURCE_LIMIT = 40_000
TEST_COMMAND = "python3 -c 'import agent_seed' && python3 -m unittest discover -s agent_seed/tests -t ."

DIAGNOSIS_PROMPT = """\
You are improving a coding agent. Below are its source code, a benchmark task it failed, the record of its
attempt and the output of the hidden tests. Find out why the agent (not the task) failed, and propose one
concrete, general change to the agent's code that would make it solve tasks like this more often.

Answer with one JSON object and nothing else:
{{"failure": "what went wrong in the attempt", "root_cause": "which property of the agent caused it",
  "proposal": "the change to make to the agent's code, precise enough to implement",
  "files": ["agent_seed/... files to change"]}}

<agent_source>
{source}
</agent_source>

<task id="{task}">
{statement}
</task>

<attempt>
{trajectory}
</attempt>

<hidden_test_output>
{tests}
</hidden_test_output>"""

SELFMOD_TASK = """\
Your working directory holds the complete source code of a coding agent: the Python package `agent_seed/`.
It is your own code. Improve it by implementing the change below.

Diagnosis of a failed run: {failure}
Root cause: {root_cause}
Change to implement: {proposal}

Rules: keep the agent's interface (`python3 -m agent_seed --task FILE --workdir DIR --trajectory FILE`) and its
use of the HGM_GATEWAY, HGM_TOKEN and HGM_MODEL environment variables; use only the Python standard library;
keep the test suite passing (`{tests}`) and add a test for the change where it makes sense."""


class DiagnosisError(Exception):
    """The diagnosis model's answer could not be used."""


def parse_diagnosis(text: str) -> dict[str, Any]:
    """The first JSON object in a model's answer, which must carry a non-empty proposal."""
    candidates = [text] + re.findall(r"\{.*\}", text, flags=re.DOTALL)
    for candidate in candidates:
        try:
            data = json.loads(candidate)
        except json.JSONDecodeError:
            continue
        if isinstance(data, dict):
            if not str(data.get("proposal", "")).strip():
                raise DiagnosisError("the diagnosis has no 'proposal'")
            return data
    raise DiagnosisError(f"the diagnosis is not a JSON object: {text[:200]!r}")


def _clip(text: str, limit: int = EVIDENCE_LIMIT) -> str:
    if len(text) <= limit:
        return text
    half = limit // 2
    return f"{text[:half]}\n[... {len(text) - limit} characters cut ...]\n{text[-half:]}"


def source_listing(root: Path) -> str:
    parts = []
    for path in sorted(root.rglob("*.py")):
        parts.append(f"--- {path.relative_to(root)}\n{path.read_text(errors='replace')}")
    return _clip("\n".join(parts), SOURCE_LIMIT)


def diff_dirs(old: Path, new: Path) -> str:
    proc = subprocess.run(
        ["git", "diff", "--no-index", "--no-color", "--", str(old), str(new)],
        capture_output=True,
        text=True,
        check=False,
    )
    return proc.stdout.replace(str(old), "").replace(str(new), "")


class SelfModification:
    """Turns a parent node into a child source directory, or into a recorded reason why not."""

    def __init__(self, world: CodingWorld, parent: NodeRef, child_id: int, dest: Path, cancel: threading.Event) -> None:
        self.world = world
        self.parent = parent
        self.child_id = child_id
        self.dest = dest
        self.cancel = cancel
        self.artefacts: dict[str, str] = {}

    def run(self) -> Expansion:
        try:
            return self._run()
        finally:
            self.world.gateway.revoke(getattr(self, "_token", ""))

    def _cost(self) -> float:
        meter = self.world.meter
        return meter.take(self.child_id, "diagnosis") + meter.take(self.child_id, "selfmod")

    def _fail(self, reason: str) -> Expansion:
        return Expansion(ok=False, reason=reason, cost=self._cost(), artefacts=self.artefacts)

    def _run(self) -> Expansion:
        task = self.choose_task()
        self.artefacts["task.txt"] = task
        try:
            diagnosis = self.diagnose(task)
        except (DiagnosisError, GatewayError) as exc:
            return self._fail(f"diagnosis failed: {exc}")
        self.artefacts["diagnosis.json"] = json.dumps(diagnosis, indent=2)
        if self.cancel.is_set():
            return self._fail("cancelled")
        outcome = self.rewrite(diagnosis)
        if outcome:
            return self._fail(outcome)
        diff = diff_dirs(self.parent.source, self.dest)
        self.artefacts["diff.patch"] = diff
        if not diff.strip():
            return self._fail("self-modification made no change to the agent")
        ok, output = self.validate()
        self.artefacts["validation.txt"] = output
        if self.cancel.is_set():
            return self._fail("cancelled")
        if not ok:
            return self._fail(f"child fails its own checks: {_last_line(output)}")
        return Expansion(ok=True, cost=self._cost(), artefacts=self.artefacts)

    def choose_task(self) -> str:
        """A task the parent failed (seeded by the child id), else any task it was evaluated on, else any task."""
        evaluations = self.world.archive.work(node=self.parent.id, kind="evaluate", status="done")
        failed = sorted(w.task for w in evaluations if not w.success and w.task)
        pool = failed or sorted(w.task for w in evaluations if w.task) or self.world.tasks()
        rng = np.random.default_rng([self.world.config.seed, 3, self.child_id])
        return str(pool[int(rng.integers(len(pool)))])

    def diagnose(self, task: str) -> dict[str, Any]:
        evidence = self.world.archive.node_dir(self.parent.id) / "evals" / task
        trajectory = _read(evidence / "trajectory.json") or "(the agent was not run on this task yet)"
        tests = _read(evidence / "test_output.txt") or "(no test output recorded)"
        prompt = DIAGNOSIS_PROMPT.format(
            source=source_listing(self.parent.source),
            task=task,
            statement=_clip(self.world.benchmark.info(task).statement),
            trajectory=_clip(trajectory),
            tests=_clip(tests),
        )
        token = self.world.gateway.issue_token(self.child_id, "diagnosis", models=("diagnosis",), transports=())
        try:
            response = self.world.gateway.complete(
                token,
                {
                    "model": "diagnosis",
                    "messages": [{"role": "user", "content": prompt}],
                },
            )
        finally:
            self.world.gateway.revoke(token)
        content = response["choices"][0]["message"].get("content") or ""
        self.artefacts["diagnosis_raw.txt"] = content
        return parse_diagnosis(content)

    def rewrite(self, diagnosis: dict[str, Any]) -> str:
        """Run the parent agent on a copy of its own source; return a failure reason, or '' on success."""
        world = self.world
        self._token = world.gateway.issue_token(self.child_id, "selfmod", models=("selfmod",))
        workspace = private_dir(f"hgm-selfmod-{self.child_id}-")
        try:
            copy_agent(self.parent.source, workspace)
            statement = SELFMOD_TASK.format(
                failure=diagnosis.get("failure", ""),
                root_cause=diagnosis.get("root_cause", ""),
                proposal=diagnosis["proposal"],
                tests=TEST_COMMAND,
            )
            sandbox = world.open(self.parent.source, workspace, self._token, "selfmod", f"selfmod-{self.child_id}")
            try:
                run = world.run_agent(sandbox, statement, world.coding.selfmod_timeout, self.cancel)
                self.artefacts["selfmod_trajectory.json"] = run.trajectory
                self.artefacts["selfmod_output.txt"] = run.result.output
                if self.cancel.is_set():
                    return "cancelled"
                if run.result.timed_out:
                    return f"self-modification timed out after {world.coding.selfmod_timeout:.0f}s"
                self.dest.mkdir(parents=True, exist_ok=True)
                sandbox.export(sandbox.workdir).write_into(self.dest)
            finally:
                sandbox.close()
        finally:
            shutil.rmtree(workspace, ignore_errors=True)
        for junk in self.dest.rglob("__pycache__"):
            shutil.rmtree(junk, ignore_errors=True)
        if not (self.dest / "agent_seed").is_dir():
            return "the child deleted its own package agent_seed/"
        return ""

    def validate(self) -> tuple[bool, str]:
        """The child must import and pass its own test suite, in a sandbox without model access."""
        workspace = private_dir(f"hgm-check-{self.child_id}-")
        try:
            shutil.copytree(self.dest, workspace, dirs_exist_ok=True)
            sandbox = open_sandbox(
                self.world.sandbox_config,
                workspace,
                env={"PYTHONDONTWRITEBYTECODE": "1"},
                label=f"check-{self.child_id}",
            )
            try:
                result = sandbox.exec(TEST_COMMAND, timeout=self.world.coding.test_timeout)
            finally:
                sandbox.close()
        finally:
            shutil.rmtree(workspace, ignore_errors=True)
        return result.returncode == 0 and not result.timed_out, describe_run(result)


def _read(path: Path) -> str:
    try:
        return path.read_text(errors="replace")
    except OSError:
        return ""


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1][:300] if lines else "(no output)"
