"""SWE-bench adapter: a tiny instance from a local repository, scored in bwrap through swebench's grading code."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from hgm.coding.benchmarks import task_attempts, task_available, task_image, task_workdir
from hgm.coding.benchmarks.registry import SUBSETS_DIR, make_benchmark
from hgm.coding.benchmarks.swebench import REPO_DIR, SWEbenchBenchmark, SWEbenchImageMissing, swebench_major
from hgm.coding.grading import SandboxGrader, grade
from hgm.sandboxes import ManagedSandbox, SandboxConfig

OpenSandbox = Callable[..., ManagedSandbox]

INSTANCE_ID = "hgmtest__calc-1"
REPO = "hgmtest/calc"
PYLIB = "/tmp/pylib"  # pytest, mounted read-only: the sandbox's own python has no third-party packages
TEST_CMD = f"PYTEST_DISABLE_PLUGIN_AUTOLOAD=1 PYTHONPATH={PYLIB} python3 -m pytest -rA -p no:cacheprovider"

CALC = '''\
def add(a, b):
    return a + b


def clamp(value, low, high):
    """Limit value to the range [low, high]."""
    if value < low:
        return low
    if value > high:
        return low
    return value
'''
TESTS = """\
from calc import add, clamp


def test_add():
    assert add(2, 3) == 5


def test_clamp_low():
    assert clamp(-4, 0, 10) == 0
"""
HIDDEN_TEST = """

def test_clamp_high():
    assert clamp(14, 0, 10) == 10
"""
FIXED = CALC.replace("        return low\n    return value", "        return high\n    return value")
WRONG = CALC.replace("        return low\n    return value", "        return high - 1\n    return value")
F2P = ["tests/test_calc.py::test_clamp_high"]
P2P = ["tests/test_calc.py::test_add", "tests/test_calc.py::test_clamp_low"]


def git(repo: Path, *args: str) -> str:
    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"}
    done = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=True, env=env)
    return done.stdout


def eval_script(base: str, test_patch: str) -> str:
    """An eval script of the shape swebench's datasets carry (swebench 5 reads it from the instance)."""
    return "\n".join(
        [
            "#!/bin/bash",
            "set -uxo pipefail",
            f"cd {REPO_DIR}",
            f"git -c core.fileMode=false diff {base}",
            f"git checkout {base} tests/test_calc.py",
            f"git apply -v - <<'EOF_HGM_TEST'\n{test_patch}\nEOF_HGM_TEST",
            ": '>>>>> Start Test Output'",
            f"{TEST_CMD} tests/test_calc.py",
            ": '>>>>> End Test Output'",
            f"git checkout {base} tests/test_calc.py",
        ]
    )


@dataclass
class Dataset:
    file: Path
    repos: Path
    base: str
    fix_commit: str


@pytest.fixture
def dataset(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Dataset:
    """A one-instance SWE-bench dataset over a local repository whose later history holds the fix."""
    repo = tmp_path / "repos" / REPO.replace("/", "__")
    (repo / "tests").mkdir(parents=True)
    (repo / "calc.py").write_text(CALC)
    (repo / "tests" / "test_calc.py").write_text(TESTS)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "calc")
    base = git(repo, "rev-parse", "HEAD").strip()
    (repo / "tests" / "test_calc.py").write_text(TESTS + HIDDEN_TEST)
    test_patch = git(repo, "diff")
    git(repo, "checkout", "-q", "--", ".")
    (repo / "calc.py").write_text(FIXED)
    gold = git(repo, "diff")
    git(repo, "commit", "-qam", "fix clamp")
    fix_commit = git(repo, "rev-parse", "HEAD").strip()
    instance = {
        "instance_id": INSTANCE_ID,
        "repo": REPO,
        "version": "0.1",
        "base_commit": base,
        "environment_setup_commit": base,
        "patch": gold,
        "test_patch": test_patch,
        "problem_statement": "clamp(14, 0, 10) returns 0; values above the range should become `high`.",
        "hints_text": "",
        "created_at": "2024-01-01T00:00:00Z",
        "FAIL_TO_PASS": json.dumps(F2P),
        "PASS_TO_PASS": json.dumps(P2P),
        "image": "hgmtest/sweb.eval.x86_64.hgmtest_1776_calc-1:latest",
        "eval_script": eval_script(base, test_patch),
        "log_parser": "parse_log_pytest",
        "eval_type": "pass_and_fail",
    }
    register_spec(monkeypatch)
    file = tmp_path / "instances.jsonl"
    file.write_text(json.dumps(instance) + "\n")
    return Dataset(file, tmp_path / "repos", base, fix_commit)


