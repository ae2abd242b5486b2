"""Polyglot: Exercism practice exercises in several languages, scored by their unit tests (two tries, as published).

A checkout holds `<language>/exercises/practice/<exercise>/` directories with `.docs/` (instructions) and
`.meta/config.json` (which files are the solution, the tests and the example). The agent sees the exercise without
`.meta/` and without its tests. Scoring builds a fresh directory from the pristine exercise plus only the agent's
solution files, and runs the language's test command there, so nothing else the agent left can change the verdict.
"""

from __future__ import annotations

import json
import re
import shlex
import tempfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from hgm.coding.benchmarks import unittests
from hgm.coding.benchmarks.base import Grader, Score, TaskInfo
from hgm.coding.benchmarks.registry import load_subset, parse_options
from hgm.coding.benchmarks.staging import SUBMISSION_LIMITS, copy_pristine, export_note, submitted, write_files
from hgm.coding.evidence import clip, describe_score, redact
from hgm.interfaces import Sandbox
from hgm.sandboxes.export import Export

OUTPUT_LIMIT = 20_000
# Build files the agent may not change even where an exercise lists them as part of the solution.
FIXED_FILES = {"CMakeLists.txt", "Cargo.toml"}
DOCS = (".docs/introduction.md", ".docs/instructions.md", ".docs/instructions.append.md")

STATEMENT_NOTE = """\

---
Your working directory holds this exercise's starting files. Solve it by editing {files}. Keep the names of the
existing files, functions and classes: hidden unit tests use them. Use only the language's standard library.
"""

FEEDBACK = """\
---
Your previous solution failed the hidden unit tests. Their output:

{output}

The tests are correct; do not try to change them. Fix the code in {files} so that the tests pass.
"""


@dataclass(frozen=True)
class Language:
    """How one language's exercises are tested."""

    title: str
    tool: str
    command: str


LANGUAGES = {
    "python": Language("Python", "python3", ""),  # hgm's unittest runner, see grade
    "go": Language("Go", "go", "go test ./..."),
    "rust": Language("Rust", "cargo", "cargo test --offline -- --include-ignored"),
    "javascript": Language("JavaScript", "npm", "npm test"),
    "java": Language("Java", "java", "./gradlew test --offline"),
    "cpp": Language(
        "C++", "cmake", 'cmake -S . -B build -G "Unix Makefiles" -DEXERCISM_RUN_ALL_TESTS=1 && make -C build'
    ),
}


class PolyglotOptions(BaseModel):
    """Settings of the Polyglot adapter."""

    model_config = ConfigDict(extra="forbid")

    languages: list[str] | None = Field(None, description="Only exercises in these languages (default: all found).")
    subset: str | None = Field(None, description="A subset file, or a name in benchmarks/subsets/, listing task ids.")
    toolchains: list[str] = Field(["python"], description="Languages whose toolchain the sandbox image has.")
    commands: dict[str, str] = Field({}, description="Test commands replacing the defaults, by language.")
    timeout: float = Field(180, gt=0, description="Seconds one exercise's tests may run.")
    attempts: int = Field(2, ge=1, le=10, description="Tries per exercise; later tries see the failing test output.")
    python: str = Field("python3", description="The interpreter that runs Python tests in the sandbox.")


class ExerciseFiles(BaseModel):
    """The `files` entry of an exercise's .meta/config.json (other keys of that file are ignored)."""

    model_config = ConfigDict(extra="allow")

    solution: list[str] = Field(description="Files the solver edits.")
    test: list[str] = Field(description="The unit test files.")
    example: list[str] = Field([], description="A reference solution, under .meta/.")


class ExerciseConfig(BaseModel):
    """An exercise's .meta/config.json."""

    model_config = ConfigDict(extra="allow")

    files: ExerciseFiles = Field(description="Which files play which part.")


@dataclass(frozen=True)
class Exercise:
    """One exercise on disk and the roles of its files."""

    id: str
    language: str
    path: Path
    editable: tuple[str, ...]
    tests: tuple[str, ...]
    examples: tuple[str, ...]


def discover(root: Path) -> dict[str, Path]:
    """Task id `<language>/<exercise>` -> exercise directory, for every exercise under `root`."""
    found: dict[str, Path] = {}
    for config in sorted(root.glob("*/exercises/practice/*/.meta/config.json")):
        exercise = config.parent.parent
        found[f"{exercise.parents[2].name}/{exercise.name}"] = exercise
    return found


