"""Hidden Python unittest suites run so that the code under test can neither read them nor forge their verdict.

The runner and the test sources travel in one payload file that the runner deletes before it imports anything of
the workspace: the tests then exist only in the runner's memory, compiled from strings (no file, no linecache
entry), so a solution cannot open or `inspect` them. Results leave on stdout as lines tagged with a random value
that was only in the deleted payload, one per test, then a closing line; the host requires every test it found in
the sources itself (by parsing them, not by asking the runner) to be reported as passed. A solution that exits
early, skips tests or prints a made-up summary is therefore a failure. What remains possible is stated in the
README's threat model: the code under test runs in the test process and could, with effort, dig the tag out of
the runner's memory or patch the test framework (a patched `unittest.TestCase` is detected and fails the run).
"""

from __future__ import annotations

import ast
import json
import posixpath
import secrets
import shlex
import tempfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from hgm.coding.benchmarks.base import Score, TestCase
from hgm.coding.evidence import clip, redact
from hgm.interfaces import Sandbox

MESSAGE_LIMIT = 2_000

RUNNER = r"""
import os, sys


def _main(payload_path, runner_path):
    import json, types
    with open(payload_path, "rb") as f:
        payload = json.loads(f.read())
    os.unlink(payload_path)
    os.unlink(runner_path)
    os.rmdir(os.path.dirname(payload_path))
    tag, workspace, limit, modules = payload["tag"], payload["workspace"], payload["limit"], payload["modules"]
    del payload
    out = os.dup(1)
    here = os.path.dirname(runner_path)
    sys.path[:] = [p for p in sys.path if p not in ("", ".", os.getcwd(), here)] + [workspace]
    os.chdir(workspace)
    import traceback, unittest

    def emit(event):
        os.write(out, ("\n" + tag + " " + json.dumps(event) + "\n").encode())

    def message(err):
        return "".join(traceback.format_exception_only(err[0], err[1])).strip()[:limit]

    class Result(unittest.TestResult):
        def addSuccess(self, test):
            super().addSuccess(test)
            emit({"test": test.id(), "outcome": "passed"})

        def addFailure(self, test, err):
            super().addFailure(test, err)
            emit({"test": test.id(), "outcome": "failed", "message": message(err)})

        def addError(self, test, err):
            super().addError(test, err)
            emit({"test": getattr(test, "id", lambda: str(test))(), "outcome": "error", "message": message(err)})

        def addSkip(self, test, reason):
            super().addSkip(test, reason)
            emit({"test": test.id(), "outcome": "skipped", "message": str(reason)[:limit]})

        def addExpectedFailure(self, test, err):
            super().addExpectedFailure(test, err)
            emit({"test": test.id(), "outcome": "failed", "message": "expected failure"})

        def addUnexpectedSuccess(self, test):
            super().addUnexpectedSuccess(test)
            emit({"test": test.id(), "outcome": "failed", "message": "unexpected success"})

        def addSubTest(self, test, subtest, err):
            super().addSubTest(test, subtest, err)
            if err is not None:
                outcome = "failed" if issubclass(err[0], test.failureException) else "error"
                emit({"test": test.id(), "outcome": outcome, "message": message(err)})

    framework = [unittest.TestCase, unittest.TestResult, unittest.TestSuite, unittest.TestLoader, Result]
    snapshot = [dict(vars(cls)) for cls in framework]
    suite = unittest.TestSuite()
    for name, source in modules.items():
        module = types.ModuleType(name)
        module.__file__ = "<hidden>/" + name.replace(".", "/") + ".py"
        sys.modules[name] = module
        try:
            exec(compile(source, module.__file__, "exec", dont_inherit=True), module.__dict__)
        except BaseException as exc:
            emit({"module": name, "outcome": "error", "message": message((type(exc), exc))})
            continue
        suite.addTests(unittest.defaultTestLoader.loadTestsFromModule(module))
    del modules
    result = Result()
    suite.run(result)
    patched = sorted(
        f"{cls.__name__}.{key}"
        for cls, before in zip(framework, snapshot)
        for key in set(before) | set(vars(cls))
        if vars(cls).get(key) is not before.get(key)
    )
    emit({"done": True, "run": result.testsRun, "patched": patched})


_main(sys.argv[1], os.path.abspath(__file__))
"""


@dataclass(frozen=True)
class Plan:
    """One run of hidden tests: the payload to place in the sandbox and what the host expects back."""

    payload: bytes
    runner: str
    tag: str
    expected: tuple[str, ...]


