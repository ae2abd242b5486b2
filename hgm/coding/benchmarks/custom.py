"""Custom suites: a user's own tasks described in one YAML file (format in benchmarks/README.md).

Errors name the file, the line and the field, e.g. `suite.yaml:7: tasks[1].timeout: Input should be greater than 0`:
the file is composed into YAML nodes first, so every pydantic error location can be mapped back to its line.
"""

from __future__ import annotations

import posixpath
import secrets
import shlex
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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
from hgm.coding.evidence import clip, redact
from hgm.interfaces import Sandbox
from hgm.sandboxes.export import Export

OUTPUT_LIMIT = 20_000

Loc = tuple[str | int, ...]


class SuiteError(ValueError):
    """A suite file that cannot be used; the message lists each problem as `file:line: field: what`."""


class TaskSpec(BaseModel):
    """One task of a custom suite."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$", description="Unique task id (letters, digits, . _ -).")
    statement: str | None = Field(None, description="What the agent is asked to do.")
    statement_file: str | None = Field(None, description="A file holding the statement, relative to the YAML file.")
    starter: str | None = Field(None, description="Directory copied into the workspace, relative to the YAML file.")
    tests: str = Field(description="Directory of hidden tests, relative to the YAML file.")
    test_command: str | None = Field(
        None, description="Shell command run in the workspace; exit 0 means solved (default: hgm's unittest runner)."
    )
    timeout: float | None = Field(None, gt=0, description="Seconds the test command may run.")
    difficulty: str = Field("unknown", description="A free-form difficulty label.")
    tags: list[str] = Field([], description="Free-form labels.")


class SuiteSpec(BaseModel):
    """A custom suite file."""

    model_config = ConfigDict(extra="forbid")

    suite: str = Field(min_length=1, description="Name of the suite.")
    test_command: str | None = Field(
        None, description="Default test command for tasks that give none (default: hgm's unittest runner)."
    )
    timeout: float = Field(300, gt=0, description="Default seconds a task's test command may run.")
    attempts: int = Field(1, ge=1, le=10, description="Tries per task; later tries see the failing test output.")
    tasks: list[TaskSpec] = Field(min_length=1, description="The tasks.")


@dataclass(frozen=True)
class CustomTask:
    """A validated task with its paths resolved."""

    id: str
    statement: str
    starter: Path | None
    tests: Path
    test_command: str
    timeout: float
    difficulty: str
    tags: tuple[str, ...]


def format_loc(loc: Loc) -> str:
    """A pydantic location as a path: ("tasks", 1, "timeout") -> "tasks[1].timeout"."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text or "(top level)"