def register_spec(monkeypatch: pytest.MonkeyPatch) -> None:
    """swebench 4 builds eval scripts from its repo/version maps: register the test repository there."""
    if importlib.util.find_spec("swebench.harness.test_spec") is None:
        return  # swebench 5: the instance carries its eval script and log parser
    from swebench.harness import constants
    from swebench.harness.log_parsers import MAP_REPO_TO_PARSER
    from swebench.harness.log_parsers.python import parse_log_pytest

    spec = {"python": "3.11", "test_cmd": TEST_CMD}
    monkeypatch.setitem(constants.MAP_REPO_VERSION_TO_SPECS, REPO, {"0.1": spec})
    monkeypatch.setitem(constants.MAP_REPO_TO_EXT, REPO, "py")
    monkeypatch.setitem(MAP_REPO_TO_PARSER, REPO, parse_log_pytest)


def pylib() -> dict[str, str]:
    return {str(Path(pytest.__file__).resolve().parents[1]): PYLIB}


def run_agent(
    bench: SWEbenchBenchmark, bwrap: OpenSandbox, tmp_path: Path, files: dict[str, str]
) -> tuple[Any, ManagedSandbox]:
    """Prepare the instance, let a scripted agent write `files` in the sandbox, and score it."""
    workspace = tmp_path / "workspace"
    bench.prepare(INSTANCE_ID, workspace)
    box = bwrap(workspace, workdir=task_workdir(bench, INSTANCE_ID), mounts=pylib())
    for rel, text in files.items():
        source = tmp_path / "agent-file"
        source.write_text(text)
        box.copy_in(source, rel)
    return score(bench, box), box


def score(bench: SWEbenchBenchmark, box: ManagedSandbox, **config: Any) -> Any:
    """Grade the agent's sandbox as a run does: its diff, in a fresh sandbox that can import pytest."""
    grader = SandboxGrader(SandboxConfig(**{"backend": "bwrap", **config}), mounts=pylib())
    return grade(bench, INSTANCE_ID, box, grader)


def make(dataset: Dataset, **options: Any) -> SWEbenchBenchmark:
    bench = make_benchmark("swebench", str(dataset.file), repos=str(dataset.repos), **options)
    assert isinstance(bench, SWEbenchBenchmark)
    return bench


def test_correct_patch_is_resolved_by_swebench_grading(dataset: Dataset, bwrap: OpenSandbox, tmp_path: Path) -> None:
    score, box = run_agent(make(dataset), bwrap, tmp_path, {"calc.py": FIXED})
    assert score.error == ""
    assert score.resolved is True, score.output
    assert "FAIL_TO_PASS: 1 passed, 0 failed" in score.output
    assert "PASS_TO_PASS: 2 passed, 0 failed" in score.output
    assert "PASSED tests/test_calc.py::test_clamp_high" in score.output
    # afterwards the workspace holds the agent's change, and neither the hidden test nor the grading files
    assert box.exec("cat calc.py", timeout=30).output == FIXED
    assert box.exec("cat tests/test_calc.py", timeout=30).output == TESTS
    assert box.exec("ls -a .git | grep hgm- ; git status --porcelain", timeout=30).output == " M calc.py\n"


def test_wrong_patch_is_unresolved(dataset: Dataset, bwrap: OpenSandbox, tmp_path: Path) -> None:
    score, _ = run_agent(make(dataset), bwrap, tmp_path, {"calc.py": WRONG})
    assert score.error == ""
    assert score.resolved is False
    assert "FAIL_TO_PASS: 0 passed, 1 failed" in score.output
    assert "failed: tests/test_calc.py::test_clamp_high" in score.output
    assert "PASS_TO_PASS: 2 passed, 0 failed" in score.output


def test_breaking_a_passing_test_is_unresolved(dataset: Dataset, bwrap: OpenSandbox, tmp_path: Path) -> None:
    broken = FIXED.replace("return a + b", "return a - b")
    score, _ = run_agent(make(dataset), bwrap, tmp_path, {"calc.py": broken})
    assert score.resolved is False
    assert "FAIL_TO_PASS: 1 passed, 0 failed" in score.output
    assert "failed: tests/test_calc.py::test_add" in score.output


