"""Meta mode: the parent's own improver (`agent_seed/improve/`) rewrites a copy of the parent, itself included.

What stays on the host and out of the agent's reach: the command that is called (`IMPROVE_COMMAND`), the evidence
(written here from the archive, bounded, mounted read-only), the token (self-modification role only), the time
limit, the bounded export of the output folder and the checks of the child (`META_TEST_COMMAND`, in a fresh
sandbox). Everything the improver wrote reaches the host only through the export; its record is kept as evidence.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

from hgm.coding.agent import IO_DIR, TOKEN, TRAJECTORY_LIMITS, exec_cancellable, open_agent
from hgm.coding.evidence import clip, describe_score
from hgm.coding.selfmod import CHILD_LIMITS, SelfModification, _last_line, recorded_score
from hgm.interfaces import Expansion, Sandbox
from hgm.sandboxes import SandboxError

IMPROVER_DIR = "agent_seed/improve"
EVIDENCE_MOUNT = "/run/hgm/evidence"
OUT_DIR = "out"
# The host calls exactly this; a child that breaks it fails when it is expanded, never the host.
IMPROVE_COMMAND = "python3 -m agent_seed.improve --evidence {evidence} --out {out}"
META_TEST_COMMAND = (
    "python3 -c 'import agent_seed, agent_seed.improve.__main__' && python3 -m agent_seed.improve --help >/dev/null"
    " && python3 -m unittest discover -s agent_seed/tests -t ."
    f" && python3 -m unittest discover -s {IMPROVER_DIR}/tests -t ."
)
# Bounds of the evidence a node's improver sees: how many tasks in full, and how much of each.
EVIDENCE_SAMPLE = 8
EVIDENCE_INDEX = 500
STATEMENT_CHARS = 8_000
TRAJECTORY_CHARS = 20_000
TESTS_CHARS = 4_000
STRAY_LIST = 20
# Lists what the improver left in its workspace outside its output and record; the output is only noted.
STRAY_COMMAND = (
    f"find . -mindepth 1 -maxdepth 4 ! -path './{OUT_DIR}' ! -path './{OUT_DIR}/*' ! -path './{IO_DIR}' "
    f"! -path './{IO_DIR}/*' -print 2>/dev/null | head -n {STRAY_LIST}"
)


def improver_files(root: Path) -> dict[str, bytes]:
    """The improver's files in a source tree hgm wrote (regular files only; bytecode ignored)."""
    base = root / IMPROVER_DIR
    out: dict[str, bytes] = {}
    for folder, dirs, files in os.walk(base):
        dirs[:] = [d for d in dirs if d != "__pycache__" and not os.path.islink(os.path.join(folder, d))]
        for name in files:
            path = Path(folder) / name
            if name.endswith(".pyc") or path.is_symlink() or not path.is_file():
                continue
            out[str(path.relative_to(root))] = path.read_bytes()
    return out


def improver_change(parent: Path, child: Path) -> dict[str, object]:
    """Which of the improver's files differ between a parent's and a child's source."""
    old, new = improver_files(parent), improver_files(child)
    changed = sorted(rel for rel in old.keys() | new.keys() if old.get(rel) != new.get(rel))
    return {"changed": bool(changed), "files": changed}


