"""One self-improvement step: diagnose a failure, let the parent agent rewrite its own source, validate the child.

Everything the parent wrote reaches the host only through the bounded export: regular files, capped in size and
number. The child is committed only if that export is complete, and it is validated in a fresh sandbox holding
nothing but those files.
"""

from __future__ import annotations

import json
import re
import subprocess
import threading
from pathlib import Path
from typing import Any

import numpy as np

from hgm.coding.agent import Context, describe_run, open_agent, run_agent
from hgm.coding.benchmarks import Score, TestCase
from hgm.coding.benchmarks.staging import SubmissionError, write_files
from hgm.coding.evidence import clip, describe_score
from hgm.gateway import GatewayError
from hgm.interfaces import Expansion, NodeRef
from hgm.sandboxes import SandboxError, open_sandbox
from hgm.sandboxes.export import Export, ExportLimits

MiB = 1024 * 1024
# A child's whole source: what a coding agent of this kind plausibly needs, and no more.
CHILD_LIMITS = ExportLimits(max_files=2_000, max_file_bytes=1 * MiB, max_total_bytes=16 * MiB)
TEST_COMMAND = "python3 -c 'import agent_seed' && python3 -m unittest discover -s agent_seed/tests -t ."

DIAGNOSIS_PROMPT = """\
You are improving a coding agent. Below are its source code, a benchmark task it failed, the record of its
attempt and the results of the hidden tests. Find out why the agent (not the task) failed, and propose one
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

<hidden_test_results>
{tests}
</hidden_test_results>"""

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


def source_listing(root: Path, limit: int) -> str:
    """The agent's Python files, its own tests last, as many whole files as fit in `limit` characters."""
    files = sorted(root.rglob("*.py"), key=lambda p: ("tests" in p.relative_to(root).parts, str(p)))
    parts, left_out, used = [], [], 0
    for path in files:
        part = f"--- {path.relative_to(root)}\n{path.read_text(errors='replace')}"
        if used + len(part) > limit:
            left_out.append(str(path.relative_to(root)))
            continue
        parts.append(part)
        used += len(part) + 1
    if left_out:
        parts.append(clip(f"[... not shown, for room: {', '.join(left_out)}]", 1_000))
    return "\n".join(parts)


def diff_dirs(old: Path, new: Path) -> str:
    """A unified diff between two host directories of regular files (both written by hgm)."""
    proc = subprocess.run(
        ["git", "diff", "--no-index", "--no-color", "--", str(old), str(new)],
        capture_output=True,
        text=True,
        check=False,
    )
    return proc.stdout.replace(str(old), "").replace(str(new), "")