def test_new_files_are_part_of_the_prediction(dataset: Dataset, bwrap: OpenSandbox, tmp_path: Path) -> None:
    calc = CALC.replace("def clamp(", "from limits import clamp\n\n\ndef old_clamp(")
    limits = "def clamp(value, low, high):\n    return max(low, min(value, high))\n"
    score, _ = run_agent(make(dataset), bwrap, tmp_path, {"calc.py": calc, "limits.py": limits})
    assert score.resolved is True, score.output


def test_no_change_is_unresolved(dataset: Dataset, bwrap: OpenSandbox, tmp_path: Path) -> None:
    score, _ = run_agent(make(dataset), bwrap, tmp_path, {})
    assert score.resolved is False
    assert "changed nothing" in score.output


def test_files_outside_the_diff_do_not_reach_the_tests(dataset: Dataset, bwrap: OpenSandbox, tmp_path: Path) -> None:
    # A conftest.py that makes every test pass, hidden from `git diff` by .git/info/exclude, must not count.
    cheat = "import pytest\n\n@pytest.hookimpl(tryfirst=True)\ndef pytest_runtest_call(item):\n    item.runtest = int\n"
    bench = make(dataset)
    workspace = tmp_path / "workspace"
    bench.prepare(INSTANCE_ID, workspace)
    (workspace / "conftest.py").write_text(cheat)
    (workspace / ".git" / "info" / "exclude").write_text("conftest.py\n")
    (workspace / "tests" / "test_fails.py").write_text("def test_fails():\n    assert False\n")
    box = bwrap(workspace, workdir=REPO_DIR, mounts=pylib())
    control = box.exec(f"{TEST_CMD} tests/test_fails.py && rm tests/test_fails.py", timeout=60)
    assert "PASSED tests/test_fails.py::test_fails" in control.output  # the cheat works in the workspace
    graded = score(bench, box)
    assert graded.resolved is False
    assert "failed: tests/test_calc.py::test_clamp_high" in graded.output


def test_workspace_has_the_base_commit_and_no_later_history(dataset: Dataset, tmp_path: Path) -> None:
    bench = make(dataset)
    workspace = tmp_path / "ws"
    bench.prepare(INSTANCE_ID, workspace)
    assert (workspace / "calc.py").read_text() == CALC
    assert git(workspace, "rev-parse", "HEAD").strip() == dataset.base
    assert git(workspace, "log", "--all", "--format=%H").split() == [dataset.base]
    missing = subprocess.run(["git", "-C", str(workspace), "cat-file", "-e", dataset.fix_commit], capture_output=True)
    assert missing.returncode != 0


def test_task_info_and_hooks(dataset: Dataset) -> None:
    bench = make(dataset, subset=str(SUBSETS_DIR / "swebench_example.txt"), timeout=120)
    assert bench.tasks() == [INSTANCE_ID]
    info = bench.info(INSTANCE_ID)
    assert info.statement.startswith("clamp(14, 0, 10) returns 0")
    assert f"at commit {dataset.base[:12]}" in info.statement
    assert info.timeout == 120
    assert info.tags == (REPO,)
    assert task_attempts(bench) == 1
    assert task_workdir(bench, INSTANCE_ID) == "/testbed"
    assert task_image(bench, INSTANCE_ID) is None  # local clones run in the default sandbox image
    assert bench.available(INSTANCE_ID) is None


def test_sandbox_elsewhere_than_testbed_is_refused(dataset: Dataset, bwrap: OpenSandbox, tmp_path: Path) -> None:
    bench = make(dataset)
    bench.prepare(INSTANCE_ID, tmp_path / "ws")
    with pytest.raises(ValueError, match="workdir=/testbed"):
        bench.submission(INSTANCE_ID, bwrap(tmp_path / "ws"))


@pytest.mark.docker
def test_missing_instance_image_is_named_with_how_to_build_it(dataset: Dataset, tmp_path: Path) -> None:
    from hgm.sandboxes import docker_problem

    assert docker_problem() is None, "this test needs the Docker engine"
    bench = SWEbenchBenchmark(str(dataset.file))
    image = task_image(bench, INSTANCE_ID)
    assert image is not None and "sweb.eval.x86_64" in image
    problem = task_available(bench, INSTANCE_ID)
    assert problem is not None and image in problem and "hgm bench images --benchmark swebench" in problem
    with pytest.raises(SWEbenchImageMissing, match="is not on the Docker engine"):
        bench.prepare(INSTANCE_ID, tmp_path / "ws")
    assert bench.fetch_images() == [image]  # no registry answers here, so pulling fails


