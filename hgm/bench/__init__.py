"""Benchmark adapters: list tasks, prepare a task's workspace, score an agent's work with tests it never saw."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from hgm.bench.builtin import BuiltinBenchmark, Score, TaskInfo
from hgm.interfaces import Sandbox

__all__ = [
    "Benchmark",
    "BenchmarkHooks",
    "BuiltinBenchmark",
    "Score",
    "TaskInfo",
    "task_attempts",
    "task_available",
    "task_feedback",
    "task_image",
    "task_workdir",
]


class Benchmark(Protocol):
    """A suite of tasks; scoring happens after the agent ran, inside the same sandbox.

    An adapter may also have the optional members of `BenchmarkHooks`; callers reach them through the `task_*`
    functions below, which supply the defaults for adapters that lack them.
    """

    name: str

    def tasks(self) -> list[str]: ...

    def info(self, task: str) -> TaskInfo: ...

    def prepare(self, task: str, workspace: Path) -> None:
        """Copy the task's starting files into an empty workspace directory."""
        ...

    def score(self, task: str, sandbox: Sandbox) -> Score:
        """Run the hidden tests against the sandbox's workspace; resolved iff they pass."""
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
        """Text appended to the statement for the next try after `score` failed. Default: the test output's tail."""
        ...

    def available(self, task: str) -> str | None:
        """None if the task can run here, else why not (reported as unavailable, not failed). Default None."""
        ...


def task_image(benchmark: Benchmark, task: str) -> str | None:
    """The docker image `task` must run in, or None for the sandbox's own."""
    hook = getattr(benchmark, "image", None)
    return hook(task) if callable(hook) else None


def task_workdir(benchmark: Benchmark, task: str) -> str | None:
    """The path the workspace must have inside the sandbox, or None for the sandbox's own."""
    hook = getattr(benchmark, "workdir", None)
    return hook(task) if callable(hook) else None


def task_attempts(benchmark: Benchmark) -> int:
    """How many times the agent may try each task of `benchmark`."""
    return max(1, int(getattr(benchmark, "attempts", 1)))


def task_feedback(benchmark: Benchmark, task: str, score: Score) -> str:
    """What to append to the statement for the next try after a failed one."""
    hook = getattr(benchmark, "feedback", None)
    if callable(hook):
        return str(hook(task, score))
    return f"Your previous attempt failed these tests:\n{score.output[-4000:]}\nFix the solution."


def task_available(benchmark: Benchmark, task: str) -> str | None:
    """None if `task` can run here, else the reason it cannot."""
    hook = getattr(benchmark, "available", None)
    return hook(task) if callable(hook) else None