def line_of(root: yaml.Node | None, loc: Loc) -> int:
    """The 1-based line of the deepest node along `loc` (a missing field points at its parent)."""
    node = root
    if node is None:
        return 1
    for part in loc:
        if isinstance(node, yaml.MappingNode) and isinstance(part, str):
            match = [value for key, value in node.value if getattr(key, "value", None) == part]
            if not match:
                break
            node = match[-1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
            node = node.value[part]
        else:
            break
    return node.start_mark.line + 1


def _duplicate_keys(node: yaml.Node | None, loc: Loc = ()) -> list[tuple[Loc, int]]:
    """(location, line) of every key given twice in one mapping; PyYAML would silently keep the last."""
    found: list[tuple[Loc, int]] = []
    if isinstance(node, yaml.MappingNode):
        seen: set[Any] = set()
        for key, value in node.value:
            name = getattr(key, "value", None)
            if name in seen:
                found.append(((*loc, str(name)), key.start_mark.line + 1))
            seen.add(name)
            found += _duplicate_keys(value, (*loc, str(name)))
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            found += _duplicate_keys(item, (*loc, index))
    return found


def load_suite(path: Path) -> tuple[SuiteSpec, list[CustomTask]]:
    """Read and check a suite file; raise SuiteError listing every problem with its line."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise SuiteError(f"cannot read the suite file {path}: {e.strerror or e}") from e
    loader = yaml.SafeLoader(text)
    try:
        root = loader.get_single_node()
        data = loader.construct_document(root) if root is not None else None
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = mark.line + 1 if mark else 1
        raise SuiteError(f"{path}:{line}: not valid YAML: {e.problem or e.context}") from None
    except yaml.YAMLError as e:
        raise SuiteError(f"{path}: not valid YAML: {e}") from None
    finally:
        loader.dispose()
    if data is None:
        raise SuiteError(f"{path}:1: the file is empty; it needs `suite:` and `tasks:` (see benchmarks/README.md)")
    problems = [(loc, line, "duplicate key") for loc, line in _duplicate_keys(root)]
    try:
        spec = SuiteSpec.model_validate(data)
    except ValidationError as e:
        for err in e.errors():
            loc = tuple(p for p in err["loc"] if isinstance(p, str | int))
            problems.append((loc, line_of(root, loc), err["msg"]))
        raise SuiteError(_report(path, problems)) from None
    tasks = _check_tasks(path, spec, root, problems)
    if problems:
        raise SuiteError(_report(path, problems))
    return spec, tasks


def _check_tasks(
    path: Path, spec: SuiteSpec, root: yaml.Node | None, problems: list[tuple[Loc, int, str]]
) -> list[CustomTask]:
    """What the schema cannot say: files that must exist, unique ids, a statement and a test command each."""
    base = path.parent
    first: dict[str, int] = {}
    tasks = []

    def problem(loc: Loc, message: str) -> None:
        problems.append((loc, line_of(root, loc), message))

    for index, task in enumerate(spec.tasks):
        at: Loc = ("tasks", index)
        if task.id in first:
            problem((*at, "id"), f"duplicate task id {task.id!r} (first used by tasks[{first[task.id]}])")
        first.setdefault(task.id, index)
        statement = task.statement
        if (task.statement is None) == (task.statement_file is None):
            where = at if task.statement is None else (*at, "statement_file")
            problem(where, "give exactly one of statement and statement_file")
        elif task.statement_file is not None:
            file = base / task.statement_file
            if file.is_file():
                statement = file.read_text(encoding="utf-8")
            else:
                problem((*at, "statement_file"), f"file not found: {file}")
        starter = base / task.starter if task.starter is not None else None
        if starter is not None and not starter.is_dir():
            problem((*at, "starter"), f"directory not found: {starter}")
        tests = base / task.tests
        if not tests.is_dir():
            problem((*at, "tests"), f"directory not found: {tests}")
        command = task.test_command or spec.test_command
        if not command and tests.is_dir() and not any(tests.rglob("test*.py")):
            problem((*at, "tests"), "no test_command, and no test*.py files for hgm's unittest runner")
        tasks.append(
            CustomTask(
                task.id,
                statement or "",
                starter,
                tests,
                command or "",
                task.timeout or spec.timeout,
                task.difficulty,
                tuple(task.tags),
            )
        )
    return tasks


def _report(path: Path, problems: list[tuple[Loc, int, str]]) -> str:
    lines = sorted({(line, format_loc(loc), message) for loc, line, message in problems})
    return "\n".join(f"{path}:{line}: {where}: {message}" for line, where, message in lines)


class CustomBenchmark:
    """The tasks of a user's YAML suite; a task is solved iff its test command exits 0 with the hidden tests in."""

    name = "custom"

    def __init__(self, path: str, **options: Any) -> None:
        if options:
            raise ValueError(f"the custom benchmark takes no options (got {', '.join(sorted(options))})")
        self.path = Path(path).expanduser()
        if not self.path.is_file():
            raise ValueError(
                f"custom suite file {self.path} does not exist; pass a YAML file (see benchmarks/README.md)"
            )
        self.spec, tasks = load_suite(self.path)
        self.suite = self.spec.suite
        self.attempts = self.spec.attempts
        self._tasks = {task.id: task for task in tasks}

    def tasks(self) -> list[str]:
        """Task ids in file order."""
        return list(self._tasks)

    def info(self, task: str) -> TaskInfo:
        """The task's statement and labels."""
        spec = self._task(task)
        return TaskInfo(task, spec.statement, spec.difficulty, spec.timeout, spec.tags)

    def prepare(self, task: str, workspace: Path) -> None:
        """Copy the task's starter directory (if any) into the workspace."""
        spec = self._task(task)
        workspace.mkdir(parents=True, exist_ok=True)
        if spec.starter is not None:
            copy_pristine(spec.starter, workspace)

    def submission(self, task: str, sandbox: Sandbox) -> Export:
        """Every regular file the agent left in its workspace (within the export's limits)."""
        return sandbox.export(".", SUBMISSION_LIMITS)

    def grade(self, task: str, submission: Export, grader: Grader) -> Score:
        """Starter plus submission in a fresh sandbox; hgm's unittest runner, or the suite's command, decides."""
        spec = self._task(task)
        tests = _sources(spec.tests)
        with tempfile.TemporaryDirectory(prefix="hgm-grade-") as tmp:
            stage = Path(tmp, "workspace")
            stage.mkdir()
            if spec.starter is not None:
                copy_pristine(spec.starter, stage)
            try:
                write_files(stage, submitted(submission))
            except SubmissionError as e:
                return Score(False, str(e), reason=str(e))
            if not spec.test_command:
                with grader.open(stage) as sandbox:
                    score = unittests.run(sandbox, tests, spec.timeout)
            else:
                rel = f".hgm-tests-{secrets.token_hex(8)}"
                copy_pristine(spec.tests, stage / rel)
                with grader.open(stage) as sandbox:
                    score = self._run_command(spec, sandbox, posixpath.join(sandbox.workdir, rel), tests)
        score.output = export_note(submission) + score.output
        return score

    def _run_command(self, spec: CustomTask, sandbox: Sandbox, tests_dir: str, tests: dict[str, str]) -> Score:
        command = spec.test_command.replace("{tests}", shlex.quote(tests_dir))
        command = command.replace("{workdir}", shlex.quote(sandbox.workdir))
        result = sandbox.exec(command, timeout=spec.timeout)
        output = clip(redact(result.output, tests.values()), OUTPUT_LIMIT)
        if result.timed_out:
            return Score(False, output, reason=f"tests timed out after {spec.timeout:g}s")
        reason = f"test command exit code {result.returncode}"
        return Score(result.returncode == 0, output + f"\n[{reason}]", reason=reason)

    def _task(self, task: str) -> CustomTask:
        if task not in self._tasks:
            raise KeyError(f"unknown task {task!r} in suite {self.suite!r}; known: {', '.join(self._tasks)}")
        return self._tasks[task]


def _sources(root: Path) -> dict[str, str]:
    """The text files of a tests directory, {relative path: text}: what grading logs must not repeat."""
    found = {}
    for path in sorted(root.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            found[path.relative_to(root).as_posix()] = path.read_text(encoding="utf-8", errors="replace")
    return found
