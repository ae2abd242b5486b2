"""Polyglot: Exercism practice exercises in several languages, scored by their unit tests (two tries, as published).

A checkout holds `<language>/exercises/practice/<exercise>/` directories with `.docs/` (instructions) and
`.meta/config.json` (which files are the solution, the tests and the example). The agent sees the exercise without
`.meta/` and without its tests. Scoring builds a fresh directory from the pristine exercise plus only the agent's
solution files, and runs the language's test command there, so nothing else the agent left can change the verdict.
"""

from __future__ import annotations

import json
import re
import secrets
import shlex
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path, PurePosixPath
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from hgm.coding.benchmarks import unittests
from hgm.coding.benchmarks.base import Grader, Score, TaskInfo, TestCase
from hgm.coding.benchmarks.registry import load_subset, parse_options
from hgm.coding.benchmarks.staging import SUBMISSION_LIMITS, copy_pristine, export_note, submitted, write_files
from hgm.coding.evidence import clip, describe_score, redact
from hgm.interfaces import Sandbox
from hgm.sandboxes import SandboxConfig, SandboxError, open_sandbox
from hgm.sandboxes.export import Export

OUTPUT_LIMIT = 20_000
MAX_TESTS = 500
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
Your previous solution failed the hidden unit tests. What they reported:

{output}

