"""The built-in benchmark: Python tasks under benchmarks/builtin, scored by hidden unittest suites."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from hgm.coding.benchmarks import unittests
from hgm.coding.benchmarks.base import Grader, Score, TaskInfo
from hgm.coding.benchmarks.staging import (
    SUBMISSION_LIMITS,
    SubmissionError,
    copy_pristine,
    export_note,
    submitted,
    write_files,
)
from hgm.interfaces import Sandbox
from hgm.sandboxes.export import Export

TASKS_ENV = "HGM_BUILTIN_TASKS"


class TaskMeta(BaseModel):
    """The contents of a task's meta.yaml."""

    model_config = ConfigDict(extra="forbid")

    difficulty: Literal["easy", "medium", "hard"] = Field(description="How hard the task is.")
    timeout: float = Field(gt=0, le=600, description="Seconds the hidden tests may run.")
    tags: list[str] = Field(default_factory=list, description="Kinds of work the task involves.")


def default_root() -> Path:
    """Where the tasks live: $HGM_BUILTIN_TASKS, else benchmarks/builtin in the source tree or the cwd."""
    if os.environ.get(TASKS_ENV):
        return Path(os.environ[TASKS_ENV])
    candidates = [Path(__file__).resolve().parents[3] / "benchmarks" / "builtin", Path.cwd() / "benchmarks" / "builtin"]
    return next((c for c in candidates if c.is_dir()), candidates[0])


class BuiltinBenchmark:
    """The tasks in a directory of `<id>/{task.md, meta.yaml, starter/, hidden_tests/, solution/}`.

    `python` is the interpreter that runs the hidden tests inside the grading sandbox.
    """

    name = "builtin"

    def __init__(self, root: Path | None = None, python: str = "python3") -> None:
        self.root = Path(root) if root is not None else default_root()
        self.python = python
        if not self.root.is_dir():
            raise FileNotFoundError(
                f"Built-in tasks not found at {self.root}; pass the folder holding them or set ${TASKS_ENV}."
            )

    def tasks(self) -> list[str]:
        """Ids of all tasks, sorted."""
        return sorted(p.name for p in self.root.iterdir() if (p / "meta.yaml").is_file())

    def info(self, task: str) -> TaskInfo:
        """The task's statement and metadata."""
        meta = self.meta(task)
        statement = (self._dir(task) / "task.md").read_text(encoding="utf-8")
        return TaskInfo(task, statement, meta.difficulty, meta.timeout, tuple(meta.tags))

    def meta(self, task: str) -> TaskMeta:
        """The validated meta.yaml of a task."""
        path = self._dir(task) / "meta.yaml"
        try:
            return TaskMeta.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
        except (ValidationError, yaml.YAMLError) as e:
            raise ValueError(f"{path} is invalid: {e}") from e

    def prepare(self, task: str, workspace: Path) -> None:
        """Copy the task's starter files into `workspace` (created if missing)."""
        workspace.mkdir(parents=True, exist_ok=True)
        copy_pristine(self._dir(task) / "starter", workspace)

    def solution(self, task: str) -> dict[str, str]:
        """The reference solution as {relative path: text}; for tests and scripted demos, never for an agent."""
        root = self._dir(task) / "solution"
        return {str(p.relative_to(root)): p.read_text(encoding="utf-8") for p in _files(root)}

    def submission(self, task: str, sandbox: Sandbox) -> Export:
        """Every regular file the agent left in its workspace (within the export's limits)."""
        return sandbox.export(".", SUBMISSION_LIMITS)

    def grade(self, task: str, submission: Export, grader: Grader) -> Score:
        """The starter files overlaid with the submission, in a fresh sandbox; resolved iff every hidden test passes."""
        tests = self.hidden_tests(task)
        with tempfile.TemporaryDirectory(prefix="hgm-grade-") as tmp:
            stage = Path(tmp, "workspace")
            stage.mkdir()
            copy_pristine(self._dir(task) / "starter", stage)
            try:
                write_files(stage, submitted(submission))
            except SubmissionError as e:
                return Score(False, str(e), reason=str(e))
            with grader.open(stage) as sandbox:
                score = unittests.run(sandbox, tests, self.meta(task).timeout, self.python)
        score.output = export_note(submission) + score.output
        return score

    def hidden_tests(self, task: str) -> dict[str, str]:
        """The hidden test files as {relative path: source}; read on the host, never shown to an agent."""
        root = self._dir(task) / "hidden_tests"
        return {p.relative_to(root).as_posix(): p.read_text(encoding="utf-8") for p in _files(root)}

    def _dir(self, task: str) -> Path:
        path = self.root / task
        if "/" in task or task.startswith(".") or not (path / "meta.yaml").is_file():
            raise KeyError(f"unknown built-in task {task!r}; see `tasks()` for the {len(self.tasks())} known ones")
        return path


def _files(root: Path) -> list[Path]:
    """The files under root, sorted, without Python bytecode caches."""
    return [p for p in sorted(root.rglob("*")) if p.is_file() and "__pycache__" not in p.relative_to(root).parts]
