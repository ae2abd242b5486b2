"""Benchmark adapters: tasks, their starting files, and grading of an agent's submission in a fresh sandbox."""

from __future__ import annotations

from hgm.coding.benchmarks.base import Benchmark, BenchmarkHooks, Grader, Score, TaskInfo, TestCase
from hgm.coding.benchmarks.builtin import BuiltinBenchmark

__all__ = [
    "Benchmark",
    "BenchmarkHooks",
    "BuiltinBenchmark",
    "Grader",
    "Score",
    "TaskInfo",
    "TestCase",
    "task_attempts",
    "task_available",
    "task_environment",
    "task_feedback",
    "task_image",
    "task_workdir",
]


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
    from hgm.coding.evidence import describe_score

    return f"Your previous attempt did not pass the hidden tests:\n{describe_score(score)}\nFix the solution."


def task_available(benchmark: Benchmark, task: str) -> str | None:
    """None if `task` can run here, else the reason it cannot."""
    hook = getattr(benchmark, "available", None)
    return hook(task) if callable(hook) else None


def task_environment(benchmark: Benchmark, task: str) -> dict[str, str]:
    """Variables the agent's sandbox needs for `task` (an instance image's activated environment), or none."""
    hook = getattr(benchmark, "environment", None)
    return dict(hook(task)) if callable(hook) else {}