def load_exercise(task: str, path: Path) -> Exercise:
    """An exercise with its validated config."""
    config_file = path / ".meta" / "config.json"
    try:
        config = ExerciseConfig.model_validate(json.loads(config_file.read_text(encoding="utf-8")))
    except (ValueError, ValidationError) as e:
        raise ValueError(f"{config_file} is not a valid exercise config: {e}") from e
    files = config.files
    for rel in [*files.solution, *files.test, *files.example]:
        parts = PurePosixPath(rel).parts
        if not parts or PurePosixPath(rel).is_absolute() or ".." in parts:
            raise ValueError(f"{config_file} names the file {rel!r}, which is not inside the exercise")
    fixed = set(files.test) | set(files.example)
    editable = tuple(f for f in files.solution if f not in fixed and PurePosixPath(f).name not in FIXED_FILES)
    return Exercise(task, task.split("/")[0], path, editable, tuple(files.test), tuple(files.example))


class PolyglotBenchmark:
    """Exercises of a Polyglot-layout checkout; tasks are `<language>/<exercise>`."""

    name = "polyglot"

    def __init__(self, path: str, **options: Any) -> None:
        self.options: PolyglotOptions = parse_options(PolyglotOptions, self.name, options)
        self.root = Path(path).expanduser()
        if not self.root.is_dir():
            raise ValueError(f"Polyglot checkout {self.root} is not a directory; pass the benchmark's root folder")
        found = discover(self.root)
        if not found:
            raise ValueError(
                f"no exercises under {self.root}: expected <language>/exercises/practice/<exercise>/.meta/config.json"
            )
        if self.options.languages is not None:
            found = {t: p for t, p in found.items() if t.split("/")[0] in self.options.languages}
        self._paths = found
        self._ids = sorted(found)
        if self.options.subset:
            self._ids = load_subset(self.options.subset, self._ids)
        self.attempts = self.options.attempts

    # -- the Benchmark protocol --------------------------------------------------------------------------------

    def tasks(self) -> list[str]:
        """Task ids `<language>/<exercise>`, sorted (or in subset order)."""
        return list(self._ids)

    def info(self, task: str) -> TaskInfo:
        """The exercise's instructions plus which files to edit."""
        exercise = self.exercise(task)
        docs = [
            (exercise.path / rel).read_text(encoding="utf-8").strip() for rel in DOCS if (exercise.path / rel).is_file()
        ]
        text = "\n\n".join(doc for doc in docs if doc)
        statement = text + "\n" + STATEMENT_NOTE.format(files=_names(exercise.editable))
        return TaskInfo(task, statement, "unknown", self.options.timeout, (exercise.language,))

    def prepare(self, task: str, workspace: Path) -> None:
        """Copy the exercise without .meta/, its tests and its example solution."""
        exercise = self.exercise(task)
        hidden = set(exercise.tests) | set(exercise.examples)
        workspace.mkdir(parents=True, exist_ok=True)
        copy_pristine(exercise.path, workspace, skip=lambda rel: rel.startswith(".meta/") or rel in hidden)

    def submission(self, task: str, sandbox: Sandbox) -> Export:
        """The exercise's solution files as the agent left them (nothing else counts)."""
        return sandbox.export(".", SUBMISSION_LIMITS)

    def grade(self, task: str, submission: Export, grader: Grader) -> Score:
        """The pristine exercise plus the agent's solution files, tested in a fresh sandbox."""
        exercise = self.exercise(task)
        problem = self.available(task)
        if problem:
            return Score(False, "", error=problem)
        files = submitted(submission, only=exercise.editable)
        missing = [rel for rel in exercise.editable if rel not in files]
        tests = {rel: _unskip(exercise.language, (exercise.path / rel).read_text("utf-8")) for rel in exercise.tests}
        in_memory = exercise.language == "python" and self._command_override(exercise) is None
        with tempfile.TemporaryDirectory(prefix="hgm-polyglot-") as tmp:
            stage = Path(tmp) / "stage"
            stage.mkdir()
            write_files(stage, files)
            self._stage(exercise, stage, tests={} if in_memory else tests)
            with grader.open(stage) as sandbox:
                if in_memory:
                    score = unittests.run(sandbox, tests, self.options.timeout, self.options.python)
                else:
                    score = self._run_command(exercise, sandbox, tests)
        if missing:
            note = f"missing solution files: {', '.join(missing)}"
            score.output = f"{note}\n{score.output}"
            score.reason = f"{note}; {score.reason}" if score.reason else note
        score.output = export_note(submission) + score.output
        return score

    def _run_command(self, exercise: Exercise, sandbox: Sandbox, tests: dict[str, str]) -> Score:
        result = sandbox.exec(self._command(exercise), self.options.timeout)
        output = clip(redact(result.output, tests.values()), OUTPUT_LIMIT)
        if result.timed_out:
            return Score(False, output, reason=f"tests timed out after {self.options.timeout:g}s")
        if result.returncode == 127:
            tool = LANGUAGES.get(exercise.language)
            hint = f" (is {tool.tool} installed?)" if tool else ""
            return Score(False, output, error=f"the {exercise.language} test command was not found{hint}")
        return Score(result.returncode == 0, output, reason=f"test command exit code {result.returncode}")

    # -- optional members ----------------------------------------------------------------------------------------

    def feedback(self, task: str, score: Score) -> str:
        """The failing tests (names and messages first) and what to fix, as in the published two-try setup."""
        exercise = self.exercise(task)
        return FEEDBACK.format(output=describe_score(score), files=_names(exercise.editable))

    def available(self, task: str) -> str | None:
        """None if the sandbox can test this exercise's language, else why not."""
        language = self.exercise(task).language
        known = LANGUAGES.get(language)
        if known is None and language not in self.options.commands:
            return f"no test command is known for {language}; pass commands={{'{language}': '<command>'}}"
        if language not in self.options.toolchains:
            title = known.title if known else language
            have = ", ".join(self.options.toolchains) or "none"
            return (
                f"no {title} toolchain in the sandbox image (toolchains: {have}); "
                f"build an image with it and add {language!r} to the toolchains option"
            )
        return None

    # -- public helpers ------------------------------------------------------------------------------------------

    def exercise(self, task: str) -> Exercise:
        """The exercise behind a task id."""
        if task not in self._paths:
            raise KeyError(f"unknown Polyglot task {task!r}; `tasks()` lists the {len(self._ids)} in use")
        return load_exercise(task, self._paths[task])

    def solution(self, task: str) -> dict[str, str]:
        """The example solution as {file to edit: text}; for tests and scripted demos, never for an agent."""
        exercise = self.exercise(task)
        if len(exercise.examples) != len(exercise.editable):
            raise ValueError(f"{task}: cannot pair example files {exercise.examples} with {exercise.editable}")
        return {
            target: (exercise.path / example).read_text(encoding="utf-8")
            for target, example in zip(exercise.editable, exercise.examples, strict=True)
        }

    # -- internals -----------------------------------------------------------------------------------------------

    def _stage(self, exercise: Exercise, stage: Path, tests: dict[str, str]) -> None:
        """The pristine exercise without docs, metadata and the files the agent edits, plus the given tests."""
        copy_pristine(
            exercise.path,
            stage,
            skip=lambda rel: (
                rel.startswith((".meta/", ".docs/"))
                or rel in exercise.editable
                or rel in exercise.examples
                or rel in exercise.tests
            ),
        )
        for rel, text in tests.items():
            (stage / rel).parent.mkdir(parents=True, exist_ok=True)
            (stage / rel).write_text(text, encoding="utf-8")

    def _command_override(self, exercise: Exercise) -> str | None:
        return self.options.commands.get(exercise.language)

    def _command(self, exercise: Exercise) -> str:
        override = self._command_override(exercise)
        return override if override is not None else LANGUAGES[exercise.language].command


def detect_toolchains(sandbox: Sandbox, python: str = "python3") -> list[str]:
    """The languages whose test tool a sandbox has on its PATH (for the `toolchains` option)."""
    tools = {language: (python if language == "python" else spec.tool) for language, spec in LANGUAGES.items()}
    probe = "; ".join(f"command -v {shlex.quote(tool)} >/dev/null 2>&1 && echo {lang}" for lang, tool in tools.items())
    found = sandbox.exec(probe + "; true", timeout=60).output.split()
    return [language for language in LANGUAGES if language in found]


def _unskip(language: str, text: str) -> str:
    """Enable the tests that Exercism marks as skipped for learners, as the published benchmark runs them all."""
    if language == "javascript":
        return re.sub(r"\bxtest\(", "test(", re.sub(r"\bxit\(", "it(", text))
    if language == "java":
        return re.sub(r"@Disabled\([^)]*\)\s*\n", "", text)
    return text


def _names(files: tuple[str, ...]) -> str:
    return ", ".join(f"`{f}`" for f in files) or "the solution files"
