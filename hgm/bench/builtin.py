"""The built-in benchmark: Python tasks under benchmarks/builtin, scored by hidden unittest suites."""

from __future__ import annotations

import json
import os
import posixpath
import secrets
import shlex
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from hgm.interfaces import Sandbox

TASKS_ENV = "HGM_BUILTIN_TASKS"
OUTPUT_LIMIT = 20_000
RESULT_TAG = "HGM-UNITTEST-RESULT"

# Runs inside the sandbox with `python3 -I -S`: no environment, user or site hooks, no cwd on sys.path. The
# standard library comes first and the agent's workspace last, so files the agent left (a `unittest` package,
# `sitecustomize.py`) can shadow nothing; the result line carries a nonce so an early `exit(0)` is no pass.
RUNNER = """\
import os, sys
hidden, workspace, nonce = sys.argv[1:4]
sys.path[:] = [hidden] + [p for p in sys.path if p not in ("", ".", os.getcwd(), hidden, workspace)] + [workspace]
import json, unittest
os.chdir(workspace)
suite = unittest.defaultTestLoader.discover(hidden, pattern="test*.py", top_level_dir=hidden)
result = unittest.TextTestRunner(stream=sys.stdout, verbosity=2).run(suite)
summary = {"nonce": nonce, "run": result.testsRun, "failures": len(result.failures), "errors": len(result.errors),
           "skipped": len(result.skipped), "unexpected": len(result.unexpectedSuccesses)}
print("HGM-UNITTEST-RESULT", json.dumps(summary), flush=True)
sys.exit(0 if result.wasSuccessful() else 1)
"""


@dataclass(frozen=True)
class TaskInfo:
    """What an agent and a scheduler may know about a task (never its tests or solution)."""

    id: str
    statement: str
    difficulty: str
    timeout: float
    tags: tuple[str, ...] = ()


@dataclass
class Score:
    """A task's verdict; `error` marks an infrastructure problem rather than a wrong answer."""

    resolved: bool
    output: str
    error: str = ""


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
    candidates = [Path(__file__).resolve().parents[2] / "benchmarks" / "builtin", Path.cwd() / "benchmarks" / "builtin"]
    return next((c for c in candidates if c.is_dir()), candidates[0])


class BuiltinBenchmark:
    """The tasks in a directory of `<id>/{task.md, meta.yaml, starter/, hidden_tests/, solution/}`.

    `python` is the interpreter that runs the hidden tests inside the sandbox; `scratch` is the sandbox folder
    that receives them (default: a fresh hidden folder inside the workspace, removed after scoring).
    """

    name = "builtin"

    def __init__(self, root: Path | None = None, python: str = "python3", scratch: str | None = None) -> None:
        self.root = Path(root) if root is not None else default_root()
        self.python = python
        self.scratch = scratch
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
        ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
        shutil.copytree(self._dir(task) / "starter", workspace, ignore=ignore, dirs_exist_ok=True)

    def solution(self, task: str) -> dict[str, str]:
        """The reference solution as {relative path: text}; for tests and scripted demos, never for an agent."""
        root = self._dir(task) / "solution"
        return {str(p.relative_to(root)): p.read_text(encoding="utf-8") for p in _files(root)}

    def score(self, task: str, sandbox: Sandbox) -> Score:
        """Copy the hidden tests into a fresh directory of the sandbox and run them; resolved iff all pass."""
        meta = self.meta(task)
        nonce = secrets.token_hex(16)
        # Sandboxes copy files into the workspace only, so by default the tests go to a fresh hidden folder there.
        hidden = posixpath.join(self.scratch or sandbox.workdir, f".hgm-hidden-{secrets.token_hex(8)}")
        argv = [self.python, "-I", "-S", f"{hidden}/hgm_runner.py", hidden, sandbox.workdir, nonce]
        try:
            self._copy_tests(task, sandbox, hidden)
            result = sandbox.exec(shlex.join(argv), timeout=meta.timeout)
            sandbox.exec(f"rm -rf {shlex.quote(hidden)}", timeout=30)
        except Exception as e:  # a sandbox backend failing is an infrastructure problem, not a wrong answer
            return Score(False, "", error=f"could not run the hidden tests in the sandbox: {e!r}")
        output = _tail(result.output)
        if result.timed_out:
            return Score(False, output + f"\nhidden tests timed out after {meta.timeout:g}s")
        summary = _summary(result.output, nonce)
        if summary is None:
            if result.returncode in (126, 127) and RESULT_TAG not in result.output:
                return Score(False, output, error=f"could not run {self.python} in the sandbox")
            return Score(False, output + "\nthe hidden tests did not report a result")
        passed = result.returncode == 0 and summary["run"] > 0 and summary["failures"] + summary["errors"] == 0
        return Score(passed and summary["unexpected"] == 0 and summary["skipped"] == 0, output)

    def _copy_tests(self, task: str, sandbox: Sandbox, hidden: str) -> None:
        src = self._dir(task) / "hidden_tests"
        with tempfile.TemporaryDirectory() as tmp:
            runner = Path(tmp, "hgm_runner.py")
            runner.write_text(RUNNER, encoding="utf-8")
            files = [(p, p.relative_to(src).as_posix()) for p in _files(src)] + [(runner, "hgm_runner.py")]
            dirs = sorted({posixpath.dirname(posixpath.join(hidden, rel)) for _, rel in files})
            made = sandbox.exec("mkdir -p " + " ".join(shlex.quote(d) for d in dirs), timeout=30)
            if made.returncode != 0:
                raise OSError(f"mkdir failed: {made.output.strip()}")
            for path, rel in files:
                sandbox.copy_in(path, posixpath.join(hidden, rel))

    def _dir(self, task: str) -> Path:
        path = self.root / task
        if "/" in task or task.startswith(".") or not (path / "meta.yaml").is_file():
            raise KeyError(f"unknown built-in task {task!r}; see `tasks()` for the {len(self.tasks())} known ones")
        return path


def _summary(output: str, nonce: str) -> dict[str, int] | None:
    """The runner's result line carrying our nonce, if any."""
    for line in reversed(output.splitlines()):
        if line.startswith(RESULT_TAG + " "):
            try:
                data = json.loads(line[len(RESULT_TAG) + 1 :])
                if data.get("nonce") == nonce:
                    return {k: int(data[k]) for k in ("run", "failures", "errors", "skipped", "unexpected")}
            except (ValueError, TypeError, KeyError, AttributeError):
                continue
    return None


def _files(root: Path) -> list[Path]:
    """The files under root, sorted, without Python bytecode caches."""
    return [p for p in sorted(root.rglob("*")) if p.is_file() and "__pycache__" not in p.relative_to(root).parts]


def _tail(text: str) -> str:
    return text if len(text) <= OUTPUT_LIMIT else "[... output cut ...]\n" + text[-OUTPUT_LIMIT:]
