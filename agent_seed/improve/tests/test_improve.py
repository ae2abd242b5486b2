"""The seed improver, driven by a scripted fake model on a copy of a tiny agent tree."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

from agent_seed.improve import settings
from agent_seed.improve.evidence import load
from agent_seed.improve.procedure import ImproveError, diagnosis_prompt, improve
from agent_seed.model import ScriptedModel, assistant, tool_call

DIAGNOSIS = {"failure": "gave up", "root_cause": "too few steps", "proposal": "Set LIMIT to 2.", "files": []}


def write_evidence(root: Path, tasks: list[tuple[str, bool]]) -> None:
    sample = []
    for i, (task, solved) in enumerate(tasks):
        folder = root / "tasks" / f"{i:03d}"
        folder.mkdir(parents=True)
        (folder / "statement.md").write_text(f"statement of {task}")
        (folder / "trajectory.txt").write_text(f"attempt at {task}")
        (folder / "tests.txt").write_text(f"resolved: {'yes' if solved else 'no'}")
        sample.append({"task": task, "solved": solved, "dir": f"tasks/{i:03d}"})
    (root / "evidence.json").write_text(json.dumps({"sample": sample, "prompt_chars": 20_000}))


class ImproveTest(unittest.TestCase):
    def setUp(self) -> None:
        tmp = tempfile.TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        self.root = Path(tmp.name)
        self.evidence = self.root / "evidence"
        self.out = self.root / "out"
        (self.out / "agent_seed").mkdir(parents=True)
        (self.out / "agent_seed" / "settings.py").write_text("LIMIT = 1\n")

    def test_failures_come_first_and_the_edit_is_made(self) -> None:
        write_evidence(self.evidence, [("easy", True), ("hard", False)])
        replies = [
            {"role": "assistant", "content": json.dumps(DIAGNOSIS)},
            assistant(
                tool_call("editor", command="str_replace", path="agent_seed/settings.py", old_str="= 1", new_str="= 2")
            ),
            assistant(tool_call("submit", summary="done")),
        ]
        model = ScriptedModel(replies)
        report = improve(model, load(self.evidence), self.out, self.root / "record")
        self.assertEqual((self.out / "agent_seed" / "settings.py").read_text(), "LIMIT = 2\n")
        expected = [{"task": "hard", "solved": False}, {"task": "easy", "solved": True}]
        self.assertEqual(report["chosen"], expected[: settings.EVIDENCE_TASKS])
        prompt = model.seen[0][0]["content"]
        self.assertIn("attempt at hard", prompt)
        self.assertIn("LIMIT = 1", prompt)
        self.assertIn("Set LIMIT to 2.", model.seen[1][1]["content"])
        saved = json.loads((self.root / "record" / "improve.json").read_text())
        self.assertEqual(saved["edit"]["exit_status"], "Submitted")
        self.assertTrue((self.root / "record" / "trajectory.json").is_file())

    def test_a_diagnosis_without_proposal_is_an_error_and_is_recorded(self) -> None:
        write_evidence(self.evidence, [("hard", False)])
        model = ScriptedModel([{"role": "assistant", "content": '{"failure": "x"}'}])
        with self.assertRaises(ImproveError):
            improve(model, load(self.evidence), self.out, self.root / "record")
        self.assertNotIn("edit", json.loads((self.root / "record" / "improve.json").read_text()))

    def test_no_evidence_still_gives_a_prompt(self) -> None:
        self.evidence.mkdir()
        self.assertEqual(load(self.evidence).records, [])
        self.assertIn("has not been evaluated yet", diagnosis_prompt(self.out, [], 10_000))

    def test_prompt_fits_its_size(self) -> None:
        (self.out / "agent_seed" / "big.py").write_text("x = 1\n" * 20_000)
        write_evidence(self.evidence, [("hard", False)])
        prompt = diagnosis_prompt(self.out, load(self.evidence).records, 20_000)
        self.assertLess(len(prompt), 21_000)
        self.assertIn("big.py", prompt)

    def test_command_line_needs_its_folders(self) -> None:
        done = subprocess.run(
            [sys.executable, "-m", "agent_seed.improve", "--evidence", str(self.root / "none"), "--out", str(self.out)],
            capture_output=True,
            text=True,
            cwd=Path(__file__).resolve().parents[3],
        )
        self.assertEqual(done.returncode, 2)
        self.assertIn("does not exist", done.stderr)


if __name__ == "__main__":
    unittest.main()
