"""All six Polyglot languages scored in real docker and bwrap sandboxes holding their toolchains from Debian."""

from __future__ import annotations

from pathlib import Path

import pytest

from hgm.coding.benchmarks import Score, TestCase
from hgm.coding.benchmarks.polyglot import FEEDBACK_LIMIT, PolyglotBenchmark, failure_report, sandbox_toolchains
from hgm.coding.benchmarks.registry import subset_path
from hgm.coding.grading import SandboxGrader, grade
from hgm.sandboxes import SandboxConfig, open_sandbox

# The first test on a machine builds the toolchains' root filesystem and image from Debian's archive (minutes).
pytestmark = pytest.mark.timeout(1800)

ROOT = Path(__file__).parent / "fixtures" / "polyglot"
TASKS = {
    "python": "python/running-total",
    "javascript": "javascript/pair-sums",
    "go": "go/reverse-words",
    "rust": "rust/digit-sum",
    "cpp": "cpp/clamp-range",
    "java": "java/vowel-tally",
}
# A test each stub must be reported failing by name; most are ones Exercism skips for learners and graders run.
STUB_FAILS = {
    "python": "running_total_test.RunningTotalTest.test_several",
    "javascript": "countPairs > two pairs among four numbers",
    "go": "TestReverseCases/extra_spaces",
    "rust": "several_digits_add_up",
    "cpp": "swapped bounds still clamp",
    "java": "VowelTallyTest.nullIsRejected()",
}


@pytest.fixture(
    params=[pytest.param("docker", marks=pytest.mark.docker), pytest.param("bwrap", marks=pytest.mark.bwrap)]
)
def toolchain_config(request: pytest.FixtureRequest) -> SandboxConfig:
    """Sandboxes with all six toolchains: the offline-built image, or its root filesystem under bwrap."""
    if request.param == "docker":
        return SandboxConfig(backend="docker", image=request.getfixturevalue("toolchain_image"))
    return SandboxConfig(backend="bwrap", rootfs=str(request.getfixturevalue("toolchain_rootfs")))


def attempt(
    polyglot: PolyglotBenchmark, task: str, config: SandboxConfig, tmp_path: Path, files: dict[str, str]
) -> Score:
    """A scripted agent writes `files` in its sandbox; the submission is graded in a fresh one, as in a run."""
    workspace = tmp_path / "ws"
    polyglot.prepare(task, workspace)
    with open_sandbox(config, workspace) as box:
        for rel, text in files.items():
            source = tmp_path / "agent-file"
            source.write_text(text)
            box.copy_in(source, rel)
        return grade(polyglot, task, box, SandboxGrader(config))


@pytest.mark.parametrize("language", list(TASKS))
def test_the_example_passes_and_the_stub_fails(language: str, toolchain_config: SandboxConfig, tmp_path: Path) -> None:
    polyglot = PolyglotBenchmark(str(ROOT))
    polyglot.use_sandbox(toolchain_config)
    task = TASKS[language]
    assert polyglot.available(task) is None
    solved = attempt(polyglot, task, toolchain_config, tmp_path / "solved", polyglot.solution(task))
    assert (solved.resolved, solved.error) == (True, ""), solved.output
    assert [t for t in solved.tests if t.outcome != "passed"] == []
    stub = attempt(polyglot, task, toolchain_config, tmp_path / "stub", {})
    assert (stub.resolved, stub.error) == (False, ""), stub.output
    failed = {t.name: t for t in stub.tests if t.outcome != "passed"}
    assert STUB_FAILS[language] in failed, stub.output
    feedback = polyglot.feedback(task, stub)
    assert feedback.index(STUB_FAILS[language]) < feedback.index("Fix the code in")


def test_toolchains_are_found_in_the_sandbox(toolchain_rootfs: Path, rootfs: Path) -> None:
    full = SandboxConfig(backend="bwrap", rootfs=str(toolchain_rootfs))
    assert sorted(sandbox_toolchains(full)) == sorted(TASKS)
    python_only = SandboxConfig(backend="bwrap", rootfs=str(rootfs))
    assert sandbox_toolchains(python_only) == ["python"]
    polyglot = PolyglotBenchmark(str(ROOT))
    polyglot.use_sandbox(python_only)
    assert polyglot.available("python/running-total") is None
    assert polyglot.available("rust/digit-sum") == (
        "no Rust toolchain in the sandbox (toolchains: python); "
        "build one with `hgm sandbox build --toolchains python,rust`"
    )