def recorded_score(path: Path) -> Score | None:
    """The structured grading an evaluation left in the archive (test_results.json), if any."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        tests = [TestCase(str(t["name"]), str(t["outcome"]), str(t.get("message", ""))) for t in data["tests"]]
        return Score(bool(data["resolved"]), str(data.get("output", "")), reason=str(data["reason"]), tests=tests)
    except (OSError, ValueError, KeyError, TypeError):
        return None


class SelfModification:
    """Turns a parent node into a child source directory, or into a recorded reason why not."""

    test_command = TEST_COMMAND

    def __init__(self, ctx: Context, parent: NodeRef, child_id: int, dest: Path, cancel: threading.Event) -> None:
        self.ctx = ctx
        self.parent = parent
        self.child_id = child_id
        self.dest = dest
        self.cancel = cancel
        self.artefacts: dict[str, str] = {}

    def _cost(self) -> float:
        meter = self.ctx.meter
        return meter.take(self.child_id, "diagnosis") + meter.take(self.child_id, "selfmod")

    def _fail(self, reason: str) -> Expansion:
        return Expansion(ok=False, reason=reason, cost=self._cost(), artefacts=self.artefacts)

    def run(self) -> Expansion:
        task = self.choose_task()
        self.artefacts["task.txt"] = task
        try:
            diagnosis = self.diagnose(task)
        except (DiagnosisError, GatewayError) as exc:
            return self._fail(f"diagnosis failed: {exc}")
        self.artefacts["diagnosis.json"] = json.dumps(diagnosis, indent=2)
        if self.cancel.is_set():
            return self._fail("cancelled")
        outcome = self.rewrite(diagnosis) or self.check_child("self-modification made no change to the agent")
        if outcome:
            return self._fail(outcome)
        return Expansion(ok=True, cost=self._cost(), artefacts=self.artefacts)

    def check_child(self, unchanged: str) -> str:
        """Records the child's diff and validation; the reason it fails ("" if it passes), `unchanged` if no diff."""
        diff = diff_dirs(self.parent.source, self.dest)
        self.artefacts["diff.patch"] = clip(diff, 200_000)
        if not diff.strip():
            return unchanged
        ok, output = self.validate()
        self.artefacts["validation.txt"] = output
        if self.cancel.is_set():
            return "cancelled"
        if not ok:
            return f"child fails its own checks: {_last_line(output)}"
        return ""

    def choose_task(self) -> str:
        """A task the parent failed (seeded by the child id), else any task it was evaluated on, else any task."""
        evaluations = self.ctx.archive.work(node=self.parent.id, kind="evaluate", status="done")
        failed = sorted(w.task for w in evaluations if not w.success and w.task)
        pool = failed or sorted(w.task for w in evaluations if w.task) or self.ctx.tasks
        rng = np.random.default_rng([self.ctx.config.seed, 3, self.child_id])
        return str(pool[int(rng.integers(len(pool)))])

    def diagnose(self, task: str) -> dict[str, Any]:
        # Archive files were written by hgm from bounded exports; the prompt gets them clipped and structured.
        evidence = self.ctx.archive.node_dir(self.parent.id) / "evals" / task
        trajectory = _read(evidence / "trajectory.json") or "(the agent was not run on this task yet)"
        score = recorded_score(evidence / "test_results.json")
        # The prompt fits `diagnosis_prompt_chars`: half for the agent's source, the rest for the evidence.
        room = self.ctx.coding.diagnosis_prompt_chars - len(DIAGNOSIS_PROMPT)
        prompt = DIAGNOSIS_PROMPT.format(
            source=source_listing(self.parent.source, room // 2),
            task=task,
            statement=clip(self.ctx.benchmark.info(task).statement, room // 8),
            trajectory=clip(trajectory, room // 4),
            tests=clip(describe_score(score), room // 8) if score is not None else "(no test results recorded)",
        )
        token = self.ctx.gateway.issue_token(self.child_id, "diagnosis", models=("diagnosis",), transports=())
        try:
            response = self.ctx.gateway.complete(
                token, {"model": "diagnosis", "messages": [{"role": "user", "content": prompt}]}
            )
        finally:
            self.ctx.gateway.revoke(token)
        content = response["choices"][0]["message"].get("content") or ""
        self.artefacts["diagnosis_raw.txt"] = clip(content)
        return parse_diagnosis(content)

    def rewrite(self, diagnosis: dict[str, Any]) -> str:
        """Run the parent agent on a copy of its own source; return a failure reason, or '' on success."""
        ctx = self.ctx
        token = ctx.gateway.issue_token(self.child_id, "selfmod", models=("selfmod",))
        statement = SELFMOD_TASK.format(
            failure=diagnosis.get("failure", ""),
            root_cause=diagnosis.get("root_cause", ""),
            proposal=diagnosis["proposal"],
            tests=TEST_COMMAND,
        )
        try:
            sandbox = open_agent(
                ctx, self.parent.source, self.parent.source, token, "selfmod", f"selfmod-{self.child_id}"
            )
            try:
                run = run_agent(sandbox, statement, ctx.coding.selfmod_timeout, self.cancel)
                self.artefacts["selfmod_trajectory.json"] = run.trajectory
                self.artefacts["selfmod_output.txt"] = run.result.output
                if self.cancel.is_set():
                    return "cancelled"
                if run.result.timed_out:
                    return f"self-modification timed out after {ctx.coding.selfmod_timeout:.0f}s"
                child = sandbox.export(".", CHILD_LIMITS)
            finally:
                sandbox.close()
        finally:
            ctx.gateway.revoke(token)
        return self._keep(child)

    def _keep(self, child: Export) -> str:
        """Write the exported child into `dest`; a reason if it cannot be a child."""
        if child.notes:
            self.artefacts["export_notes.txt"] = "\n".join(child.notes)
        if not child.complete:
            return f"the child's source is over the limits and was not taken: {'; '.join(child.notes[:3])}"
        files = {rel: data for rel, data in child.files.items() if not _bytecode(rel)}
        if not any(rel.startswith("agent_seed/") for rel in files):
            return "the child deleted its own package agent_seed/"
        try:
            write_files(self.dest, files)
        except SubmissionError as e:
            return f"the child's files cannot be laid out: {e}"
        return ""

    def validate(self) -> tuple[bool, str]:
        """The child must import and pass its own test suite, in a fresh sandbox without model access."""
        try:
            with open_sandbox(
                self.ctx.sandbox_config,
                self.dest,
                env={"PYTHONDONTWRITEBYTECODE": "1"},
                label=f"check-{self.child_id}",
            ) as sandbox:
                result = sandbox.exec(self.test_command, timeout=self.ctx.coding.test_timeout)
        except SandboxError as e:
            return False, f"the child's checks could not run: {e}"
        return result.returncode == 0 and not result.timed_out, describe_run(result)


def _bytecode(rel: str) -> bool:
    return "__pycache__" in rel.split("/") or rel.endswith(".pyc")


def _read(path: Path) -> str:
    try:
        return path.read_text(errors="replace")
    except OSError:
        return ""


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1][:300] if lines else "(no output)"
