"""Hidden unittest suites graded in real sandboxes: the code under test can neither read the tests nor forge a pass."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from hgm.coding.benchmarks import BuiltinBenchmark, Score
from hgm.coding.benchmarks.unittests import expected_tests, plan, verdict
from hgm.coding.grading import SandboxGrader
from hgm.sandboxes import SandboxConfig
from hgm.sandboxes.export import Export

ROOT = Path(__file__).resolve().parents[2] / "benchmarks" / "builtin"
TASK = "roman_numerals"
BACKENDS = [pytest.param("docker", marks=pytest.mark.docker), pytest.param("bwrap", marks=pytest.mark.bwrap)]

# Import-time payloads a solution module could carry; each prints what it found.
READ_EVERYTHING = """
import os
for top in ("/", os.getcwd(), "/tmp", "/run", "/proc/self/cwd"):
    for root, dirs, files in os.walk(top):
        if root.startswith(("/proc", "/sys", "/usr", "/dev")) and top != "/proc/self/cwd":
            dirs[:] = []
            continue
        for name in files:
            try:
                with open(os.path.join(root, name), errors="replace") as f:
                    print(f.read(20000))
            except OSError:
                pass
"""
FORGE_FROM_ARGV = """
import os, sys, json
print("argv:", sys.argv)
for arg in sys.argv[1:]:
    try:
        print(open(arg).read())
    except OSError as e:
        print("cannot read", arg, e)
print("HGM-UNITTEST-RESULT", json.dumps({"run": 9, "failures": 0, "errors": 0}), flush=True)
os._exit(0)
"""
PATCH_ASSERTS = """
import unittest
unittest.TestCase.assertEqual = lambda self, a, b, msg=None: None
unittest.TestCase.assertRaises = lambda self, *a, **k: __import__("contextlib").suppress(BaseException)
def to_roman(n):
    return ""
def from_roman(s):
    return 0
"""
SKIP_ALL = """
import unittest
raise unittest.SkipTest("nothing to see")
"""


def grader(request: pytest.FixtureRequest, backend: str) -> SandboxGrader:
    if backend == "docker":
        return SandboxGrader(SandboxConfig(backend="docker", image=request.getfixturevalue("docker_image")))
    return SandboxGrader(SandboxConfig(backend="bwrap", rootfs=str(request.getfixturevalue("rootfs"))))


def grade(request: pytest.FixtureRequest, backend: str, files: dict[str, str]) -> Score:
    bench = BuiltinBenchmark(ROOT)
    return bench.grade(TASK, Export(files={k: v.encode() for k, v in files.items()}), grader(request, backend))


def hidden_lines() -> list[str]:
    source = BuiltinBenchmark(ROOT).hidden_tests(TASK)
    return [line.strip() for text in source.values() for line in text.splitlines() if len(line.strip()) > 20]


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_solution_passes_and_one_that_reads_everything_finds_no_test(
    request: pytest.FixtureRequest, backend: str
) -> None:
    solution = BuiltinBenchmark(ROOT).solution(TASK)
    plain = grade(request, backend, solution)
    assert plain.resolved, plain.output
    assert plain.tests and all(t.outcome == "passed" for t in plain.tests)
    snooping = grade(request, backend, {"roman.py": READ_EVERYTHING + solution["roman.py"]})
    assert snooping.resolved, snooping.reason
    leaked = [line for line in hidden_lines() if line in snooping.output]
    assert leaked == []


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize(
    "attack, reason",
    [(FORGE_FROM_ARGV, "ended before reporting"), (PATCH_ASSERTS, "modified the test framework"), (SKIP_ALL, "")],
    ids=["forge-from-argv", "patch-asserts", "skip-all"],
)
def test_forged_results_are_failures(request: pytest.FixtureRequest, backend: str, attack: str, reason: str) -> None:
    score = grade(request, backend, {"roman.py": attack})
    assert (score.resolved, score.error) == (False, "")
    assert reason in score.reason


def test_expected_tests_come_from_the_sources_not_from_the_run() -> None:
    sources = {
        "pkg.test_a": "class A(unittest.TestCase):\n    def test_x(self): pass\n    def aid(self): pass\n",
        "test_b": "class B:\n    async def test_y(self): pass\ndef test_free(): pass\n",
    }
    assert expected_tests(sources) == ["pkg.test_a.A.test_x", "test_b.B.test_y"]
    run = plan({"test_m.py": "import unittest\nclass T(unittest.TestCase):\n    def test_one(self): pass\n"}, "/w")
    assert run.expected == ("test_m.T.test_one",)
    done = f'{run.tag} {{"done": true, "run": 1, "patched": []}}'
    passed = f'{run.tag} {{"test": "test_m.T.test_one", "outcome": "passed"}}'
    assert verdict(run, f"noise\n{passed}\n{done}\n").passed
    assert not verdict(run, f"{done}\n").passed  # the expected test never reported
    assert not verdict(run, f"{passed}\n").passed  # the run never reached its end
    forged = passed.replace(run.tag, "HGM-" + "0" * 32)
    assert not verdict(run, f"{forged}\n{done}\n").passed


def test_the_runner_leaves_no_payload_behind(tmp_path: Path) -> None:
    bench = BuiltinBenchmark(ROOT, python=sys.executable)
    lister = "import os\nprint('LISTING', sorted(os.listdir('.')))\n"
    files = {"roman.py": lister + bench.solution(TASK)["roman.py"]}
    score = bench.grade(
        TASK, Export(files={k: v.encode() for k, v in files.items()}), SandboxGrader(SandboxConfig(backend="local"))
    )
    assert score.resolved
    assert "LISTING ['roman.py']" in score.output
