"""Custom YAML suites: errors that name file, line and field; a valid suite scored in real bwrap sandboxes."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from hgm.coding.benchmarks import Benchmark, Score, task_attempts
from hgm.coding.benchmarks.custom import CustomBenchmark, SuiteError
from hgm.coding.benchmarks.registry import make_benchmark
from hgm.coding.grading import SandboxGrader, grade
from hgm.sandboxes import ManagedSandbox, SandboxConfig

OpenSandbox = Callable[..., ManagedSandbox]
GRADER = SandboxGrader(SandboxConfig(backend="bwrap"))


def score(bench: Benchmark, task: str, sandbox: ManagedSandbox) -> Score:
    """Grade what an agent left in `sandbox` as a run does: its submission, in a fresh bwrap sandbox."""
    return grade(bench, task, sandbox, GRADER)


FIXTURE = Path(__file__).parent / "fixtures" / "custom"
GREET = 'def greet(name):\n    return f"Hello, {name}!"\n'
SHOUT = 'import sys\n\nprint(" ".join(sys.argv[1:]).upper() + "!")\n'


@pytest.fixture
def suite_dir(tmp_path: Path) -> Path:
    """A copy of the fixture suite whose YAML a test may rewrite."""
    return Path(shutil.copytree(FIXTURE, tmp_path / "suite"))


def error_for(suite_dir: Path, text: str) -> str:
    """The message loading `text` as suite.yaml raises."""
    path = suite_dir / "suite.yaml"
    path.write_text(text)
    with pytest.raises(SuiteError) as caught:
        CustomBenchmark(str(path))
    return str(caught.value)


VALID_HEAD = """\
suite: s
test_command: "true"
tasks:
  - id: greet
    statement: hi
    tests: greet/tests
