"""The agent loop, driven by a scripted fake model."""

from __future__ import annotations

import json
import tempfile
import unittest
from pathlib import Path
from typing import Any

from agent_seed.agent import Agent
from agent_seed.model import Reply, ScriptedModel, assistant, tool_call


class FailingModel:
    name = "failing"

    def query(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]]) -> Reply:
        raise RuntimeError("boom")


class AgentLoopTest(unittest.TestCase):
    def setUp(self) -> None:
        self.dir = tempfile.TemporaryDirectory()
        self.addCleanup(self.dir.cleanup)
        self.root = Path(self.dir.name)
        self.trajectory = self.root / "out" / "trajectory.json"

    def run_agent(self, replies: list[dict[str, Any]], **limits: int) -> tuple[Agent, ScriptedModel]:
        model = ScriptedModel(replies)
        agent = Agent(model, self.root, self.trajectory, **limits)
        agent.run("Write hello into greeting.txt.")
        return agent, model

    def saved(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.trajectory.read_text())
        return data

    def test_runs_tools_until_submit(self) -> None:
        replies = [
            assistant(tool_call("editor", command="create", path="greeting.txt", file_text="hello\n")),
            assistant(tool_call("bash", call_id="c2", command="cat greeting.txt")),
            assistant(tool_call("submit", summary="wrote the file")),
        ]
        agent, model = self.run_agent(replies)
        self.assertEqual((agent.exit_code, agent.info["exit_status"]), (0, "Submitted"))
        self.assertEqual(agent.info["message"], "wrote the file")
        self.assertEqual((Path(self.root, "greeting.txt").read_text()), "hello\n")
        tool_answer = model.seen[2][-1]
        self.assertEqual(tool_answer, {"role": "tool", "tool_call_id": "c2", "content": "hello\n\n[exit code: 0]"})
        data = self.saved()
        self.assertEqual(data["info"]["steps"], 3)
        self.assertEqual(data["info"]["tokens"], 300)
        self.assertEqual([s["actions"][0]["tool"] for s in data["steps"]], ["editor", "bash", "submit"])
        self.assertEqual([m["role"] for m in data["messages"]][:2], ["system", "user"])
        self.assertIn(str(self.root.resolve()), data["messages"][1]["content"])

    def test_reply_without_tool_call_gets_a_reminder(self) -> None:
        replies = [assistant(content="I think I am done."), assistant(tool_call("submit", summary="ok"))]
        agent, model = self.run_agent(replies)
        self.assertEqual(agent.info["exit_status"], "Submitted")
        self.assertEqual(model.seen[1][-1]["role"], "user")
        self.assertIn("No tool call found", model.seen[1][-1]["content"])

    def test_reminder_shows_the_accepted_format(self) -> None:
        replies = [assistant(content="Sure, here is the plan."), assistant(tool_call("submit", summary="ok"))]
        _, model = self.run_agent(replies)
        reminder = model.seen[1][-1]["content"]
        self.assertIn('{"name": "submit", "arguments": {"summary": ', reminder)
        self.assertIn("```json", reminder)
        self.assertIn('"name": "bash"', model.seen[0][0]["content"])

    def test_calls_written_in_the_text_are_executed_and_recorded_as_tool_calls(self) -> None:
        create = {"name": "editor", "arguments": {"command": "create", "path": "greeting.txt", "file_text": "hello\n"}}
        replies = [
            assistant(content=f"I will create the file.\n```json\n{json.dumps(create)}\n```"),
            assistant(content="Now check it:\n```bash\ncat greeting.txt\n```"),
            assistant(content='{"name": "submit", "arguments": {"summary": "wrote it"}}'),
        ]
        agent, model = self.run_agent(replies)
        self.assertEqual((agent.exit_code, agent.info["message"]), (0, "wrote it"))
        self.assertEqual(Path(self.root, "greeting.txt").read_text(), "hello\n")
        history = model.seen[2]
        self.assertEqual(history[-2]["tool_calls"][0]["id"], "text_2_1")
        answer = {"role": "tool", "tool_call_id": "text_2_1", "content": "hello\n\n[exit code: 0]"}
        self.assertEqual(history[-1], answer)
        self.assertIn("I will create the file.", history[2]["content"])
        self.assertEqual(history[2]["tool_calls"][0]["function"]["name"], "editor")
        steps = self.saved()["steps"]
        self.assertEqual([s.get("calls_from_text") for s in steps], [1, 1, 1])
        self.assertEqual([s["actions"][0]["tool"] for s in steps], ["editor", "bash", "submit"])

    def test_a_reply_cut_off_at_the_length_limit_gets_its_own_reminder(self) -> None:
        cut = '```json\n{"name": "editor", "arguments": {"command": "create", "path": "a.py", "file_text": "def'

        class Truncating(ScriptedModel):
            def query(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]]) -> Reply:
                reply = super().query(messages, tools)
                return Reply(reply.message, reply.tokens, truncated=len(self.seen) == 1)

        model = Truncating([assistant(content=cut), assistant(content="Done."), assistant(tool_call("submit"))])
        Agent(model, self.root, self.trajectory).run("task")
        self.assertIn("cut off at the model's length limit", model.seen[1][-1]["content"])
        self.assertIn("No tool call found", model.seen[2][-1]["content"])
        self.assertEqual([s.get("truncated") for s in self.saved()["steps"]], [True, None, None])

    def test_a_text_call_of_an_unknown_tool_gets_the_list_of_tools(self) -> None:
        replies = [
            assistant(content='```json\n{"name": "edit", "arguments": {"command": "vim temperature.py"}}\n```'),
            assistant(tool_call("submit", summary="")),
        ]
        _, model = self.run_agent(replies)
        self.assertEqual(
            model.seen[1][-1]["content"], "Error: unknown tool 'edit'; the tools are bash, editor, submit."
        )

    def test_native_tool_calls_come_first(self) -> None:
        text = '```json\n{"name": "bash", "arguments": {"command": "touch from_text"}}\n```'
        replies = [
            assistant(tool_call("bash", command="touch native"), content=text),
            assistant(tool_call("submit", summary="")),
        ]
        agent, _ = self.run_agent(replies)
        self.assertTrue(Path(self.root, "native").exists())
        self.assertFalse(Path(self.root, "from_text").exists())
        self.assertNotIn("calls_from_text", self.saved()["steps"][0])

    def test_tool_errors_are_reported_to_the_model(self) -> None:
        bad_json = {"id": "x", "type": "function", "function": {"name": "bash", "arguments": "{not json"}}
        replies = [
            assistant(
                bad_json, tool_call("nope", call_id="y"), tool_call("editor", call_id="z", command="view", path="no")
            ),
            assistant(tool_call("submit", summary="")),
        ]
        agent, model = self.run_agent(replies)
        answers = [m["content"] for m in model.seen[1][-3:]]
        self.assertIn("not a valid JSON object", answers[0])
        self.assertIn("unknown tool 'nope'", answers[1])
        self.assertIn("is not a file", answers[2])
        self.assertEqual(agent.exit_code, 0)

    def test_step_limit(self) -> None:
        replies = [assistant(tool_call("bash", command="true"))] * 5
        agent, _ = self.run_agent(replies, max_steps=3)
        self.assertEqual((agent.exit_code, agent.info["exit_status"]), (3, "LimitsExceeded"))
        self.assertIn("Step limit", agent.info["message"])
        self.assertEqual(self.saved()["info"]["steps"], 3)

    def test_token_limit(self) -> None:
        replies = [assistant(tool_call("bash", command="true"))] * 5
        agent, _ = self.run_agent(replies, max_tokens=250)
        self.assertEqual(agent.info["exit_status"], "LimitsExceeded")
        self.assertIn("Token limit", agent.info["message"])
        self.assertEqual(agent.info["steps"], 3)

    def test_model_error_ends_run_with_exit_code_1(self) -> None:
        agent, _ = self.run_agent([assistant(tool_call("bash", command="true"))])
        self.assertEqual((agent.exit_code, agent.info["exit_status"]), (1, "ModelError"))
        self.assertIn("only 1 replies", self.saved()["info"]["message"])

    def test_crash_still_writes_trajectory(self) -> None:
        agent = Agent(FailingModel(), self.root, self.trajectory)
        with self.assertRaises(RuntimeError):
            agent.run("anything")
        info = self.saved()["info"]
        self.assertEqual(info["exit_status"], "RuntimeError")
        self.assertIn("boom", info["message"])

    def test_trajectory_is_written_after_every_step(self) -> None:
        seen_steps: list[int] = []

        class Spy(ScriptedModel):
            def query(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]]) -> Reply:
                if outer.trajectory.exists():
                    seen_steps.append(json.loads(outer.trajectory.read_text())["info"]["steps"])
                return super().query(messages, tools)

        outer = self
        replies = [assistant(tool_call("bash", command="true"))] * 2 + [assistant(tool_call("submit", summary=""))]
        Agent(Spy(replies), self.root, self.trajectory).run("task")
        self.assertEqual(seen_steps, [1, 2])