def test_unknown_subset_ids_and_missing_clones_are_errors(dataset: Dataset, tmp_path: Path) -> None:
    subset = tmp_path / "ids.txt"
    subset.write_text("# a comment\nhgmtest__calc-1\nnope__nope-2\n")
    with pytest.raises(ValueError, match="nope__nope-2"):
        make(dataset, subset=str(subset))
    with pytest.raises(ValueError, match="neither a file nor a name"):
        make(dataset, subset="no_such_subset")
    bench = make_benchmark("swebench", str(dataset.file), repos=str(tmp_path))
    assert "no git clone of hgmtest/calc" in str(task_available(bench, INSTANCE_ID))


def test_classic_rows_name_the_swebench_version_they_need(dataset: Dataset, tmp_path: Path) -> None:
    row = json.loads(dataset.file.read_text())
    row.update(instance_id="hgmtest__other-2", repo="hgmtest/other")
    for key in ("image", "eval_script", "log_parser", "eval_type"):
        del row[key]
    file = tmp_path / "other.json"
    file.write_text(json.dumps([row]))
    if swebench_major() == 4:  # swebench 4 derives the fields, but knows no spec for this repository
        with pytest.raises(ValueError, match="hgmtest__other-2"):
            task_image(make_benchmark("swebench", str(file)), "hgmtest__other-2")
        return
    with pytest.raises(ValueError) as refused:
        make_benchmark("swebench", str(file))
    message = str(refused.value)
    assert "\n" not in message
    assert message.startswith(
        "1 of 1 SWE-bench instances (first: hgmtest__other-2) lack image, eval_script, log_parser, eval_type"
    )
    assert "pip install 'swebench>=4.1,<5'" in message


