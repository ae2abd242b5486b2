"""`hgm bench` reports what happened to every task, also when interrupted or when nothing could be measured."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from runwatch import wait_until_done
from typer.testing import CliRunner

from hgm.cli import app

runner = CliRunner()
POLYGLOT = Path(__file__).parent / "coding" / "fixtures" / "polyglot"
SIX = "roman_numerals,chunking,word_frequency,run_length,caesar_cipher,slugify"


def _bench(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["bench", "seed", "--sandbox", "bwrap", *args])
    return result.exit_code, result.output


def test_an_interrupted_bench_still_prints_its_json(tmp_path: Path, rootfs: Path):
    out = tmp_path / "bench"
    args = ["bench", "seed", "--sandbox", "bwrap", "--tasks", SIX, "--workers", "1", "--json", "--out", str(out)]
    proc = subprocess.Popen(
        [sys.executable, "-m", "hgm.cli", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    wait_until_done(out, proc, 1)
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 130, stderr
    report = json.loads(stdout)
    assert report["stopped"].startswith("interrupted by SIGINT")
    outcomes = {row["task"]: row["outcome"] for row in report["tasks"]}
    assert set(outcomes) == set(SIX.split(","))
    assert sum(o in ("solved", "failed") for o in outcomes.values()) >= 1
    assert "not run" in outcomes.values()


def test_a_timed_out_task_says_so(tmp_path: Path, rootfs: Path):
    code, output = _bench(
        "--tasks", "roman_numerals", "--json", "--out", str(tmp_path / "b"), "--set", "coding.agent_timeout=0.01"
    )
    assert code == 0, output
    row = json.loads(output)["tasks"][0]
    assert row["outcome"] == "timed out" and "timed out" in row["detail"] and row["resolved"] is False


def test_bench_ends_with_its_own_summary_not_the_search_engine_s(tmp_path: Path, rootfs: Path):
    code, output = _bench("--tasks", "roman_numerals,chunking", "--out", str(tmp_path / "b"))
    assert code == 0, output
    assert "solved 1/2" in output
    assert "none has a success to expand" not in output and "hgm resume" not in output


def test_forcing_a_toolchain_the_sandbox_lacks_exits_2_with_one_line(tmp_path: Path, rootfs: Path):
    options = "coding.benchmark_options={languages: [go], toolchains: [go]}"
    out = tmp_path / "b"
    args = ["--benchmark", "polyglot", "--path", str(POLYGLOT), "--set", options, "--out", str(out)]
    result = runner.invoke(
        app, ["bench", "seed", "--sandbox", "bwrap", "--set", f"coding.sandbox.rootfs={rootfs}", *args]
    )
    assert result.exit_code == 2, result.output
    assert "the toolchains option names go, but the bwrap sandbox has no Go toolchain (found: python)" in result.output
    assert "hgm sandbox build --toolchains python,go" in result.output
    assert not out.exists()


def _answering_agent(dest: Path, answers: dict[str, str]) -> Path:
    """An agent that overwrites whichever of the `answers` files its workspace has (a stand-in for a perfect model)."""
    package = dest / "agent_seed"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "__main__.py").write_text(
        "import argparse, json, os\n"
        f"ANSWERS = {answers!r}\n"
        "p = argparse.ArgumentParser()\n"
        "for flag in ('--task', '--workdir', '--trajectory'):\n"
        "    p.add_argument(flag)\n"
        "args = p.parse_args()\n"
        "for rel, text in ANSWERS.items():\n"
        "    path = os.path.join(args.workdir, rel)\n"
        "    if os.path.isfile(path):\n"
        "        with open(path, 'w') as f:\n"
        "            f.write(text)\n"
        "with open(args.trajectory, 'w') as f:\n"
        "    json.dump([], f)\n"
    )
    return dest


@pytest.mark.timeout(1800)  # may build the toolchains' root filesystem first
def test_bench_runs_every_polyglot_language_on_a_toolchain_root_filesystem(tmp_path: Path, toolchain_rootfs: Path):
    from hgm.archive import Archive
    from hgm.coding.benchmarks.polyglot import PolyglotBenchmark

    polyglot = PolyglotBenchmark(str(POLYGLOT))
    answers = {rel: text for task in polyglot.tasks() for rel, text in polyglot.solution(task).items()}
    agent = _answering_agent(tmp_path / "agent", answers)
    out = tmp_path / "b"
    args = ["--benchmark", "polyglot", "--path", str(POLYGLOT), "--set", f"coding.sandbox.rootfs={toolchain_rootfs}"]
    result = runner.invoke(app, ["bench", str(agent), "--sandbox", "bwrap", *args, "--json", "--out", str(out)])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output[result.output.index("{") :])
    assert report["unavailable"] == {}
    assert {row["task"].split("/")[0] for row in report["tasks"]} == {
        "python",
        "javascript",
        "go",
        "rust",
        "cpp",
        "java",
    }
    assert [row["task"] for row in report["tasks"] if row["outcome"] != "solved"] == []
    assert (report["solved"], report["evaluated"]) == (7, 7)
    with Archive(out) as archive:
        stops = [data["reason"] for _, kind, data in archive.events() if kind == "stop"]
    assert stops == ["every task was tried"]


@pytest.mark.timeout(1800)  # may build the toolchains' root filesystem first
def test_bench_with_the_dgm_small_subset_runs_all_ten_with_none_unavailable(tmp_path: Path, toolchain_rootfs: Path):
    """The real checkout cannot be fetched here, so each of the ten ids is a copy of this suite's exercise of the
    same language under the published exercise's name: what is shown is that the named subset selects ten tasks in
    five languages and that every one of them runs and is graded on a root filesystem with all toolchains."""
    import shutil

    from hgm.coding.benchmarks.polyglot import PolyglotBenchmark
    from hgm.coding.benchmarks.registry import subset_path

    ours = {"python": "running-total", "javascript": "pair-sums", "go": "reverse-words", "rust": "digit-sum"}
    ours |= {"cpp": "clamp-range", "java": "vowel-tally"}
    ids = [x for x in subset_path("dgm-small").read_text().splitlines() if x and not x.startswith("#")]
    checkout = tmp_path / "polyglot-benchmark"
    for task in ids:
        language, name = task.split("/")
        source = POLYGLOT / language / "exercises" / "practice" / ours[language]
        dest = checkout / language / "exercises" / "practice" / name
        shutil.copytree(source, dest)
        if language == "cpp":  # its CMakeLists.txt builds the files named after the exercise's directory
            for file in [f for f in dest.rglob("*") if f.is_file()]:
                renamed = file.with_name(file.name.replace("clamp_range", name.replace("-", "_")))
                text = file.read_text().replace("clamp_range", name.replace("-", "_"))
                file.unlink()
                renamed.write_text(text)
    polyglot = PolyglotBenchmark(str(checkout))
    answers = {rel: text for task in ids for rel, text in polyglot.solution(task).items()}
    agent = _answering_agent(tmp_path / "agent", answers)
    args = ["--benchmark", "polyglot", "--path", str(checkout), "--subset", "dgm-small"]
    args += ["--set", f"coding.sandbox.rootfs={toolchain_rootfs}", "--out", str(tmp_path / "b")]
    result = runner.invoke(app, ["bench", str(agent), "--sandbox", "bwrap", *args])
    assert result.exit_code == 0, result.output
    assert "unavailable" not in result.output
    assert "solved 10/10 (100%)" in result.output
