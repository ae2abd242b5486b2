"""A real model in the loop: its answers become tool calls that run, inside a real sandbox, and are recorded."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from hgm.archive import Archive

REPO = Path(__file__).resolve().parents[2]
SUITE = Path(__file__).parent / "suite" / "suite.yaml"
TASK = "Create a file named hello.txt whose whole content is the word hello (for example: echo hello > hello.txt)."


def executed_actions(trajectory: dict[str, Any]) -> list[dict[str, Any]]:
    return [action for step in trajectory["steps"] for action in step.get("actions", [])]


def test_the_agent_turns_the_real_models_replies_into_tool_calls(tmp_path: Path, llama: Any) -> None:
    (tmp_path / "task.md").write_text(TASK + " Then call submit.")
    (tmp_path / "work").mkdir()
    (tmp_path / "token").write_text("unused-by-llama-server\n")
    env = {
        "PATH": os.environ["PATH"],
        "HGM_GATEWAY": f"http://127.0.0.1:{llama.port}",
        "HGM_TOKEN_FILE": str(tmp_path / "token"),
        "HGM_MODEL": llama.alias,
    }
    argv = ["--task", str(tmp_path / "task.md"), "--workdir", str(tmp_path / "work"), "--max-steps", "4"]
    argv += ["--trajectory", str(tmp_path / "trajectory.json")]
    command = [sys.executable, "-S", "-m", "agent_seed", *argv]
    done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=500)
    assert done.returncode in (0, 3), done.stderr[-3000:]
    trajectory = json.loads((tmp_path / "trajectory.json").read_text())
    actions = executed_actions(trajectory)
    assert actions, f"no tool call in {len(trajectory['steps'])} replies: {trajectory['messages'][2:]}"
    assert {a["tool"] for a in actions} <= {"bash", "editor", "submit"}
    assert all(a["arguments"] is not None for a in actions)


def test_a_real_model_solves_a_task_in_a_bwrap_sandbox_through_the_gateway(
    tmp_path: Path, llama: Any, rootfs: Path
) -> None:
    out = tmp_path / "bench"
    argv = [
        str(Path(sys.executable).with_name("hgm")), "bench", "seed", "--benchmark", "custom", "--path", str(SUITE),
        "--sandbox", "bwrap", "--model", f"openai/{llama.alias}", "--api-base", llama.api_base,
        "--set", "coding.agent_timeout=300", "--workers", "1", "--out", str(out), "--json",
    ]  # fmt: skip
    # litellm asks for a key for openai/ models even when the server is a local one that ignores it.
    env = {**os.environ, "OPENAI_API_KEY": os.environ.get("OPENAI_API_KEY") or "sk-local-no-key"}
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=500)
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads(done.stdout)
    assert (results["evaluated"], results["solved"]) == (1, 1), results
    trajectory = json.loads((out / "nodes" / "0" / "evals" / "hello" / "trajectory.json").read_text())
    tools = [a["tool"] for a in executed_actions(trajectory)]
    assert {"bash", "editor"} & set(tools), f"no tool ran in the sandbox: {trajectory['messages'][2:]}"
    answers = [m["content"] for m in trajectory["messages"] if m["role"] == "tool"]
    assert any("exit code: " in a or a.startswith("Wrote ") for a in answers), answers
    with Archive(out, readonly=True) as archive:
        calls = archive.llm_calls()
    assert len(calls) == trajectory["info"]["steps"]
    assert [c["error"] for c in calls] == [None] * len(calls)
    assert all(c["prompt_tokens"] > 0 for c in calls)
