"""Check every built-in task: its starter must fail its hidden tests, its reference solution must pass.

Usage: python benchmarks/builtin/verify.py [TASK ...] [--jobs N]
Prints one row per task with both verdicts and the seconds scoring took; exits 1 if any task is broken.
Grading uses the local backend (no isolation): use it on these trusted files only.
"""

import argparse
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from hgm.coding.benchmarks.builtin import BuiltinBenchmark  # noqa: E402
from hgm.coding.grading import SandboxGrader  # noqa: E402
from hgm.sandboxes import SandboxConfig  # noqa: E402
from hgm.sandboxes.export import Export  # noqa: E402

GRADER = SandboxGrader(SandboxConfig(backend="local"))


def check(bench, task):
    """(starter resolved, solution resolved, seconds) for one task."""
    started = time.perf_counter()
    verdicts = []
    for files in ({}, bench.solution(task)):
        score = bench.grade(task, Export(files={rel: text.encode() for rel, text in files.items()}), GRADER)
        verdicts.append("ERROR: " + score.error if score.error else score.resolved)
    return verdicts[0], verdicts[1], time.perf_counter() - started


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tasks", nargs="*")
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    bench = BuiltinBenchmark(python=sys.executable)
    tasks = args.tasks or bench.tasks()
    with ThreadPoolExecutor(args.jobs) as pool:
        rows = list(pool.map(lambda t: (t, *check(bench, t)), tasks))
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
