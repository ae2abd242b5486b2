"""Tool calls written in the text of a reply, as small open models write them."""

from __future__ import annotations

import json
import unittest
from typing import Any

from agent_seed.textcalls import text_tool_calls

KNOWN = {"bash", "editor", "submit"}


def parsed(text: str) -> list[tuple[str, dict[str, Any]]]:
    return [(c["function"]["name"], json.loads(c["function"]["arguments"])) for c in text_tool_calls(text, KNOWN)]


class JsonCallTest(unittest.TestCase):
    def test_fenced_json_block_with_prose_around_it(self) -> None:
        text = (
            "To solve this task, I will first list the files.\n\n"
            '```json\n{"name": "bash", "arguments": {"command": "ls -la"}}\n```\n\nThen I will read them.'
        )
        self.assertEqual(parsed(text), [("bash", {"command": "ls -la"})])

    def test_calls_are_openai_tool_calls_with_distinct_ids(self) -> None:
        text = (
            '```json\n{"name": "bash", "arguments": {"command": "ls"}}\n```\n'
            '```json\n{"name": "submit", "arguments": {"summary": "done"}}\n```'
        )
        calls = text_tool_calls(text, KNOWN, "text_3")
        self.assertEqual([c["id"] for c in calls], ["text_3_1", "text_3_2"])
        self.assertEqual(calls[0]["type"], "function")
        self.assertEqual(json.loads(calls[1]["function"]["arguments"]), {"summary": "done"})

    def test_tool_call_tags_and_bare_json(self) -> None:
        tagged = '<tool_call>\n{"name": "editor", "arguments": {"command": "view", "path": "main.py"}}\n</tool_call>'
        self.assertEqual(parsed(tagged), [("editor", {"command": "view", "path": "main.py"})])
        bare = '{"name": "submit", "arguments": {"summary": "fixed the bug"}}'
        self.assertEqual(parsed(bare), [("submit", {"summary": "fixed the bug"})])
        inline = 'I will run {"name": "bash", "arguments": {"command": "pytest -q"}} now.'
        self.assertEqual(parsed(inline), [("bash", {"command": "pytest -q"})])

    def test_variants_of_the_keys(self) -> None:
        variants = [
            '{"name": "bash", "parameters": {"command": "ls"}}',
            '{"name": "bash", "arguments": "{\\"command\\": \\"ls\\"}"}',
            '{"type": "function", "function": {"name": "bash", "arguments": {"command": "ls"}}}',
            '{"function": "bash", "arguments": {"command": "ls"}}',
            '{"tool": "bash", "args": {"command": "ls"}}',
            '{"tool_name": "bash", "tool_input": {"command": "ls"}}',
            '{"action": "bash", "action_input": {"command": "ls"}}',
            '{"name": "bash", "command": "ls"}',
            '{"tool_calls": [{"function": {"name": "bash", "arguments": "{\\"command\\": \\"ls\\"}"}}]}',
        ]
        for text in variants:
            with self.subTest(text=text):
                self.assertEqual(parsed(f"```json\n{text}\n```"), [("bash", {"command": "ls"})])

    def test_a_list_of_calls_runs_in_order(self) -> None:
        text = '```json\n[{"name": "bash", "arguments": {"command": "ls"}}, {"name": "submit", "arguments": {}}]\n```'
        self.assertEqual(parsed(text), [("bash", {"command": "ls"}), ("submit", {})])

    def test_raw_newlines_inside_strings_are_accepted(self) -> None:
        text = (
            '```json\n{"name": "editor", "arguments": {"command": "create", "path": "a.py",'
            ' "file_text": "def f():\n    return 1\n"}}\n```'
        )
        self.assertEqual(
            parsed(text), [("editor", {"command": "create", "path": "a.py", "file_text": "def f():\n    return 1\n"})]
        )

    def test_python_triple_quoted_file_text_is_repaired(self) -> None:
        # As Qwen2.5-Coder-1.5B wrote it on the duration_parse task.
        text = (
            '```json\n{\n  "name": "editor",\n  "arguments": {\n    "command": "create",\n    "path": "durations.py",\n'
            '    "file_text": """\n    def parse_duration(text: str) -> int:\n        return 0\n    """\n  }\n}\n```'
        )
        file_text = "\n    def parse_duration(text: str) -> int:\n        return 0\n    "
        self.assertEqual(
            parsed(text), [("editor", {"command": "create", "path": "durations.py", "file_text": file_text})]
        )

    def test_an_unknown_tool_with_arguments_is_a_call_the_agent_can_refuse(self) -> None:
        # Recorded on the slugify task: the model invented a python tool.
        text = '```json\n{\n    "name": "python",\n    "arguments": {\n        "file": "slug.py"\n    }\n}\n```'
        self.assertEqual(parsed(text), [("python", {"file": "slug.py"})])

    def test_json_that_is_not_a_call_is_ignored(self) -> None:
        self.assertEqual(parsed('```json\n{"name": "alice", "age": 3}\n```'), [])
        self.assertEqual(parsed('```json\n{"tool": "python", "code": "1"}\n```'), [])
        self.assertEqual(parsed('```json\n{"name": "bash", "arguments": [1, 2]}\n```'), [])
        self.assertEqual(parsed('{"name": "bash", "arguments": {"command": "ls"'), [])
        self.assertEqual(parsed("No calls here, only {braces} and [brackets]."), [])


class ShellBlockTest(unittest.TestCase):
    def test_fenced_bash_blocks_become_bash_calls(self) -> None:
        text = "Let me look around.\n```bash\nls -la\ncat README.md\n```\nand then\n```sh\npytest -q\n```"
        expected = [("bash", {"command": "ls -la\ncat README.md"}), ("bash", {"command": "pytest -q"})]
        self.assertEqual(parsed(text), expected)

    def test_other_languages_and_empty_blocks_are_not_commands(self) -> None:
        self.assertEqual(parsed("```python\nprint('hi')\n```\n```bash\n\n```\n```\nls\n```"), [])

    def test_a_json_call_wins_over_shell_blocks(self) -> None:
        text = '```bash\nrm -rf build\n```\n```json\n{"name": "bash", "arguments": {"command": "ls"}}\n```'
        self.assertEqual(parsed(text), [("bash", {"command": "ls"})])
