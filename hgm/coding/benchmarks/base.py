"""What a benchmark adapter is: tasks, their starting files, what to take from the agent, and grading elsewhere."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from hgm.interfaces import Sandbox
from hgm.sandboxes.base import ManagedSandbox
from hgm.sandboxes.config import SandboxConfig
from hgm.sandboxes.export import Export


@dataclass(frozen=True)
class TaskInfo:
    """What an agent and a scheduler may know about a task (never its tests or solution)."""

    id: str
    statement: str
    difficulty: str
    timeout: float
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class TestCase:
    """One hidden test's outcome: passed, failed, error, skipped or missing (never reported)."""

    __test__ = False  # not a pytest class

    name: str
    outcome: str
    message: str = ""


@dataclass
class Score:
    """A task's verdict.

    `error` is set only when grading could not happen for a reason that is not the agent's (the grading sandbox
    did not start, the image lacks the tools): an infrastructure error, not a failed task. Everything the agent's
    work caused is a plain failure with its `reason`. `output` is the grading log for the archive: clipped, with
    hidden test sources removed. `tests` holds per-test results where the adapter has them.
    """

    resolved: bool
    output: str
    error: str = ""
    reason: str = ""
    tests: list[TestCase] = field(default_factory=list)


class Grader(Protocol):
    """Opens the fresh sandboxes grading happens in: no agent code, no model access, nothing the agent touched."""

    def open(
        self,
        workspace: Path,
        *,
        image: str | None = None,
        workdir: str | None = None,
        user: str | None = None,
        network: bool = False,
        writable_root: bool = False,
    ) -> ManagedSandbox:
        """A new sandbox whose workspace starts as a copy of the host directory `workspace`; by default as the
        image's user, with no network and a read-only root (docker only: `user` uid:gid, `network`, a writable root
        bounded by the sandbox's disk_mb, as an official harness needs)."""
        ...


class Benchmark(Protocol):
    """A suite of tasks. The agent works in one sandbox; its submission is graded in another, fresh one.

    An adapter may also have the optional members of `BenchmarkHooks`; callers reach them through the `task_*`
    functions in this package, which supply the defaults for adapters that lack them.
    """

    name: str

    def tasks(self) -> list[str]: ...

    def info(self, task: str) -> TaskInfo: ...

    def prepare(self, task: str, workspace: Path) -> None:
        """Copy the task's starting files into an empty workspace directory."""
        ...

    def submission(self, task: str, sandbox: Sandbox) -> Export:
        """Take what the task lets the agent change out of the agent's sandbox, through the bounded export."""
        ...

    def grade(self, task: str, submission: Export, grader: Grader) -> Score:
        """Apply `submission` to pristine task files in a sandbox from `grader` and run the hidden tests there."""
        ...


class BenchmarkHooks(Benchmark, Protocol):
    """The optional members a benchmark may add; the defaults say what holds for an adapter without them."""

    attempts: int
    """How many times the agent may try a task; after a failed try it runs again on `feedback(...)`. Default 1."""

    def image(self, task: str) -> str | None:
        """The docker image the task must run in; None (the default) means the sandbox's own image."""
        ...

    def workdir(self, task: str) -> str | None:
        """The path the workspace must have inside the sandbox; None (the default) means the sandbox's own."""
        ...

    def feedback(self, task: str, score: Score) -> str:
        """Text appended to the statement for the next try after `score` failed. Default: the failed tests."""
        ...

    def available(self, task: str) -> str | None:
        """None if the task can run here, else why not (reported as unavailable, not failed). Default None."""
        ...

    def environment(self, task: str) -> dict[str, str]:
        """Variables the agent's sandbox gets for the task (e.g. an activated conda env). Default none."""
        ...

    def use_sandbox(self, config: SandboxConfig) -> None:
        """Told which sandboxes grade the benchmark, before any task runs (e.g. to look for toolchains there);
        raises ValueError for a setting those sandboxes cannot honour."""
        ...
