"""Check every built-in task: its starter must fail its hidden tests, its reference solution must pass.

Usage: python benchmarks/builtin/verify.py [TASK ...] [--jobs N]
Prints one row per task with both verdicts and the seconds scoring took; exits 1 if any task is broken.
Scoring runs in plain temporary directories (no isolation): use it on these trusted files only.
"""

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from hgm.coding.benchmarks.builtin import BuiltinBenchmark  # noqa: E402
from hgm.interfaces import ExecResult  # noqa: E402


class TempDirSandbox:
    """The Sandbox protocol over a temporary directory, enough to score trusted reference files."""

    def __init__(self, workdir):
        self.workdir = str(workdir)

    def exec(self, cmd, timeout, env=None):
        try:
            done = subprocess.run(cmd, shell=True, cwd=self.workdir, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            return ExecResult("", -9, timed_out=True)
        return ExecResult(done.stdout + done.stderr, done.returncode)

    def copy_in(self, src, dest):
        target = Path(self.workdir, dest)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, target)

    def copy_out(self, src, dest):
        shutil.copy2(Path(self.workdir, src), dest)

    def close(self):
        pass


def check(bench, task, scratch):
    """(starter resolved, solution resolved, seconds) for one task."""
    started = time.perf_counter()
    verdicts = []
    for kind in ("starter", "solution"):
        workspace = Path(tempfile.mkdtemp(dir=scratch))
        bench.prepare(task, workspace)
        if kind == "solution":
            for rel, text in bench.solution(task).items():
                (workspace / rel).parent.mkdir(parents=True, exist_ok=True)
                (workspace / rel).write_text(text)
        score = bench.score(task, TempDirSandbox(workspace))
        verdicts.append("ERROR: " + score.error if score.error else score.resolved)
    return verdicts[0], verdicts[1], time.perf_counter() - started


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tasks", nargs="*")
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        bench = BuiltinBenchmark(python=sys.executable)
        tasks = args.tasks or bench.tasks()
        with ThreadPoolExecutor(args.jobs) as pool:
            rows = list(pool.map(lambda t: (t, *check(bench, t, scratch)), tasks))
    broken = 0
    print(f"{'task':28} {'difficulty':10} {'starter':8} {'solution':8} {'seconds':>8}")
    for task, starter, solution, seconds in rows:
        ok = starter is False and solution is True
        broken += not ok
        flag = "" if ok else "  BROKEN"
        print(f"{task:28} {bench.info(task).difficulty:10} {str(starter):8} {str(solution):8} {seconds:8.2f}{flag}")
    print(f"{len(rows)} tasks, {broken} broken, {sum(r[3] for r in rows):.1f} s of scoring")
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
