"""The bash and editor tools."""

from __future__ import annotations

import os
import tempfile
import time
import unittest
from pathlib import Path

from agent_seed.tools import ToolError, bash, editor, run_bash, truncate


class EditorTest(unittest.TestCase):
    def setUp(self) -> None:
        self.dir = tempfile.TemporaryDirectory()
        self.root = self.dir.name
        self.addCleanup(self.dir.cleanup)

    def edit(self, **args: object) -> str:
        return editor(dict(args), self.root)

    def read(self, name: str) -> str:
        return Path(self.root, name).read_text()

    def test_create_makes_parents_and_view_numbers_lines(self) -> None:
        self.edit(command="create", path="pkg/a.py", file_text="one\ntwo\nthree\n")
        self.assertEqual(self.read("pkg/a.py"), "one\ntwo\nthree\n")
        self.assertEqual(self.edit(command="view", path="pkg/a.py"), "     1\tone\n     2\ttwo\n     3\tthree")
        self.assertEqual(self.edit(command="view", path="pkg/a.py", view_range=[2, -1]), "     2\ttwo\n     3\tthree")

    def test_view_directory_lists_two_levels_without_git(self) -> None:
        for name in ("pkg/a.py", "b.txt", ".git/HEAD", "pkg/sub/deep/x.py"):
            self.edit(command="create", path=name, file_text="x\n")
        listing = self.edit(command="view", path=".").splitlines()
        self.assertEqual(listing, ["b.txt", "pkg/", "pkg/a.py", "pkg/sub/"])

    def test_view_rejects_bad_range(self) -> None:
        self.edit(command="create", path="a.py", file_text="x\n")
        with self.assertRaises(ToolError):
            self.edit(command="view", path="a.py", view_range=[5, 9])
        with self.assertRaises(ToolError):
            self.edit(command="view", path="a.py", view_range="1-2")

    def test_str_replace_needs_exactly_one_match(self) -> None:
        self.edit(command="create", path="a.py", file_text="x = 1\ny = 1\n")
        with self.assertRaisesRegex(ToolError, "occurs 2 times"):
            self.edit(command="str_replace", path="a.py", old_str="= 1", new_str="= 2")
        with self.assertRaisesRegex(ToolError, "does not occur"):
            self.edit(command="str_replace", path="a.py", old_str="z", new_str="w")
        self.edit(command="str_replace", path="a.py", old_str="y = 1", new_str="y = 2")
        self.assertEqual(self.read("a.py"), "x = 1\ny = 2\n")

    def test_str_replace_with_missing_new_str_deletes(self) -> None:
        self.edit(command="create", path="a.py", file_text="keep\ndrop\n")
        self.edit(command="str_replace", path="a.py", old_str="drop\n")
        self.assertEqual(self.read("a.py"), "keep\n")

    def test_insert_at_top_middle_and_end(self) -> None:
        self.edit(command="create", path="a.py", file_text="a\nb")
        self.edit(command="insert", path="a.py", insert_line=0, insert_text="top")
        self.edit(command="insert", path="a.py", insert_line=1, insert_text="mid\n")
        self.edit(command="insert", path="a.py", insert_line=4, insert_text="end")
        self.assertEqual(self.read("a.py"), "top\nmid\na\nb\nend\n")
        with self.assertRaises(ToolError):
            self.edit(command="insert", path="a.py", insert_line=99, insert_text="x")

    def test_unknown_command_and_missing_file(self) -> None:
        with self.assertRaisesRegex(ToolError, "Unknown editor command"):
            self.edit(command="delete", path="a.py")
        with self.assertRaisesRegex(ToolError, "not a file"):
            self.edit(command="view", path="missing.py")


class BashTest(unittest.TestCase):
    def test_output_and_exit_code(self) -> None:
        with tempfile.TemporaryDirectory() as root:
            out = bash({"command": "echo hello && echo oops >&2 && exit 3"}, root)
        self.assertEqual(out, "hello\noops\n\n[exit code: 3]")

    def test_runs_in_workdir_with_fresh_shell(self) -> None:
        with tempfile.TemporaryDirectory() as root:
            self.assertEqual(bash({"command": "pwd"}, root).splitlines()[0], os.path.realpath(root))
            bash({"command": "cd /; export X=1"}, root)
            self.assertEqual(run_bash("pwd; echo ${X:-unset}", root)[0].split(), [os.path.realpath(root), "unset"])

    def test_timeout_kills_command_and_children(self) -> None:
        with tempfile.TemporaryDirectory() as root:
            text, code = run_bash("sleep 30 & echo $! > child.pid; wait", root, timeout=0.5)
            child = int(Path(root, "child.pid").read_text())
        self.assertIsNone(code)
        self.assertIn("killed after 0.5 seconds", text)
        for _ in range(50):
            if not _alive(child):
                break
            time.sleep(0.05)
        self.assertFalse(_alive(child))

    def test_background_process_does_not_block(self) -> None:
        with tempfile.TemporaryDirectory() as root:
            text, code = run_bash("(sleep 3 &) ; echo started", root, timeout=2)
        self.assertEqual((text, code), ("started\n", 0))

    def test_rejects_empty_command(self) -> None:
        with self.assertRaises(ToolError):
            bash({"command": "  "}, ".")

    def test_truncate_keeps_head_and_tail(self) -> None:
        text = "a" * 50 + "b" * 50
        cut = truncate(text, 20)
        self.assertTrue(cut.startswith("a" * 10) and cut.endswith("b" * 10))
        self.assertIn("80 characters cut", cut)
        self.assertEqual(truncate("short", 20), "short")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A killed child of a killed shell may linger as a zombie until init reaps it.
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False