def module_name(path: str) -> str:
    """`pkg/test_x.py` -> `pkg.test_x`."""
    return PurePosixPath(path).with_suffix("").as_posix().replace("/", ".")


def expected_tests(modules: dict[str, str]) -> list[str]:
    """Ids (`module.Class.test_method`) of the tests the sources define, found by parsing them on the host."""
    found = []
    for name, source in modules.items():
        tree = ast.parse(source)
        for node in tree.body:
            if isinstance(node, ast.ClassDef):
                for item in node.body:
                    if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef) and item.name.startswith("test"):
                        found.append(f"{name}.{node.name}.{item.name}")
    return found


def plan(tests: dict[str, str], workspace: str) -> Plan:
    """A run of the hidden test files `tests` ({relative path: source}) against the code in `workspace`."""
    modules = {module_name(path): source for path, source in sorted(tests.items()) if path.endswith(".py")}
    tag = "HGM-" + secrets.token_hex(16)
    payload = {"tag": tag, "workspace": workspace, "limit": MESSAGE_LIMIT, "modules": modules}
    return Plan(json.dumps(payload).encode(), RUNNER, tag, tuple(expected_tests(modules)))


@dataclass
class Verdict:
    """What the host concluded from a run's output."""

    passed: bool
    tests: list[TestCase]
    reason: str


def verdict(run: Plan, output: str) -> Verdict:
    """Judge a run by its tagged lines: every expected test passed, nothing failed, and the run reached its end."""
    outcomes: dict[str, TestCase] = {}
    done: dict[str, Any] | None = None
    for line in output.splitlines():
        if not line.startswith(run.tag + " "):
            continue
        try:
            event = json.loads(line[len(run.tag) + 1 :])
        except ValueError:
            continue
        if not isinstance(event, dict):
            continue
        if event.get("done") is True:
            done = event
            continue
        name = str(event.get("test") or event.get("module") or "?")
        outcome = str(event.get("outcome"))
        message = str(event.get("message") or "")[:MESSAGE_LIMIT]
        # A test that failed in one sub-test stays failed whatever is reported later.
        if outcomes.get(name) is None or outcomes[name].outcome == "passed":
            outcomes[name] = TestCase(name, outcome if outcome in OUTCOMES else "error", message)
    for name in run.expected:
        outcomes.setdefault(name, TestCase(name, "missing", "the test did not report a result"))
    tests = sorted(outcomes.values(), key=lambda t: t.name)
    bad = [t for t in tests if t.outcome != "passed"]
    if done is None:
        reason = "the test run ended before reporting all results (the code under test exited or crashed it)"
    elif done.get("patched"):
        reason = f"the code under test modified the test framework ({', '.join(map(str, done['patched']))})"
    elif not run.expected:
        reason = "the hidden tests define no test"
    elif bad:
        reason = f"{len(bad)} of {len(tests)} hidden tests did not pass"
    else:
        return Verdict(True, tests, f"all {len(tests)} hidden tests passed")
    return Verdict(False, tests, reason)


def run(sandbox: Sandbox, tests: dict[str, str], timeout: float, python: str = "python3") -> Score:
    """Run hidden unittest files ({relative path: source}) against the sandbox's workspace; resolved iff all pass."""
    run_plan = plan(tests, sandbox.workdir)
    scratch = f".hgm-grade-{secrets.token_hex(8)}"
    with tempfile.TemporaryDirectory(prefix="hgm-unittest-") as tmp:
        stage = Path(tmp, "stage")
        stage.mkdir()
        (stage / "payload.json").write_bytes(run_plan.payload)
        (stage / "runner.py").write_text(run_plan.runner, encoding="utf-8")
        sandbox.copy_in(stage, scratch)
    where = posixpath.join(sandbox.workdir, scratch)
    # -I -S -B: no environment, user site or site hooks (a planted sitecustomize.py is never imported), no .pyc.
    argv = [python, "-I", "-S", "-B", f"{where}/runner.py", f"{where}/payload.json"]
    result = sandbox.exec(shlex.join(argv), timeout=timeout)
    output = clip(redact(result.output, tests.values()), OUTPUT_LIMIT)
    if result.returncode in (126, 127) and run_plan.tag not in result.output:
        return Score(False, output, error=f"could not start {python} in the grading sandbox", reason="no Python")
    judged = verdict(run_plan, result.output)
    if result.timed_out:
        return Score(False, output, reason=f"the hidden tests timed out after {timeout:g}s", tests=judged.tests)
    return Score(judged.passed, output, reason=judged.reason, tests=judged.tests)


OUTPUT_LIMIT = 20_000
OUTCOMES = ("passed", "failed", "error", "skipped", "missing")