def test_bad_inputs_get_clear_messages(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="needs a path"):
        make_benchmark("swebench")
    with pytest.raises(ValueError, match="does not exist"):
        make_benchmark("swebench", str(tmp_path / "missing.jsonl"))
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"instance_id": "a"}\n{oops\n')
    with pytest.raises(ValueError, match=r"bad.jsonl:2: not a JSON object"):
        make_benchmark("swebench", str(bad))
    partial = tmp_path / "partial.json"
    partial.write_text('[{"instance_id": "a", "repo": "x/y"}]')
    with pytest.raises(ValueError, match="lacks base_commit, problem_statement"):
        make_benchmark("swebench", str(partial))
    with pytest.raises(ValueError, match="spilt"):
        make_benchmark("swebench", str(partial), spilt="dev")


def test_dataset_names_that_cannot_be_fetched_say_network_is_needed(tmp_path: Path) -> None:
    # A fresh process, because the Hugging Face libraries read their offline switch when first imported.
    code = (
        "from hgm.coding.benchmarks.registry import make_benchmark\n"
        "try:\n    make_benchmark('swebench', 'SWE-bench/SWE-bench_Verified')\n"
        "except ValueError as e:\n    print(e)\n"
    )
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "HF_HOME": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert "could not load the SWE-bench dataset 'SWE-bench/SWE-bench_Verified'" in done.stdout, done.stderr
    assert "needs network access" in done.stdout


@pytest.mark.docker
def test_instance_image_end_to_end_in_docker(dataset: Dataset, tmp_path: Path) -> None:
    from hgm.sandboxes import docker_problem, open_sandbox

    assert docker_problem() is None, "this test needs the Docker engine"
    bench = SWEbenchBenchmark(str(dataset.file))
    image = task_image(bench, INSTANCE_ID)
    assert image is not None
    _stand_in_image(dataset, tmp_path, image)
    try:
        assert task_available(bench, INSTANCE_ID) is None
        workspace = tmp_path / "workspace"
        bench.prepare(INSTANCE_ID, workspace)  # copied out of the image
        assert (workspace / "calc.py").read_text() == CALC
        assert git(workspace, "rev-parse", "HEAD").strip() == dataset.base
        config = SandboxConfig(backend="docker", image=image, workdir=task_workdir(bench, INSTANCE_ID))
        for code, resolved in ((FIXED, True), (WRONG, False)):
            with open_sandbox(config, workspace, mounts=pylib()) as box:
                source = tmp_path / "calc.py"
                source.write_text(code)
                box.copy_in(source, "calc.py")
                graded = score(bench, box, backend="docker", image=image)
            assert graded.error == ""
            assert graded.resolved is resolved, graded.output
    finally:
        _remove_image(image)


def _remove_image(image: str) -> None:
    from hgm.sandboxes.image import docker_client

    client = docker_client()
    try:
        client.images.remove(image, force=True)
    finally:
        client.close()


def _stand_in_image(dataset: Dataset, tmp_path: Path, image: str, **dockerfile_lines: str) -> None:
    """A locally built stand-in for an instance image: the sandbox image with the repository at /testbed, which,
    as in the official images, belongs to root, the user the image runs as."""
    from hgm.sandboxes.image import build_image, docker_client, image_exists

    client = docker_client()
    try:
        if not image_exists(client, SandboxConfig().image):
            build_image(SandboxConfig(), log=lambda line: None)
        context = tmp_path / "context"
        make(dataset).prepare(INSTANCE_ID, context / "testbed")
        (context / "Dockerfile").write_text(
            f"FROM {SandboxConfig().image}\nUSER root\nCOPY testbed {REPO_DIR}\n"
            + "".join(f"{line}\n" for line in dockerfile_lines.values())
        )
        client.images.build(path=str(context), tag=image, rm=True, network_mode="none")
    finally:
        client.close()


@pytest.mark.docker
def test_bench_images_names_what_is_missing_then_finds_it(dataset: Dataset, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from hgm.cli import app

    runner = CliRunner()
    args = ["bench", "images", "--benchmark", "swebench", "--path", str(dataset.file)]
    image = "hgmtest/sweb.eval.x86_64.hgmtest_1776_calc-1:latest"
    missing = runner.invoke(app, [*args, "--subset", str(SUBSETS_DIR / "swebench_example.txt")])
    assert missing.exit_code == 1, missing.output
    assert f"missing: {image}" in missing.output
    assert "needs network access" in missing.output
    if swebench_major() == 5:
        assert "task_repo=" in missing.output  # swebench 5 builds from a task repository
    _stand_in_image(dataset, tmp_path, image)
    try:
        present = runner.invoke(app, args)
        assert present.exit_code == 0, present.output
        assert "all 1 images are present" in present.output
    finally:
        _remove_image(image)


def test_bench_images_of_a_benchmark_without_images_is_explained() -> None:
    from typer.testing import CliRunner

    from hgm.cli import app

    result = CliRunner().invoke(app, ["bench", "images", "--benchmark", "builtin"])
    assert result.exit_code == 2
    assert "the builtin benchmark runs in the sandbox image" in result.output


FAKE_CONDA = (
    "RUN mkdir -p /opt/miniconda3/bin /opt/miniconda3/envs/testbed/bin "
    '&& printf \'conda() { export CONDA_DEFAULT_ENV="$2" CONDA_PREFIX=/opt/miniconda3/envs/$2 '
    "PATH=/opt/miniconda3/envs/$2/bin:$PATH; }\\n' > /opt/miniconda3/bin/activate "
    "&& printf '#!/bin/sh\\necho from testbed\\n' > /opt/miniconda3/envs/testbed/bin/testbed-tool "
    "&& chmod 755 /opt/miniconda3/envs/testbed/bin/testbed-tool"
)


@pytest.mark.docker
def test_agent_sandbox_in_an_instance_image_has_its_environment_active(dataset: Dataset, tmp_path: Path) -> None:
    from hgm.coding.benchmarks import task_environment
    from hgm.sandboxes import open_sandbox

    row = json.loads(dataset.file.read_text())
    image = "hgmtest/sweb.eval.x86_64.hgmtest_1776_calc-1:activated"
    shebang, rest = row["eval_script"].split("\n", 1)
    # As the official eval scripts do: activate the testbed environment, cd to the repository, install into the
    # environment (root's, in a read-only place for the agent) and run the tests; as the harness, as root.
    install = 'echo "$(id -u)" > /opt/miniconda3/envs/testbed/installed-by-eval && [ "$(id -u)" = 0 ] || exit 1'
    rest = rest.replace(": '>>>>> Start Test Output'", f"{install}\n: '>>>>> Start Test Output'")
    row.update(
        image=image, eval_script=f"{shebang}\nsource /opt/miniconda3/bin/activate\nconda activate testbed\n{rest}"
    )
    file = tmp_path / "activated.jsonl"
    file.write_text(json.dumps(row) + "\n")
    _stand_in_image(dataset, tmp_path, image, conda=FAKE_CONDA)
    try:
        bench = SWEbenchBenchmark(str(file))
        env = task_environment(bench, INSTANCE_ID)
        assert env["CONDA_DEFAULT_ENV"] == "testbed"
        assert env["PATH"].startswith("/opt/miniconda3/envs/testbed/bin:")
        assert env["HGM_PYTHON"] == "/usr/bin/python3"  # the agent keeps the interpreter it was written for
        workspace = tmp_path / "workspace"
        bench.prepare(INSTANCE_ID, workspace)
        config = SandboxConfig(backend="docker", image=image, workdir=REPO_DIR)
        with open_sandbox(config, workspace, env=env, mounts=pylib()) as box:
            seen = box.exec("testbed-tool && echo $CONDA_DEFAULT_ENV && id -u && git status --short", timeout=60)
            # The image's own user (root, as in the official images), still confined to its workspace and /tmp.
            assert seen.output.split("\n") == ["from testbed", "testbed", "0", ""]
            confined = box.exec(
                "touch /opt/miniconda3/envs/testbed/by-agent || echo refused; ip link 2>/dev/null "
                "|| cat /proc/net/dev | tail -n +3 | cut -d: -f1",
                timeout=60,
            )
            assert "refused" in confined.output and "eth0" not in confined.output, confined.output
            source = tmp_path / "calc.py"
            source.write_text(FIXED)
            box.copy_in(source, "calc.py")
            graded = score(bench, box, backend="docker", image=image)
        assert (graded.resolved, graded.error) == (True, ""), graded.output
    finally:
        _remove_image(image)


@pytest.mark.docker
@pytest.mark.timeout(1200)
def test_hgm_bench_in_an_instance_image_resolves_the_fix_and_not_the_stub(dataset: Dataset, tmp_path: Path) -> None:
    """The whole `hgm bench` path on an image built like the official ones (root's /testbed, pytest inside it): the
    agent runs as root there, and grading, as the harness's, as root in a fresh container with a writable root."""
    import shutil

    from test_bench_cli import _answering_agent
    from typer.testing import CliRunner

    from hgm.cli import app

    row = json.loads(dataset.file.read_text())
    image = "hgmtest/sweb.eval.x86_64.hgmtest_1776_calc-1:bench"
    row.update(image=image, eval_script=row["eval_script"].replace(PYLIB, "/opt/pylib"))
    file = tmp_path / "bench.jsonl"
    file.write_text(json.dumps(row) + "\n")
    pylib, site = tmp_path / "context" / "pylib", Path(pytest.__file__).resolve().parents[1]
    for name in ("pytest", "_pytest", "pluggy", "iniconfig", "packaging", "pygments"):
        for source in [site / name, *site.glob(f"{name}-*.dist-info")]:
            shutil.copytree(source, pylib / source.name)
    if (site / "py.py").exists():
        shutil.copy(site / "py.py", pylib)
    _stand_in_image(dataset, tmp_path, image, pylib="COPY pylib /opt/pylib")
    try:
        for answers, solved in (({"calc.py": FIXED}, "solved 1/1"), ({}, "solved 0/1")):
            agent = _answering_agent(tmp_path / f"agent-{len(answers)}", answers)
            args = ["bench", str(agent), "--benchmark", "swebench", "--path", str(file), "--sandbox", "docker"]
            result = CliRunner().invoke(app, [*args, "--out", str(tmp_path / f"out-{len(answers)}")])
            assert result.exit_code == 0, result.output
            assert solved in result.output, result.output
        # The seed agent, as root in the image, reaches the gateway through its socket and gets its model's replies.
        out = tmp_path / "out-seed"
        args = ["bench", "seed", "--benchmark", "swebench", "--path", str(file), "--sandbox", "docker", "--json"]
        result = CliRunner().invoke(app, [*args, "--out", str(out)])
        assert result.exit_code == 0, result.output
        assert json.loads(result.output[result.output.index("{") :])["tasks"][0]["outcome"] == "failed"
        trajectory = (out / "nodes/0/evals" / INSTANCE_ID / "trajectory.json").read_text()
        assert "this scripted model only knows the built-in benchmark's tasks" in trajectory
    finally:
        _remove_image(image)