class MetaSelfModification(SelfModification):
    """One meta-mode expansion: evidence out, the parent's improver run in a sandbox, the child checked."""

    test_command = META_TEST_COMMAND

    def run(self) -> Expansion:
        if not (self.parent.source / IMPROVER_DIR / "__main__.py").is_file():
            return self._fail(f"the parent has no improver ({IMPROVER_DIR}/__main__.py), so it cannot improve itself")
        work = Path(tempfile.mkdtemp(prefix=f"hgm-meta-{self.child_id}-"))
        try:
            work.chmod(0o755)
            evidence, workspace = work / "evidence", work / "ws"
            self.write_evidence(evidence)
            shutil.copytree(self.parent.source, workspace / OUT_DIR)
            (workspace / IO_DIR).mkdir()
            for path in (work, evidence, workspace):
                path.chmod(0o755)
            outcome = self.improve(evidence, workspace)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        outcome = outcome or self.check_child("the improver made no change to the agent")
        if outcome:
            return self._fail(outcome)
        self.artefacts["improver.json"] = json.dumps(
            {**improver_change(self.parent.source, self.dest), "used": self.parent.id}, indent=1
        )
        return Expansion(ok=True, cost=self._cost(), artefacts=self.artefacts)

    def write_evidence(self, dest: Path) -> None:
        """The parent's own evaluations (all, as an index) and a bounded sample of their records, failures first."""
        done = self.ctx.archive.work(node=self.parent.id, kind="evaluate", status="done")
        rows = sorted(((w.task, bool(w.success)) for w in done if w.task), key=lambda r: r[0])
        rng = np.random.default_rng([self.ctx.config.seed, 4, self.child_id])
        failed = [r for r in rows if not r[1]]
        solved = [r for r in rows if r[1]]
        sample = [failed[i] for i in rng.permutation(len(failed))] + [solved[i] for i in rng.permutation(len(solved))]
        entries = []
        for i, (task, solved_) in enumerate(sample[:EVIDENCE_SAMPLE]):
            folder = dest / "tasks" / f"{i:03d}"
            folder.mkdir(parents=True)
            # Archive files were written by hgm from bounded exports; they go out clipped and structured.
            record = self.ctx.archive.node_dir(self.parent.id) / "evals" / task
            score = recorded_score(record / "test_results.json")
            files = {
                "statement.md": clip(self.ctx.benchmark.info(task).statement, STATEMENT_CHARS),
                "trajectory.txt": clip(_read(record / "trajectory.json"), TRAJECTORY_CHARS),
                "tests.txt": clip(describe_score(score), TESTS_CHARS) if score else "(no test results recorded)",
            }
            for name, text in files.items():
                (folder / name).write_text(text, encoding="utf-8")
            entries.append({"task": task, "solved": solved_, "dir": f"tasks/{i:03d}"})
        index = {
            "node": self.parent.id,
            "child": self.child_id,
            "seed": self.ctx.config.seed,
            "prompt_chars": self.ctx.coding.diagnosis_prompt_chars,
            "test_command": META_TEST_COMMAND,
            "evaluations": [{"task": t, "solved": s} for t, s in rows[:EVIDENCE_INDEX]],
            "evaluations_total": len(rows),
            "sample": entries,
        }
        dest.mkdir(parents=True, exist_ok=True)
        (dest / "evidence.json").write_text(json.dumps(index, indent=1), encoding="utf-8")
        self.artefacts["evidence.json"] = clip(json.dumps(index, indent=1), 50_000)
        for folder in sorted(dest.rglob("*")):
            folder.chmod(0o755 if folder.is_dir() else 0o644)

    def improve(self, evidence: Path, workspace: Path) -> str:
        """Run the parent's improver on the copy in `workspace`; a failure reason, or '' once the child is in dest."""
        ctx = self.ctx
        token = ctx.gateway.issue_token(self.child_id, "selfmod", models=("selfmod",))
        local = ctx.sandbox_config.backend == "local"
        try:
            try:
                sandbox = open_agent(
                    ctx,
                    self.parent.source,
                    workspace,
                    token,
                    "selfmod",
                    f"improve-{self.child_id}",
                    extra_mounts={str(evidence): EVIDENCE_MOUNT},
                )
            except (OSError, SandboxError) as e:
                return f"the improver's sandbox could not start: {e}"
            try:
                return self._run_improver(sandbox, str(evidence) if local else EVIDENCE_MOUNT)
            finally:
                sandbox.close()
        finally:
            ctx.gateway.revoke(token)

    def _run_improver(self, sandbox: Sandbox, evidence: str) -> str:
        ctx = self.ctx
        out, record = f"{sandbox.workdir}/{OUT_DIR}", f"{sandbox.workdir}/{IO_DIR}"
        env = {"HGM_TOKEN_FILE": f"{sandbox.secrets_dir}/{TOKEN}", "HGM_IMPROVE_RECORD": record}
        command = IMPROVE_COMMAND.format(evidence=evidence, out=out)
        result = exec_cancellable(sandbox, command, ctx.coding.selfmod_timeout, self.cancel, env=env)
        self.artefacts["improver_output.txt"] = clip(result.output, 40_000)
        if self.cancel.is_set():
            return "cancelled"
        try:
            self._keep_record(sandbox)
            strays = sandbox.exec(STRAY_COMMAND, timeout=60)
            if strays.output.strip():
                # Only listed: nothing outside the output folder becomes part of the child.
                self.artefacts["improver_strays.txt"] = clip(strays.output, 4_000)
            if result.timed_out:
                return f"the improver timed out after {ctx.coding.selfmod_timeout:.0f}s"
            if result.returncode != 0:
                return f"the improver failed (exit code {result.returncode}): {_last_line(result.output)}"
            child = sandbox.export(OUT_DIR, CHILD_LIMITS)
        except FileNotFoundError:
            return f"the improver removed its output folder {OUT_DIR}/"
        except (OSError, SandboxError) as e:
            return f"the improver's sandbox no longer answers: {e}"
        return self._keep(child)

    def _keep_record(self, sandbox: Sandbox) -> None:
        try:
            taken = sandbox.export(IO_DIR, TRAJECTORY_LIMITS)
        except FileNotFoundError:
            self.artefacts["improver_record_notes.txt"] = f"the improver removed its {IO_DIR}/ folder"
            return
        kept = {"improve.json": "improver_record.json", "trajectory.json": "selfmod_trajectory.json"}
        for name, artefact in kept.items():
            if name in taken.files:
                self.artefacts[artefact] = clip(taken.text(name), 400_000)
        self._story(taken.text("improve.json") if "improve.json" in taken.files else "")
        if taken.notes:
            self.artefacts["improver_record_notes.txt"] = "\n".join(taken.notes)

    def _story(self, record: str) -> None:
        """The diagnosis and tasks the improver says it used, as the story views show (clipped and cleaned there)."""
        try:
            data = json.loads(record)
        except ValueError:
            return
        if not isinstance(data, dict):
            return
        diagnosis = data.get("diagnosis")
        if isinstance(diagnosis, dict):
            keep = {k: clip(str(diagnosis[k]), 4_000) for k in ("failure", "root_cause", "proposal") if k in diagnosis}
            self.artefacts["diagnosis.json"] = json.dumps(keep, indent=2)
        chosen = data.get("chosen")
        if isinstance(chosen, list):
            names = [str(c.get("task", "")) for c in chosen[:20] if isinstance(c, dict)]
            self.artefacts["task.txt"] = clip(", ".join(names), 1_000)


def _read(path: Path) -> str:
    try:
        return path.read_text(errors="replace")
    except OSError:
        return "(the agent was not run on this task yet)"