The tests are correct; do not try to change them. Fix the code in {files} so that the tests pass.
"""
FEEDBACK_LIMIT = 8_000
# Where grading puts hgm's own test runners (JavaScript, Java) next to the exercise.
RUNNER_DIR = ".hgm-test"


@dataclass(frozen=True)
class Language:
    """How one language's exercises are tested: `probe` succeeds in a sandbox that has the toolchain; `command`
    runs the tests ({tests}: the exercise's test files); `parse` finds failed tests in its output."""

    title: str
    probe: str
    command: str
    parse: Callable[[str], list[TestCase]]
    runners: tuple[str, ...] = ()
    summary: str = ""
    """A line the test runner prints only after it ran the tests and all passed (`n`: how many, at least 1;
    `{tag}`: a value only hgm's runner knew); without it, an exit status of 0 is not a pass, so code under test
    that exits early cannot pass."""


def _blocks(lines: list[str], start: int, stop: Callable[[str], bool]) -> str:
    body = []
    for line in lines[start:]:
        if stop(line):
            break
        body.append(line.strip())
    return "\n".join(b for b in body if b)


def parse_go(output: str) -> list[TestCase]:
    """`--- FAIL: TestName (0.00s)` lines of `go test`, each with the indented lines after it as its message."""
    lines = output.splitlines()
    found = []
    for i, line in enumerate(lines):
        match = re.match(r"^(\s*)--- FAIL: (\S+)", line)
        if match:
            indent = " " * (len(match.group(1)) + 1)

            def outside(x: str, indent: str = indent) -> bool:
                return not x.startswith(indent) or x.strip().startswith("--- ")

            message = _blocks(lines, i + 1, outside)
            found.append(TestCase(match.group(2), "failed", message))
    return found


def parse_rust(output: str) -> list[TestCase]:
    """`test NAME ... FAILED` lines of cargo test, with the panic from its `---- NAME stdout ----` section."""
    lines = output.splitlines()
    messages = {}
    for i, line in enumerate(lines):
        match = re.match(r"^---- (\S+) stdout ----$", line)
        if match:
            messages[match.group(1)] = _blocks(lines, i + 1, lambda x: x.startswith("---- ") or x == "failures:")
    names = re.findall(r"^test (\S+) \.\.\. FAILED$", output, flags=re.MULTILINE)
    return [TestCase(name, "failed", messages.get(name, "")) for name in dict.fromkeys(names)]


def parse_tap(output: str) -> list[TestCase]:
    """`not ok - NAME` lines of hgm's JavaScript runner, with the indented message below each."""
    lines = output.splitlines()
    found = []
    for i, line in enumerate(lines):
        if line.startswith("not ok - "):
            found.append(TestCase(line[9:], "failed", _blocks(lines, i + 1, lambda x: not x.startswith("    "))))
    return found


def parse_catch(output: str) -> list[TestCase]:
    """Catch2's failure sections (a test case's name between dashed rules, then `file:line: FAILED:` and the check)."""
    lines = output.splitlines()
    rule = re.compile(r"^-{20,}$")
    found = []
    for i in range(len(lines) - 2):
        if rule.match(lines[i]) and not rule.match(lines[i + 1]):
            end = next((j for j in range(i + 1, min(i + 6, len(lines))) if rule.match(lines[j])), None)
            if end is None:
                continue
            name = " ".join(x.strip() for x in lines[i + 1 : end])
            body = _blocks(lines, end + 1, lambda x: bool(rule.match(x)) or x.startswith("====="))
            if "FAILED" in body:
                message = body[body.index("FAILED") :].split("\n", 1)[-1]
                found.append(TestCase(name, "failed", message))
    return found


def parse_junit(output: str) -> list[TestCase]:
    """The `Failures (N):` section of JUnit's console launcher: `JUnit Jupiter:Class:method()`, then the `=>` line
    and what follows it up to the stack trace."""
    lines = output.splitlines()
    found = []
    for i, line in enumerate(lines):
        match = re.match(r"^\s+JUnit (?:Jupiter|Vintage):(\S.*)$", line)
        if not match:
            continue
        start = next((j for j in range(i + 1, min(i + 6, len(lines))) if lines[j].strip().startswith("=> ")), None)
        message = ""
        if start is not None:
            body = [lines[start].strip()[3:]]
            for x in lines[start + 1 : start + 12]:
                if re.match(r"^\s+(at |\.\.\.|JUnit |[\w$./]+\([^()]*\)$)", x) or not x.strip():
                    break
                body.append(x.strip())
            message = "\n".join(body)
        found.append(TestCase(match.group(1).replace(":", "."), "failed", message))
    return found


def _none(output: str) -> list[TestCase]:
    return []


LANGUAGES = {
    "python": Language("Python", "command -v python3", "", _none),  # hgm's unittest runner, see grade
    "go": Language("Go", "command -v go", "GOPROXY=off GOFLAGS=-mod=mod go test -v ./...", parse_go, summary=r"^PASS$"),
    "rust": Language(
        "Rust",
        "command -v cargo && command -v rustc",
        "cargo test --offline -- --include-ignored",
        parse_rust,
        summary=r"^test result: ok\. (?P<n>\d+) passed",
    ),
    "javascript": Language(
        "JavaScript",
        "command -v node",
        f"node --no-warnings --experimental-loader ./{RUNNER_DIR}/resolve.mjs ./{RUNNER_DIR}/jest.mjs {{tests}}",
        parse_tap,
        ("jest.mjs", "resolve.mjs"),
        summary=r"^{tag} (?P<n>\d+) passed, 0 failed$",
    ),
    "java": Language(
        "Java",
        "command -v javac && test -f /usr/share/java/junit-platform-console-standalone.jar",
        f"sh ./{RUNNER_DIR}/java.sh",
        parse_junit,
        ("java.sh",),
        summary=r"^\[\s*(?P<n>\d+) tests successful\s*\]",
    ),
    "cpp": Language(
        "C++",
        "command -v cmake && command -v g++ && command -v make",
        # The exercises' CMakeLists.txt names the program after its directory, so the build runs in one named so.
        "d=/tmp/hgm-cpp/{exercise} && mkdir -p $d && cp -R . $d && cd $d && "
        'cmake -S . -B build -G "Unix Makefiles" -DEXERCISM_RUN_ALL_TESTS=1 && make -C build',
        parse_catch,
        summary=(
            r"^All tests passed \(\d+ assertions? in (?P<n>\d+) test cases?\)"
            r"|^test cases: (?P<n2>\d+) \| (?P=n2) passed"
        ),
    ),
}


class PolyglotOptions(BaseModel):
    """Settings of the Polyglot adapter."""

    model_config = ConfigDict(extra="forbid")

    languages: list[str] | None = Field(None, description="Only exercises in these languages (default: all found).")
    subset: str | None = Field(None, description="A subset file, or a name in benchmarks/subsets/, listing task ids.")
    toolchains: list[str] | None = Field(
        None, description="Languages the sandbox must have a toolchain for (default: those found in the sandbox)."
    )
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
        self._sandbox: SandboxConfig | None = None

    def use_sandbox(self, config: SandboxConfig) -> None:
        """Grade in sandboxes of `config`: find its toolchains, and refuse forced ones it lacks."""
        self._sandbox = config
        forced = self.options.toolchains
        if forced is None:
            return
        found = sandbox_toolchains(config, self.options.python)
        missing = [t for t in forced if t in LANGUAGES and t not in self.options.commands and t not in found]
        if missing:
            where = f"docker image {config.image}" if config.backend == "docker" else f"{config.backend} sandbox"
            raise ValueError(
                f"the toolchains option names {', '.join(missing)}, but the {where} has no "
                f"{', '.join(LANGUAGES[t].title for t in missing)} toolchain (found: {', '.join(found) or 'none'}); "
                f"build one with `hgm sandbox build --toolchains {','.join(dict.fromkeys([*found, *forced]))}`"
            )

    def toolchains(self) -> list[str]:
        """The languages this benchmark can test: the toolchains option, else what the sandbox has."""
        if self.options.toolchains is not None:
            return list(self.options.toolchains)
        if self._sandbox is None:
            return ["python"]
        return sandbox_toolchains(self._sandbox, self.options.python)

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
        tag = f"HGM-{secrets.token_hex(16)}"
        with tempfile.TemporaryDirectory(prefix="hgm-polyglot-") as tmp:
            stage = Path(tmp) / "stage"
            stage.mkdir()
            write_files(stage, files)
            self._stage(exercise, stage, tests={} if in_memory else tests, tag=tag)
            with grader.open(stage) as sandbox:
                if in_memory:
                    score = unittests.run(sandbox, tests, self.options.timeout, self.options.python)
                else:
                    score = self._run_command(exercise, sandbox, tests, tag)
        if missing:
            note = f"missing solution files: {', '.join(missing)}"
            score.output = f"{note}\n{score.output}"
            score.reason = f"{note}; {score.reason}" if score.reason else note
        score.output = export_note(submission) + score.output
        return score

    def _run_command(self, exercise: Exercise, sandbox: Sandbox, tests: dict[str, str], tag: str) -> Score:
        result = sandbox.exec(self._command(exercise), self.options.timeout)
        raw = redact(result.output, tests.values()).replace(tag, "[hgm]")
        output = clip(raw, OUTPUT_LIMIT)
        known = LANGUAGES.get(exercise.language)
        ours = known is not None and self._command_override(exercise) is None
        failed = known.parse(raw)[:MAX_TESTS] if known and ours else []
        failed = [TestCase(t.name[:300], t.outcome, t.message[:2000]) for t in failed]
        if result.timed_out:
            return Score(False, output, reason=f"tests timed out after {self.options.timeout:g}s", tests=failed)
        if result.returncode == 127:
            return Score(False, output, error=f"the {exercise.language} test command was not found")
        # The exit status decides; tests the output names as failed make a zero status a failure all the same, and
        # so does the lack of the runner's closing line of a full pass (code under test that exits early).
        summary = known.summary.replace("{tag}", re.escape(tag)) if known and ours else ""
        finished = not summary or _summary_count(summary, result.output) > 0
        resolved = result.returncode == 0 and not failed and finished
        reason = f"{len(failed)} tests failed; " if failed else ""
        if result.returncode == 0 and not failed and not finished:
            reason = "the test runner did not report that all tests ran and passed (did the code exit early?); "
        return Score(resolved, output, reason=f"{reason}test command exit code {result.returncode}", tests=failed)

    # -- optional members ----------------------------------------------------------------------------------------

    def feedback(self, task: str, score: Score) -> str:
        """The failing tests (names and messages first) and what to fix, as in the published two-try setup."""
        exercise = self.exercise(task)
        return FEEDBACK.format(output=failure_report(score, FEEDBACK_LIMIT), files=_names(exercise.editable))

    def available(self, task: str) -> str | None:
        """None if the sandbox can test this exercise's language, else why not."""
        language = self.exercise(task).language
        known = LANGUAGES.get(language)
        if known is None and language not in self.options.commands:
            return f"no test command is known for {language}; pass commands={{'{language}': '<command>'}}"
        have = self.toolchains()
        if language not in have:
            title = known.title if known else language
            if known is None:
                return f"no {title} toolchain in the sandbox (toolchains: {', '.join(have) or 'none'})"
            return (
                f"no {title} toolchain in the sandbox (toolchains: {', '.join(have) or 'none'}); build one with "
                f"`hgm sandbox build --toolchains {','.join(dict.fromkeys([*have, language]))}`"
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

    def _stage(self, exercise: Exercise, stage: Path, tests: dict[str, str], tag: str = "") -> None:
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
        known = LANGUAGES.get(exercise.language)
        if known and known.runners and self._command_override(exercise) is None:
            (stage / RUNNER_DIR).mkdir()
            for name in known.runners:
                (stage / RUNNER_DIR / name).write_bytes(
                    resources.files(__package__).joinpath("runners", name).read_bytes()
                )
            # The runner reads and deletes this before it imports anything of the exercise.
            (stage / RUNNER_DIR / "tag").write_text(tag, encoding="utf-8")

    def _command_override(self, exercise: Exercise) -> str | None:
        return self.options.commands.get(exercise.language)

    def _command(self, exercise: Exercise) -> str:
        override = self._command_override(exercise)
        if override is not None:
            return override
        command = LANGUAGES[exercise.language].command.replace("{exercise}", shlex.quote(exercise.path.name))
        return command.replace("{tests}", " ".join(map(shlex.quote, exercise.tests)))


def _summary_count(pattern: str, output: str) -> int:
    """How many tests the runner's closing line(s) matching `pattern` report as passed (0 if none matches)."""
    total = 0
    for match in re.finditer(pattern, output, flags=re.MULTILINE):
        counts = [v for k, v in match.groupdict().items() if v is not None]
        total += int(counts[0]) if counts else 1
    return total


def failure_report(score: Score, limit: int) -> str:
    """The verdict, then every failed test's name and message, then as much of the test log as fits in `limit`."""
    head = f"resolved: {'yes' if score.resolved else 'no'}" + (f" ({score.reason})" if score.reason else "")
    failed = [t for t in score.tests if t.outcome != "passed"]
    if not failed:
        return describe_score(score) if score.tests else f"{head}\n{clip(score.output, max(1000, limit - len(head)))}"
    lines = [head, f"{len(failed)} failed tests:"]
    for test in failed:
        message = clip(test.message.strip(), 600)
        lines.append(f"- {test.name}" + ("\n  " + message.replace("\n", "\n  ") if message else ""))
    text = "\n".join(lines)
    if len(text) > limit:
        return text[: limit - 40].rstrip() + f"\n[... cut at {limit} characters ...]"
    room = limit - len(text) - 100
    if room > 500 and score.output:
        text += "\n\nThe test log:\n" + clip(score.output, room)
    return text


def detect_toolchains(sandbox: Sandbox, python: str = "python3") -> list[str]:
    """The languages whose compiler and test tools a sandbox has (for the `toolchains` option)."""
    probes = {
        lang: (f"command -v {shlex.quote(python)}" if lang == "python" else spec.probe)
        for lang, spec in LANGUAGES.items()
    }
    probe = "; ".join(f"({tests}) >/dev/null 2>&1 && echo {lang}" for lang, tests in probes.items())
    found = sandbox.exec(probe + "; true", timeout=60).output.split()
    return [language for language in LANGUAGES if language in found]


_detected: dict[str, list[str]] = {}
_detecting = threading.Lock()


def sandbox_toolchains(config: SandboxConfig, python: str = "python3") -> list[str]:
    """The toolchains sandboxes of `config` have, found once per image or root filesystem by starting one."""
    key = config.model_dump_json(include={"backend", "image", "rootfs"}) + python
    with _detecting:
        if key not in _detected:
            try:
                with tempfile.TemporaryDirectory(prefix="hgm-probe-") as tmp, open_sandbox(config, Path(tmp)) as box:
                    _detected[key] = detect_toolchains(box, python)
            except (SandboxError, OSError) as e:
                raise ValueError(f"cannot find the sandbox's toolchains, as a sandbox did not start: {e}") from e
        return list(_detected[key])


def _unskip(language: str, text: str) -> str:
    """Enable the tests that Exercism marks as skipped for learners, as the published benchmark runs them all."""
    if language == "javascript":
        return re.sub(r"\bxtest\(", "test(", re.sub(r"\bxit\(", "it(", text))
    if language == "java":
        return re.sub(r"@Disabled\([^)]*\)\s*\n", "", text)
    return text


def _names(files: tuple[str, ...]) -> str:
    return ", ".join(f"`{f}`" for f in files) or "the solution files"
