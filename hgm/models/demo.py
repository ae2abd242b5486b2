"""The offline demo's scripted model: fixed, readable rules standing in for a real LLM (it does not reason).

It plays three roles through the gateway, told apart by the prompt:
- task solver: looks up the built-in task's reference solution and writes it, after an inspection phase whose
  length grows with the task's difficulty (hard tasks take more steps than the seed agent allows); a fixed
  quarter of the tasks it "does not know" and gives up on;
- diagnosis: if the failed attempt ran out of steps, proposes doubling MAX_STEPS, else a prompt tweak; asked by a
  meta-mode improver that still shows its diagnosis a single task (`EVIDENCE_TASKS = 1`), it proposes first to
  show three, an edit of the improver itself (a fixed rule, not a judgement);
- self-modification: makes exactly the proposed edit with the editor tool, runs the agent's tests, submits.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from typing import Any

from hgm.models.scripted import Message, assistant_turn, register_script, tool_call
from hgm.models.scripted import install as install_provider

INSPECTION_STEPS = {"easy": 1, "medium": 12, "hard": 70}
TEST_COMMAND = "python3 -m unittest discover -s agent_seed/tests -t ."
PROMPT_OLD = "How to work: read the relevant files first"
PROMPT_NEW = "How to work: re-read the task statement, then read the relevant files first"
IMPROVER_FILE = "agent_seed/improve/settings.py"
IMPROVER_OLD = "EVIDENCE_TASKS = 1"
IMPROVER_NEW = "EVIDENCE_TASKS = 3"
META_DIAGNOSIS = "You are improving a coding agent and the procedure that improves it."


@functools.cache
def _builtin_tasks() -> dict[str, tuple[str, str, dict[str, str]]]:
    """statement -> (task id, difficulty, reference solution files)."""
    from hgm.coding.benchmarks.builtin import BuiltinBenchmark

    bench = BuiltinBenchmark()
    out = {}
    for task in bench.tasks():
        info = bench.info(task)
        solution = bench.root / task / "solution"
        files = {str(p.relative_to(solution)): p.read_text() for p in sorted(solution.rglob("*")) if p.is_file()}
        out[info.statement.strip()] = (task, info.difficulty, files)
    return out


def knows(task: str) -> bool:
    """The scripted solver gives up on a fixed quarter of the tasks, chosen by a hash of the id."""
    return hashlib.sha256(task.encode()).digest()[0] % 4 != 0


def _first_user(messages: list[Message]) -> str:
    for m in messages:
        if m.get("role") == "user" and isinstance(m.get("content"), str):
            return str(m["content"])
    return ""


def _last_tool_output(messages: list[Message]) -> str:
    for m in reversed(messages):
        if m.get("role") == "tool":
            return str(m.get("content") or "")
    return ""


def _submit(summary: str) -> Message:
    return {"content": None, "tool_calls": [tool_call("submit", {"summary": summary})]}


def _call(name: str, **args: Any) -> Message:
    return {"content": None, "tool_calls": [tool_call(name, args)]}


class DemoScript:
    """Dispatches on the prompt to one of the three roles described in the module docstring."""

    def respond(self, messages: list[Message], tools: list[Message] | None) -> Message:
        first = _first_user(messages)
        if first.startswith("You are improving a coding agent."):
            return {"content": json.dumps(diagnose(first))}
        if first.startswith(META_DIAGNOSIS):
            return {"content": json.dumps(diagnose_meta(first))}
        if "It is your own code. Improve it" in first:
            return self_modify(first, messages)
        return solve(first, messages)


def diagnose(prompt: str) -> dict[str, Any]:
    attempt = prompt.split("<attempt>", 1)[-1].split("</attempt>", 1)[0]
    current = re.search(r"MAX_STEPS = (\d+)", prompt)
    steps = int(current.group(1)) if current else 60
    if "LimitsExceeded" in attempt:
        return {
            "failure": "the agent stopped at its step limit before writing a solution",
            "root_cause": f"MAX_STEPS = {steps} is too low for tasks that need a long inspection",
            "proposal": f"Raise MAX_STEPS in agent_seed/settings.py from {steps} to {steps * 2}.",
            "files": ["agent_seed/settings.py"],
        }
    return {
        "failure": "the agent submitted a solution that fails the hidden tests",
        "root_cause": "the system prompt does not ask the agent to check the statement again",
        "proposal": f"In agent_seed/settings.py change the SYSTEM_PROMPT sentence '{PROMPT_OLD}' to '{PROMPT_NEW}'.",
        "files": ["agent_seed/settings.py"],
    }


def diagnose_meta(prompt: str) -> dict[str, Any]:
    """An improver's diagnosis: widen the improver's evidence first, then the classic rules."""
    if f"\n{IMPROVER_OLD}\n" in prompt:
        return {
            "failure": "the diagnosis was made from a single evaluated task",
            "root_cause": f"the improver shows its diagnosis one task ({IMPROVER_OLD} in {IMPROVER_FILE})",
            "proposal": f"In {IMPROVER_FILE} replace '{IMPROVER_OLD}' with '{IMPROVER_NEW}'.",
            "files": [IMPROVER_FILE],
        }
    return diagnose(prompt)


def self_modify(task: str, messages: list[Message]) -> Message:
    turn = assistant_turn(messages)
    raise_steps = re.search(r"MAX_STEPS in agent_seed/settings.py from (\d+) to (\d+)", task)
    replace = re.search(r"Change to implement: In (\S+) replace '([^']+)' with '([^']+)'\.", task)
    if replace:
        path, old, new = replace.groups()
        steps = [
            _call("editor", command="view", path=path),
            _call("editor", command="str_replace", path=path, old_str=old, new_str=new),
            _call("bash", command=TEST_COMMAND),
        ]
        return steps[turn] if turn < len(steps) else _submit("made the proposed change; the agent's tests were run")
    if turn == 0:
        return _call("editor", command="view", path="agent_seed/settings.py")
    if turn == 1:
        if raise_steps:
            seen = re.search(r"MAX_STEPS = (\d+)", _last_tool_output(messages))
            old = f"MAX_STEPS = {seen.group(1) if seen else raise_steps.group(1)}"
            return _call(
                "editor",
                command="str_replace",
                path="agent_seed/settings.py",
                old_str=old,
                new_str=f"MAX_STEPS = {raise_steps.group(2)}",
            )
        return _call(
            "editor", command="str_replace", path="agent_seed/settings.py", old_str=PROMPT_OLD, new_str=PROMPT_NEW
        )
    if turn == 2:
        return _call("bash", command=TEST_COMMAND)
    return _submit("made the proposed change; the agent's tests were run")


def solve(first: str, messages: list[Message]) -> Message:
    found = re.search(r"<task>\n(.*)\n</task>", first, flags=re.DOTALL)
    entry = _builtin_tasks().get(found.group(1).strip()) if found else None
    if entry is None:
        return _submit("this scripted model only knows the built-in benchmark's tasks")
    task, difficulty, files = entry
    if not knows(task):
        return _submit("the scripted solver has no answer for this task")
    plan: list[Message] = [_call("bash", command="ls -la")]
    names = sorted(files)
    for i in range(INSPECTION_STEPS.get(difficulty, 1)):
        plan.append(_call("bash", command=f"wc -l {names[i % len(names)]} || true"))
    plan += [_call("editor", command="create", path=name, file_text=files[name]) for name in names]
    plan.append(_submit(f"wrote {', '.join(names)}"))
    turn = assistant_turn(messages)
    return plan[min(turn, len(plan) - 1)]


def install() -> None:
    """Make `scripted/demo` available to litellm in this process."""
    register_script("demo", DemoScript())
    install_provider()
