"""Per Polyglot language: the size of a sandbox with its toolchain, the time to build it offline from Debian's
archive (debootstrap, apt-get, docker import and build), and the time to grade one exercise in it; prints a table.

Each language's root filesystem and image hold python3 and git plus that language's packages, built from scratch in a
temporary cache (so nothing cached is reused; the Debian mirror must answer). Evaluation = grading the example
solution of the language's test exercise (tests/coding/fixtures/polyglot) in a fresh sandbox, median of --runs.

Run (as root): .venv/bin/python benchmarks/toolchain_images.py [--languages python,go] [--runs 3] [--no-docker]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from hgm.coding.benchmarks.polyglot import PolyglotBenchmark
from hgm.coding.grading import SandboxGrader, grade
from hgm.sandboxes import SandboxConfig, open_sandbox
from hgm.sandboxes.image import build_image, docker_client, offline_base
from hgm.sandboxes.rootfs import TOOLCHAINS, ensure_rootfs

FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "coding" / "fixtures" / "polyglot"
TASKS = {
    "python": "python/running-total",
    "javascript": "javascript/pair-sums",
    "go": "go/reverse-words",
    "rust": "rust/digit-sum",
    "cpp": "cpp/clamp-range",
    "java": "java/vowel-tally",
}


def _size(path: Path) -> int:
    out = subprocess.run(["du", "-sb", str(path)], capture_output=True, text=True, check=True).stdout
    return int(out.split()[0])


def _evaluate(config: SandboxConfig, task: str, runs: int) -> float:
    """Median seconds to grade the example solution of `task` (agent sandbox, export, fresh grading sandbox)."""
    polyglot = PolyglotBenchmark(str(FIXTURES))
    polyglot.use_sandbox(config)
    samples = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as tmp:
            workspace = Path(tmp) / "ws"
            polyglot.prepare(task, workspace)
            for rel, text in polyglot.solution(task).items():
                (workspace / rel).write_text(text)
            start = time.perf_counter()
            with open_sandbox(config, workspace) as box:
                score = grade(polyglot, task, box, SandboxGrader(config))
            samples.append(time.perf_counter() - start)
        if not score.resolved:
            raise SystemExit(f"{task}: the example solution did not pass in {config.backend}:\n{score.output}")
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--languages", default=",".join(TOOLCHAINS))
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-docker", action="store_true")
    args = parser.parse_args()
    table = Table("language", "packages", "rootfs", "build rootfs", "image", "build image", "eval bwrap", "eval docker")
    console = Console()
    for language in args.languages.split(","):
        with tempfile.TemporaryDirectory(prefix="hgm-measure-") as cache:
            rootfs = Path(cache) / "rootfs"
            start = time.perf_counter()
            ensure_rootfs(rootfs, log=lambda line: None, toolchains=(language,))
            rootfs_s = time.perf_counter() - start
            bwrap_s = _evaluate(SandboxConfig(backend="bwrap", rootfs=str(rootfs)), TASKS[language], args.runs)
            image_size, image_s, docker_s = "-", "-", "-"
            if not args.no_docker:
                tag = f"hgm-sandbox:measure-{language}"
                start = time.perf_counter()
                build_image(
                    SandboxConfig(image=tag),
                    offline=True,
                    rootfs_dir=rootfs,
                    log=lambda line: None,
                    toolchains=(language,),
                )
                image_s = f"{time.perf_counter() - start:.0f} s"
                client = docker_client()
                try:
                    image_size = f"{client.images.get(tag).attrs['Size'] / 1e6:.0f} MB"
                    docker_s = (
                        f"{_evaluate(SandboxConfig(backend='docker', image=tag), TASKS[language], args.runs):.1f} s"
                    )
                    client.images.remove(tag)
                    if language != "python":
                        client.images.remove(offline_base(("python", language)))
                finally:
                    client.close()
            row = (
                language,
                " ".join(TOOLCHAINS[language]) or "(python3, git)",
                f"{_size(rootfs) / 1e6:.0f} MB",
                f"{rootfs_s:.0f} s",
                image_size,
                image_s,
                f"{bwrap_s:.1f} s",
                docker_s,
            )
            table.add_row(*row)
            console.print(" | ".join(row), highlight=False)
    console.print(table)


if __name__ == "__main__":
    main()