def test_forcing_a_toolchain_the_sandbox_lacks_is_refused(rootfs: Path) -> None:
    polyglot = PolyglotBenchmark(str(ROOT), toolchains=["python", "go", "java"])
    with pytest.raises(ValueError) as refused:
        polyglot.use_sandbox(SandboxConfig(backend="bwrap", rootfs=str(rootfs)))
    assert str(refused.value) == (
        "the toolchains option names go, java, but the bwrap sandbox has no Go, Java toolchain (found: python); "
        "build one with `hgm sandbox build --toolchains python,go,java`"
    )


def test_feedback_puts_failed_tests_first_within_the_limit() -> None:
    log = "compiling...\n" * 2000 + "the end of the log\n"
    tests = [TestCase(f"test_{i}", "failed", f"expected {i} got {i + 1}") for i in range(3)]
    text = failure_report(Score(False, log, reason="3 tests failed", tests=tests), FEEDBACK_LIMIT)
    assert text.startswith("resolved: no (3 tests failed)\n3 failed tests:\n- test_0\n  expected 0 got 1\n- test_1")
    assert "the end of the log" in text
    assert len(text) <= FEEDBACK_LIMIT
    many = [TestCase(f"test_{i}", "failed", "x" * 500) for i in range(100)]
    cut = failure_report(Score(False, log, tests=many), FEEDBACK_LIMIT)
    assert len(cut) <= FEEDBACK_LIMIT and cut.endswith(f"[... cut at {FEEDBACK_LIMIT} characters ...]")
    assert "compiling" not in cut


def test_named_subsets_of_the_published_runs() -> None:
    small = [x for x in subset_path("dgm-small").read_text().splitlines() if x and not x.startswith("#")]
    assert len(set(small)) == 10 and small[0] == "go/dominoes"
    medium = [x for x in subset_path("dgm-medium").read_text().splitlines() if x and not x.startswith("#")]
    assert len(set(medium)) == 50 and set(small) & set(medium) == {"python/dominoes"}
    assert {x.split("/")[0] for x in small + medium} == set(TASKS)
    swe = [x for x in subset_path("swe-verified-60").read_text().splitlines() if x and not x.startswith("#")]
    assert len(set(swe)) == 60 and swe[0] == "django__django-10973"


EARLY_EXIT = {
    "javascript": {"pair-sums.js": "process.exit(0);\nexport const countPairs = () => 0;\n"},
    "go": {
        "reverse_words.go": 'package reversewords\n\nimport "os"\n\nfunc init() { os.Exit(0) }\n\n'
        "func Reverse(s string) string { return s }\n"
    },
    "rust": {
        "src/lib.rs": "pub fn digit_sum(_: u64) -> u64 { std::process::exit(0) }\n"
        "pub fn digital_root(_: u64) -> u64 { std::process::exit(0) }\n"
    },
    "cpp": {
        "clamp_range.cpp": '#include "clamp_range.h"\n#include <cstdlib>\n\n'
        "namespace clamp_range {\nint clamp(int, int, int) { std::exit(0); }\n}\n"
    },
    "java": {
        "src/main/java/VowelTally.java": "class VowelTally {\n    static { System.exit(0); }\n"
        "    static int count(String text) { return 0; }\n}\n"
    },
}


@pytest.mark.parametrize("language", list(EARLY_EXIT))
def test_code_that_exits_early_with_status_0_does_not_pass(language: str, toolchain_rootfs: Path, tmp_path: Path):
    config = SandboxConfig(backend="bwrap", rootfs=str(toolchain_rootfs))
    polyglot = PolyglotBenchmark(str(ROOT))
    polyglot.use_sandbox(config)
    graded = attempt(polyglot, TASKS[language], config, tmp_path, EARLY_EXIT[language])
    assert (graded.resolved, graded.error) == (False, ""), graded.output
