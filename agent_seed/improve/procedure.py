"""The seed improvement procedure: choose evidence, diagnose a failure with the model, let the agent edit itself."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from ..agent import Agent
from ..errors import ModelError
from ..model import Model
from . import settings
from .evidence import Evidence, TaskRecord, choose


class ImproveError(Exception):
    """The improvement could not be made; the message says why."""


def clip(text: str, limit: int) -> str:
    """`text` cut in the middle to about `limit` characters."""
    if len(text) <= limit:
        return text
    half = max(limit // 2, 1)
    return f"{text[:half]}\n[... {len(text) - 2 * half} characters cut ...]\n{text[-half:]}"


def source_listing(root: Path, limit: int) -> str:
    """The Python files under `root`, tests last, as many whole files as fit in `limit` characters."""
    files = sorted(root.rglob("*.py"), key=lambda p: ("tests" in p.relative_to(root).parts, str(p)))
    parts, left_out, used = [], [], 0
    for path in files:
        if path.is_symlink() or not path.is_file():
            continue
        part = f"--- {path.relative_to(root)}\n{path.read_text(encoding='utf-8', errors='replace')}"
        if used + len(part) > limit:
            left_out.append(str(path.relative_to(root)))
            continue
        parts.append(part)
        used += len(part) + 1
    if left_out:
        parts.append(clip(f"[... not shown, for room: {', '.join(left_out)}]", 1_000))
    return "\n".join(parts)


def diagnosis_prompt(source: Path, records: list[TaskRecord], chars: int) -> str:
    """The diagnosis prompt: half of `chars` for the source, the rest shared by the chosen tasks."""
    room = max(chars - len(settings.DIAGNOSIS_PROMPT), 2_000)
    share = room // 2 // max(len(records), 1)
    tasks = "\n".join(
        settings.TASK_EVIDENCE.format(
            task=r.task,
            solved="yes" if r.solved else "no",
            statement=clip(r.statement, share // 4),
            trajectory=clip(r.trajectory or "(no record of the attempt)", share // 2),
            tests=clip(r.tests or "(no test results)", share // 4),
        )
        for r in records
    )
    if not records:
        tasks = "(the agent has not been evaluated yet: propose a change that makes it more reliable in general)"
    return settings.DIAGNOSIS_PROMPT.format(source=source_listing(source, room // 2), tasks=tasks)


def parse_diagnosis(text: str) -> dict[str, Any]:
    """The first JSON object in the answer; it must carry a non-empty proposal."""
    for candidate in [text, *re.findall(r"\{.*\}", text, flags=re.DOTALL)]:
        try:
            data = json.loads(candidate)
        except json.JSONDecodeError:
            continue
        if isinstance(data, dict):
            if not str(data.get("proposal", "")).strip():
                raise ImproveError("the diagnosis has no 'proposal'")
            return data
    raise ImproveError(f"the diagnosis is not a JSON object: {text[:200]!r}")


def diagnose(model: Model, prompt: str) -> dict[str, Any]:
    """Ask the model for a diagnosis (no tools: one plain answer)."""
    try:
        reply = model.query([{"role": "user", "content": prompt}], [])
    except ModelError as e:
        raise ImproveError(f"the diagnosis call failed: {e}") from e
    return parse_diagnosis(str(reply.message.get("content") or ""))


def improve(model: Model, evidence: Evidence, out: Path, record: Path | None = None) -> dict[str, Any]:
    """Rewrite the agent source in `out` in place; return what was done (also written to `record`/improve.json)."""
    chosen = choose(evidence, settings.EVIDENCE_TASKS)
    report: dict[str, Any] = {
        "evidence_tasks": settings.EVIDENCE_TASKS,
        "chosen": [{"task": r.task, "solved": r.solved} for r in chosen],
    }
    try:
        prompt = diagnosis_prompt(out, chosen, evidence.prompt_chars or settings.PROMPT_CHARS)
        diagnosis = diagnose(model, prompt)
        report["diagnosis"] = diagnosis
        statement = settings.EDIT_TASK.format(
            failure=diagnosis.get("failure", ""),
            root_cause=diagnosis.get("root_cause", ""),
            proposal=diagnosis["proposal"],
            tests=evidence.test_command,
        )
        trajectory = record / "trajectory.json" if record else None
        agent = Agent(model, out, trajectory, max_steps=settings.EDIT_STEPS, max_tokens=settings.EDIT_TOKENS)
        info = agent.run(statement)
        report["edit"] = {"exit_status": info.get("exit_status"), "steps": info.get("steps")}
        if agent.exit_code not in (0, 3):
            raise ImproveError(f"the edit ended with {info.get('exit_status')}: {str(info.get('message'))[:300]}")
        return report
    finally:
        if record is not None:
            record.mkdir(parents=True, exist_ok=True)
            (record / "improve.json").write_text(json.dumps(report, indent=1, default=str), encoding="utf-8")
