"""The built-in benchmark: task layout, starters failing, reference solutions passing, and tamper-proof grading."""

from __future__ import annotations

import shutil
import sys
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from hgm.coding.benchmarks import Benchmark, BuiltinBenchmark, Score
from hgm.coding.grading import SandboxGrader, grade
from hgm.sandboxes import ManagedSandbox, SandboxConfig, SandboxError
from hgm.sandboxes.export import Export

ROOT = Path(__file__).resolve().parents[1] / "benchmarks" / "builtin"


GRADER = SandboxGrader(SandboxConfig(backend="local"))


def make_bench(tmp: Path) -> BuiltinBenchmark:
    return BuiltinBenchmark(ROOT, python=sys.executable)


def score_with(bench: BuiltinBenchmark, task: str, overlay: dict[str, str]) -> Score:
    """Grade `overlay` files submitted for the task, in a fresh local sandbox."""
    submission = Export(files={rel: text.encode() for rel, text in overlay.items()})
    return bench.grade(task, submission, GRADER)


@pytest.fixture(scope="module")
def verdicts(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], Score]:
    """Every task scored twice, in parallel: its bare starter and its reference solution."""
    tmp = tmp_path_factory.mktemp("builtin")
    bench = make_bench(tmp)
    jobs = [(task, kind) for task in bench.tasks() for kind in ("starter", "solution")]

    def run(job: tuple[str, str]) -> Score:
        task, kind = job
        return score_with(bench, task, bench.solution(task) if kind == "solution" else {})

    with ThreadPoolExecutor(max_workers=4) as pool:
        return dict(zip(jobs, pool.map(run, jobs), strict=True))


TASKS = BuiltinBenchmark(ROOT).tasks()


def test_the_builtin_benchmark_meets_the_protocol_and_has_enough_graded_tasks() -> None:
    bench: Benchmark = BuiltinBenchmark(ROOT)
    assert bench.name == "builtin"
    counts = Counter(bench.info(t).difficulty for t in TASKS)
    assert len(TASKS) >= 40
    assert counts["easy"] >= 13 and counts["medium"] >= 13 and counts["hard"] >= 10


@pytest.mark.parametrize("task", TASKS)
def test_task_layout_and_meta(task: str) -> None:
    bench = BuiltinBenchmark(ROOT)
    info = bench.info(task)
    folder = ROOT / task
    assert info.id == task
    assert info.statement.startswith("# ") and len(info.statement) > 200
    assert 1 <= info.timeout <= 120
    assert info.tags
    assert any((folder / "starter").rglob("*.py"))
    assert list((folder / "hidden_tests").glob("test_*.py"))
    assert bench.solution(task)
    for rel in bench.solution(task):
        assert rel in info.statement or Path(rel).name in info.statement, f"{rel} is not named in task.md"


@pytest.mark.parametrize("task", TASKS)
def test_starter_fails_and_solution_passes(task: str, verdicts: dict[tuple[str, str], Score]) -> None:
    starter, solution = verdicts[(task, "starter")], verdicts[(task, "solution")]
    assert starter.error == "" and solution.error == ""
    assert not starter.resolved, starter.output[-2000:]
    assert solution.resolved, solution.output[-3000:]


def test_prepare_copies_only_the_starter(tmp_path: Path) -> None:
    bench = make_bench(tmp_path)
    bench.prepare("roman_numerals", tmp_path / "ws")
    assert sorted(p.name for p in (tmp_path / "ws").iterdir()) == ["roman.py"]
    assert "NotImplementedError" in (tmp_path / "ws" / "roman.py").read_text()


FAKE_PASS = "import os\nprint('OK')\nos._exit(0)\n"
FORGED = 'import os\nprint(\'HGM-UNITTEST-RESULT {"nonce": "x", "run": 9}\', flush=True)\nos._exit(0)\n'
FAKE_UNITTEST = (
    "class TestCase:\n    pass\n"
    "def main(*a, **k):\n    raise SystemExit(0)\n"
    "class _L:\n    def discover(self, *a, **k):\n        raise SystemExit(0)\n"
    "defaultTestLoader = _L()\n"
)


