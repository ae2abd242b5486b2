"""Benchmarks by name, named subsets, and the defaults of the optional benchmark hooks."""

from __future__ import annotations

from pathlib import Path

import pytest

from hgm.coding.benchmarks import (
    BuiltinBenchmark,
    Score,
    TestCase,
    task_attempts,
    task_available,
    task_feedback,
    task_image,
    task_workdir,
)
from hgm.coding.benchmarks.registry import BENCHMARKS, SUBSETS_DIR, load_subset, make_benchmark, subset_path

BUILTIN = Path(__file__).resolve().parents[2] / "benchmarks" / "builtin"


def test_unknown_benchmark_lists_the_known_ones() -> None:
    with pytest.raises(ValueError) as caught:
        make_benchmark("swe-bench")
    assert str(caught.value) == "unknown benchmark 'swe-bench'; available: builtin, swebench, polyglot, custom"
    assert list(BENCHMARKS) == ["builtin", "swebench", "polyglot", "custom"]


def test_builtin_by_name_with_and_without_path(tmp_path: Path) -> None:
    default = make_benchmark("builtin")
    assert isinstance(default, BuiltinBenchmark)
    assert default.tasks() == make_benchmark("builtin", str(BUILTIN)).tasks()
    assert "fizzbuzz_rules" in default.tasks()
    with pytest.raises(ValueError, match="Built-in tasks not found"):
        make_benchmark("builtin", str(tmp_path / "none"))
    with pytest.raises(ValueError, match="unknown option.*toolchains"):
        make_benchmark("builtin", toolchains=["go"])


def test_builtin_gets_the_hook_defaults() -> None:
    bench = make_benchmark("builtin")
    task = bench.tasks()[0]
    assert task_image(bench, task) is None
    assert task_workdir(bench, task) is None
    assert task_attempts(bench) == 1
    assert task_available(bench, task) is None
    failed = Score(
        False, "log", reason="1 of 1 hidden tests did not pass", tests=[TestCase("t.T.test_x", "failed", "3 != 4")]
    )
    retry = task_feedback(bench, task, failed)
    assert retry == (
        "Your previous attempt did not pass the hidden tests:\n"
        "resolved: no (1 of 1 hidden tests did not pass)\nt.T.test_x: failed — 3 != 4\nFix the solution."
    )


def test_subsets_by_name_or_path(tmp_path: Path) -> None:
    assert subset_path("swebench_example") == SUBSETS_DIR / "swebench_example.txt"
    assert subset_path("swebench_example.txt") == SUBSETS_DIR / "swebench_example.txt"
    own = tmp_path / "mine.txt"
    own.write_text("b  # second\n\na\nb\n# done\n")
    assert load_subset(str(own), ["a", "b", "c"]) == ["b", "a"]
    own.write_text("# nothing\n")
    with pytest.raises(ValueError, match="lists no task ids"):
        load_subset(str(own), ["a"])
    with pytest.raises(ValueError, match="known names: dgm-medium, dgm-small, swe-verified-60, swebench_example"):
        subset_path("../etc/passwd")
