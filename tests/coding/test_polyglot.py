"""Polyglot adapter on hand-made exercises in the Polyglot layout, scored in real bwrap sandboxes."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from hgm.coding.benchmarks import Benchmark, Score, task_attempts, task_available, task_feedback
from hgm.coding.benchmarks.polyglot import PolyglotBenchmark, detect_toolchains
from hgm.coding.benchmarks.registry import make_benchmark
from hgm.coding.grading import SandboxGrader, grade
from hgm.sandboxes import ManagedSandbox, SandboxConfig

OpenSandbox = Callable[..., ManagedSandbox]
GRADER = SandboxGrader(SandboxConfig(backend="bwrap"))


def score(bench: Benchmark, task: str, sandbox: ManagedSandbox) -> Score:
    """Grade what an agent left in `sandbox` as a run does: its submission, in a fresh bwrap sandbox."""
    return grade(bench, task, sandbox, GRADER)


ROOT = Path(__file__).parent / "fixtures" / "polyglot"
PYTHON_TASKS = ["python/running-total", "python/word-lengths"]


def bench(**options: object) -> PolyglotBenchmark:
    made = make_benchmark("polyglot", str(ROOT), **options)
    assert isinstance(made, PolyglotBenchmark)
    return made


def attempt(
    polyglot: PolyglotBenchmark, task: str, bwrap: OpenSandbox, tmp_path: Path, files: dict[str, str]
) -> tuple[Score, ManagedSandbox]:
    """Prepare `task`, let a scripted agent write `files` inside the sandbox, and score it there."""
    workspace = tmp_path / task.replace("/", "-")
    polyglot.prepare(task, workspace)
    box = bwrap(workspace)
    for rel, text in files.items():
        source = tmp_path / "agent-file"
        source.write_text(text)
        box.copy_in(source, rel)
    return score(polyglot, task, box), box


def test_example_solutions_score_everything_and_doing_nothing_scores_nothing(
    bwrap: OpenSandbox, tmp_path: Path
) -> None:
    polyglot = bench()
    runnable = [t for t in polyglot.tasks() if polyglot.available(t) is None]
    assert runnable == PYTHON_TASKS
    solved = [attempt(polyglot, t, bwrap, tmp_path / "solved", polyglot.solution(t))[0] for t in runnable]
    idle = [attempt(polyglot, t, bwrap, tmp_path / "idle", {})[0] for t in runnable]
    assert [s.error for s in solved + idle] == [""] * 4
    assert sum(s.resolved for s in solved) / len(runnable) == 1.0, [s.output for s in solved]
    assert sum(s.resolved for s in idle) / len(runnable) == 0.0
    failed = {t.name: t.outcome for t in idle[0].tests}
    assert failed["running_total_test.RunningTotalTest.test_several"] == "failed"


def test_language_without_toolchain_is_unavailable_not_failed(bwrap: OpenSandbox, tmp_path: Path) -> None:
    polyglot = bench()
    assert "go/reverse-words" in polyglot.tasks()
    reason = task_available(polyglot, "go/reverse-words")
    assert reason == (
        "no Go toolchain in the sandbox (toolchains: python); build one with `hgm sandbox build --toolchains python,go`"
    )
    graded, _ = attempt(polyglot, "go/reverse-words", bwrap, tmp_path, polyglot.solution("go/reverse-words"))
    assert graded.resolved is False
    assert graded.error == reason


def test_detect_toolchains_sees_python_and_not_go(bwrap: OpenSandbox, tmp_path: Path, rootfs: Path) -> None:
    found = detect_toolchains(bwrap(tmp_path, rootfs=str(rootfs)))
    assert "python" in found
    assert "go" not in found


def test_workspace_hides_metadata_tests_and_example(tmp_path: Path) -> None:
    bench().prepare("python/word-lengths", tmp_path)
    files = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file())
    assert files == [
        ".docs/instructions.append.md",
        ".docs/instructions.md",
        ".docs/introduction.md",
        "word_lengths.py",
    ]


def test_statement_joins_the_docs_and_names_the_files_to_edit() -> None:
    info = bench().info("python/word-lengths")
    assert info.statement.index("A typesetter") < info.statement.index("Write `word_lengths")
    assert info.statement.index("Write `word_lengths") < info.statement.index('Raise `ValueError("sentence')
    assert "Solve it by editing `word_lengths.py`" in info.statement
    assert info.tags == ("python",)
    assert info.timeout == 180


def test_second_try_sees_the_failures_and_can_pass(bwrap: OpenSandbox, tmp_path: Path) -> None:
    polyglot = bench()
    task = "python/running-total"
    assert task_attempts(polyglot) == 2
    first, box = attempt(polyglot, task, bwrap, tmp_path, {})
    assert first.resolved is False
    retry = task_feedback(polyglot, task, first)  # the world appends this to the statement
    assert retry.startswith("---\nYour previous solution failed the hidden unit tests.")
    assert "\n- running_total_test.RunningTotalTest.test_single\n" in retry
    assert "Fix the code in `running_total.py`" in retry
    assert box.exec("ls -A", timeout=30).output.split() == [".docs", "running_total.py"]  # graded elsewhere
    source = tmp_path / "fixed.py"
    source.write_text(polyglot.solution(task)["running_total.py"])
    box.copy_in(source, "running_total.py")
    assert score(polyglot, task, box).resolved is True


def test_only_the_solution_files_reach_the_tests(bwrap: OpenSandbox, tmp_path: Path) -> None:
    polyglot = bench()
    always_passes = "import unittest\n\n\nclass T(unittest.TestCase):\n    def test_ok(self):\n        pass\n"
    files = {
        "running_total_test.py": always_passes,  # the agent's own copy of the test file is ignored
        "unittest.py": "raise SystemExit(0)\n",  # cannot shadow the standard library
        "running_total.py": "import sys\nsys.exit(0)\n",  # exiting early reports no result
    }
    graded, _ = attempt(polyglot, "python/running-total", bwrap, tmp_path, files)
    assert graded.resolved is False
    assert graded.error == ""
    assert graded.reason == "4 of 4 hidden tests did not pass"


def test_missing_solution_file_is_named(bwrap: OpenSandbox, tmp_path: Path) -> None:
    polyglot = bench()
    workspace = tmp_path / "ws"
    polyglot.prepare("python/running-total", workspace)
    box = bwrap(workspace)
    box.exec("rm running_total.py", timeout=30)
    graded = score(polyglot, "python/running-total", box)
    assert graded.resolved is False
    assert graded.output.startswith("missing solution files: running_total.py")


def test_options_select_languages_and_subsets(tmp_path: Path) -> None:
    assert bench(languages=["go"]).tasks() == ["go/reverse-words"]
    subset = tmp_path / "ids.txt"
    subset.write_text("python/word-lengths\n")
    assert bench(subset=str(subset)).tasks() == ["python/word-lengths"]
    assert bench(toolchains=["python", "go"]).available("go/reverse-words") is None
    assert bench(attempts=1).attempts == 1


def test_unknown_language_needs_a_command(tmp_path: Path) -> None:
    root = tmp_path / "checkout"
    shutil.copytree(ROOT / "python", root / "cobol")
    polyglot = PolyglotBenchmark(str(root), toolchains=["cobol"])
    assert "no test command is known for cobol" in str(polyglot.available("cobol/running-total"))
    custom = PolyglotBenchmark(str(root), toolchains=["cobol"], commands={"cobol": "cobc -x test.cob"})
    assert custom.available("cobol/running-total") is None


def test_bad_checkouts_and_options_are_explained(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="needs a path"):
        make_benchmark("polyglot")
    with pytest.raises(ValueError, match="is not a directory"):
        make_benchmark("polyglot", str(tmp_path / "nowhere"))
    with pytest.raises(ValueError, match="no exercises under"):
        make_benchmark("polyglot", str(tmp_path))
    with pytest.raises(ValueError, match="timeout: Input should be greater than 0"):
        bench(timeout=0)
    with pytest.raises(ValueError, match="tolchains"):
        bench(tolchains=["go"])
    broken = tmp_path / "broken"
    shutil.copytree(ROOT / "python", broken / "python")
    (broken / "python/exercises/practice/running-total/.meta/config.json").write_text('{"files": {"test": []}}')
    with pytest.raises(ValueError, match="running-total/.meta/config.json is not a valid exercise config"):
        PolyglotBenchmark(str(broken)).info("python/running-total")
    with pytest.raises(KeyError, match="unknown Polyglot task"):
        bench().info("python/../../etc")