@pytest.mark.parametrize(
    "overlay",
    [
        {"sitecustomize.py": FAKE_PASS, "usercustomize.py": FAKE_PASS},
        {"unittest/__init__.py": FAKE_UNITTEST},
        {"unittest.py": FAKE_UNITTEST, "json.py": FAKE_PASS, "os.py": FAKE_PASS},
        {"roman.py": FAKE_PASS},
        {"roman.py": "import sys\nsys.exit(0)\n"},
        {"roman.py": FORGED},
        {"test_roman.py": "import unittest\nclass T(unittest.TestCase):\n    def test_ok(self):\n        pass\n"},
    ],
    ids=["sitecustomize", "unittest-package", "stdlib-shadows", "exit-on-import", "sys-exit", "forged", "own-test"],
)
def test_files_left_by_the_agent_cannot_fake_a_pass(tmp_path: Path, overlay: dict[str, str]) -> None:
    score = score_with(make_bench(tmp_path), "roman_numerals", overlay)
    assert score.error == ""
    assert not score.resolved, score.output


def test_stdlib_shadowing_files_do_not_break_a_real_solution(tmp_path: Path) -> None:
    bench = make_bench(tmp_path)
    overlay = {**bench.solution("roman_numerals"), "unittest.py": FAKE_UNITTEST, "sitecustomize.py": FAKE_PASS}
    assert score_with(bench, "roman_numerals", overlay).resolved


def test_a_hanging_solution_times_out_as_a_wrong_answer(tmp_path: Path) -> None:
    bench = make_bench(tmp_path)
    (tmp_path / "tasks").mkdir()
    shutil.copytree(ROOT / "roman_numerals", tmp_path / "tasks" / "roman_numerals")
    meta = tmp_path / "tasks" / "roman_numerals" / "meta.yaml"
    meta.write_text(meta.read_text().replace("timeout: 20", "timeout: 1"))
    bench = BuiltinBenchmark(tmp_path / "tasks", python=sys.executable)
    score = score_with(bench, "roman_numerals", {"roman.py": "while True:\n    pass\n"})
    assert (score.resolved, score.error) == (False, "")
    assert "timed out after 1s" in score.reason


def test_a_missing_interpreter_is_an_infrastructure_error(tmp_path: Path) -> None:
    bench = BuiltinBenchmark(ROOT, python="/nonexistent/python3")
    score = score_with(bench, "roman_numerals", bench.solution("roman_numerals"))
    assert not score.resolved
    assert "could not start /nonexistent/python3" in score.error


def test_unknown_task_and_bad_meta_give_clear_errors(tmp_path: Path) -> None:
    bench = BuiltinBenchmark(ROOT)
    with pytest.raises(KeyError, match="unknown built-in task 'nope'"):
        bench.info("nope")
    with pytest.raises(KeyError):
        bench.info("../builtin")
    (tmp_path / "t1").mkdir()
    (tmp_path / "t1" / "meta.yaml").write_text("difficulty: trivial\ntimeout: 5\ncolour: red\n")
    with pytest.raises(ValueError, match="meta.yaml is invalid") as err:
        BuiltinBenchmark(tmp_path).meta("t1")
    assert "difficulty" in str(err.value) and "colour" in str(err.value)
    with pytest.raises(FileNotFoundError, match="HGM_BUILTIN_TASKS"):
        BuiltinBenchmark(tmp_path / "missing")


def test_default_root_is_found_from_the_package_and_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert BuiltinBenchmark().root.resolve() == ROOT
    monkeypatch.setenv("HGM_BUILTIN_TASKS", str(tmp_path))
    assert BuiltinBenchmark().root == tmp_path


class BrokenGrader:
    def open(self, workspace: Path, **settings: object) -> ManagedSandbox:
        raise SandboxError("engine went away")


def test_a_grading_sandbox_that_does_not_start_is_an_infrastructure_error(tmp_path: Path) -> None:
    bench = make_bench(tmp_path)

    class Agent:
        workdir = "/workspace"

        def export(self, src: str, limits: object = None) -> Export:
            return Export(files={"roman.py": b"x = 1\n"})

    score = grade(bench, "roman_numerals", Agent(), BrokenGrader())  # type: ignore[arg-type]
    assert not score.resolved
    assert "engine went away" in score.error


def test_bytecode_caches_are_neither_prepared_nor_part_of_the_solution(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "roman_numerals", tmp_path / "tasks" / "roman_numerals")
    for part in ("starter", "solution", "hidden_tests"):
        cache = tmp_path / "tasks" / "roman_numerals" / part / "__pycache__"
        cache.mkdir()
        (cache / "roman.cpython-311.pyc").write_bytes(b"\x00\xff binary")
    bench = BuiltinBenchmark(tmp_path / "tasks", python=sys.executable)
    assert list(bench.solution("roman_numerals")) == ["roman.py"]
    bench.prepare("roman_numerals", tmp_path / "ws")
    assert [p.name for p in (tmp_path / "ws").iterdir()] == ["roman.py"]
    score = score_with(bench, "roman_numerals", bench.solution("roman_numerals"))
    assert score.resolved, score.output