"""


def test_bad_value_names_file_line_and_field(suite_dir: Path) -> None:
    text = VALID_HEAD + "  - id: other\n    statement: hi\n    tests: greet/tests\n    timeout: 0\n"
    assert error_for(suite_dir, text) == f"{suite_dir}/suite.yaml:10: tasks[1].timeout: Input should be greater than 0"


def test_unknown_key_is_named_at_its_line(suite_dir: Path) -> None:
    text = VALID_HEAD + "    tset_command: pytest\n"
    assert (
        error_for(suite_dir, text) == f"{suite_dir}/suite.yaml:7: tasks[0].tset_command: Extra inputs are not permitted"
    )


def test_missing_field_points_at_its_task(suite_dir: Path) -> None:
    text = VALID_HEAD + "  - id: other\n    statement: hi\n"
    assert error_for(suite_dir, text) == f"{suite_dir}/suite.yaml:7: tasks[1].tests: Field required"


def test_bad_type_is_named(suite_dir: Path) -> None:
    text = VALID_HEAD.replace("tasks:", "timeout: soon\ntasks:")
    message = error_for(suite_dir, text)
    assert message.startswith(f"{suite_dir}/suite.yaml:3: timeout: Input should be a valid number")
    assert "suite.yaml:1: tasks" not in message
    tags = error_for(suite_dir, VALID_HEAD + "    tags: python\n")
    assert tags == f"{suite_dir}/suite.yaml:7: tasks[0].tags: Input should be a valid list"


def test_every_schema_problem_is_listed(suite_dir: Path) -> None:
    text = "suite: s\ntasks:\n  - id: bad id\n    tests: t\n    timeout: -1\n"
    lines = error_for(suite_dir, text).splitlines()
    assert lines == [
        f"{suite_dir}/suite.yaml:3: tasks[0].id: String should match pattern '^[A-Za-z0-9][A-Za-z0-9._-]*$'",
        f"{suite_dir}/suite.yaml:5: tasks[0].timeout: Input should be greater than 0",
    ]


def test_missing_directories_and_files_are_named(suite_dir: Path) -> None:
    text = VALID_HEAD + "    starter: nowhere\n  - id: two\n    statement_file: missing.md\n    tests: gone\n"
    assert error_for(suite_dir, text).splitlines() == [
        f"{suite_dir}/suite.yaml:7: tasks[0].starter: directory not found: {suite_dir}/nowhere",
        f"{suite_dir}/suite.yaml:9: tasks[1].statement_file: file not found: {suite_dir}/missing.md",
        f"{suite_dir}/suite.yaml:10: tasks[1].tests: directory not found: {suite_dir}/gone",
    ]


def test_duplicate_ids_and_keys_are_errors(suite_dir: Path) -> None:
    text = VALID_HEAD + "  - id: greet\n    statement: again\n    tests: greet/tests\n    tests: greet/tests\n"
    assert error_for(suite_dir, text).splitlines() == [
        f"{suite_dir}/suite.yaml:7: tasks[1].id: duplicate task id 'greet' (first used by tasks[0])",
        f"{suite_dir}/suite.yaml:10: tasks[1].tests: duplicate key",
    ]


def test_statement_and_command_rules(suite_dir: Path) -> None:
    both = VALID_HEAD + "    statement_file: shout/task.md\n"
    assert error_for(suite_dir, both).endswith(
        "suite.yaml:7: tasks[0].statement_file: give exactly one of statement and statement_file"
    )
    neither = "suite: s\ntasks:\n  - id: a\n    tests: greet/tests\n    test_command: 'true'\n"
    assert error_for(suite_dir, neither).endswith(
        "suite.yaml:3: tasks[0]: give exactly one of statement and statement_file"
    )
    no_command = "suite: s\ntasks:\n  - id: a\n    statement: hi\n    tests: shout/tests\n"
    assert error_for(suite_dir, no_command).endswith(
        "suite.yaml:5: tasks[0].tests: no test_command, and no test*.py files for hgm's unittest runner"
    )
    (suite_dir / "suite.yaml").write_text(no_command.replace("shout/tests", "greet/tests"))
    assert CustomBenchmark(str(suite_dir / "suite.yaml")).tasks() == ["a"]  # hgm's own runner


def test_not_yaml_empty_and_wrong_shape(suite_dir: Path) -> None:
    assert error_for(suite_dir, "suite: s\ntasks:\n  - id: [unclosed\n").startswith(
        f"{suite_dir}/suite.yaml:4: not valid YAML: "
    )
    assert error_for(suite_dir, "").startswith(f"{suite_dir}/suite.yaml:1: the file is empty")
    assert error_for(suite_dir, "- a\n- b\n") == (
        f"{suite_dir}/suite.yaml:1: (top level): Input should be a valid dictionary or instance of SuiteSpec"
    )


def test_registry_explains_missing_paths_and_options(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="needs a path: pass a YAML file"):
        make_benchmark("custom")
    with pytest.raises(ValueError, match="does not exist"):
        make_benchmark("custom", str(tmp_path / "suite.yaml"))
    with pytest.raises(ValueError, match="takes no options"):
        make_benchmark("custom", str(FIXTURE / "suite.yaml"), timeout=3)


def test_valid_suite_loads_with_defaults() -> None:
    bench = make_benchmark("custom", str(FIXTURE / "suite.yaml"))
    assert bench.tasks() == ["greet", "shout"]
    greet, shout = bench.info("greet"), bench.info("shout")
    assert greet.statement.startswith("Implement `greet(name)`")
    assert (greet.timeout, greet.difficulty, greet.tags) == (60, "easy", ("python",))
    assert shout.statement.startswith("Make `python3 shout.py WORDS...`")
    assert shout.timeout == 30
    assert task_attempts(bench) == 1


def run(
    bench: CustomBenchmark, task: str, bwrap: OpenSandbox, tmp_path: Path, files: dict[str, str]
) -> tuple[Score, ManagedSandbox]:
    """Prepare `task`, let a scripted agent write `files` inside the sandbox, and score it there."""
    workspace = tmp_path / f"{task}-{len(files)}"
    bench.prepare(task, workspace)
    assert not any("test" in p.name for p in workspace.rglob("*"))  # hidden tests are not in the workspace
    box = bwrap(workspace)
    for rel, text in files.items():
        source = tmp_path / "agent-file"
        source.write_text(text)
        box.copy_in(source, rel)
    return score(bench, task, box), box


def test_correct_solutions_pass_and_starters_fail(bwrap: OpenSandbox, tmp_path: Path) -> None:
    bench = CustomBenchmark(str(FIXTURE / "suite.yaml"))
    solved_greet, box = run(bench, "greet", bwrap, tmp_path, {"greet.py": GREET})
    assert solved_greet.resolved is True, solved_greet.output
    assert "test_greets (test_greet.GreetTest.test_greets) ... ok" in solved_greet.output
    assert box.exec("ls -A", timeout=30).output.split() == ["greet.py"]  # grading happened elsewhere
    solved_shout, _ = run(bench, "shout", bwrap, tmp_path, {"shout.py": SHOUT})
    assert solved_shout.resolved is True, solved_shout.output
    starter_greet, _ = run(bench, "greet", bwrap, tmp_path, {})
    starter_shout, _ = run(bench, "shout", bwrap, tmp_path, {})
    assert (starter_greet.resolved, starter_shout.resolved) == (False, False)
    assert "NotImplementedError" in starter_greet.output
    assert "got: hello there" in starter_shout.output
    assert all(s.error == "" for s in (solved_greet, solved_shout, starter_greet, starter_shout))


def test_timeout_fails_the_task(suite_dir: Path, bwrap: OpenSandbox, tmp_path: Path) -> None:
    path = suite_dir / "suite.yaml"
    path.write_text(VALID_HEAD.replace('"true"', "sleep 5") + "    timeout: 0.5\n")
    bench = CustomBenchmark(str(path))
    score, _ = run(bench, "greet", bwrap, tmp_path, {})
    assert score.resolved is False
    assert "timed out after 0.5s" in score.reason
