"""The real loop with the scripted model: sandboxed evaluation, self-modification, kill and resume, bad input."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hgm.archive import Archive
from hgm.cli import app
from hgm.engine import NOTHING_LEFT
from hgm.models.scripted import Canned, register_script, tool_call, unregister_script

TASKS = "[chunking, roman_numerals, word_frequency]"
runner = CliRunner()


def _args(backend: str, out: Path, *extra: str) -> list[str]:
    return [
        "run",
        "--world",
        "coding",
        "--sandbox",
        backend,
        "--max-evals",
        "8",
        "--workers",
        "2",
        "--seed",
        "3",
        "--out",
        str(out),
        "-q",
        "--set",
        f"coding.tasks={TASKS}",
        "--set",
        "search.initial_evals=3",
        "--set",
        "search.initial_expansions=1",
        "--set",
        "coding.agent_timeout=120",
        "--set",
        "coding.selfmod_timeout=120",
        *extra,
    ]


def _consistent(run: Path) -> Archive:
    archive = Archive(run)
    assert archive.work(status="running") == [] and archive.work(status="interrupted") == []
    for node in archive.nodes():
        if node.status == "ready":
            assert node.commit_sha and archive.commit_exists(node.commit_sha)
    pairs = [(w.node, w.task) for w in archive.evaluations()]
    assert len(pairs) == len(set(pairs))
    return archive


def _kill_resume(backend: str, tmp_path: Path, extra_env: dict[str, str]) -> Archive:
    run = tmp_path / "run"
    env = {**os.environ, **extra_env}
    proc = subprocess.Popen(
        [sys.executable, "-m", "hgm.cli", *_args(backend, run)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and proc.poll() is None:
        if (run / "hgm.db").exists():
            db = sqlite3.connect(run / "hgm.db")
            if db.execute("SELECT COUNT(*) FROM work WHERE status = 'done'").fetchone()[0] >= 2:
                break
        time.sleep(0.1)
    assert proc.poll() is None, f"the run ended before it could be killed: {proc.stderr.read() if proc.stderr else ''}"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    resumed = subprocess.run(
        [sys.executable, "-m", "hgm.cli", "resume", str(run), "-q"],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert resumed.returncode == 0, resumed.stderr
    archive = _consistent(run)
    assert len(archive.evaluations()) == 8
    events = [kind for _, kind, _ in archive.events()]
    assert events.count("start") == 2
    return archive


def _check_real_work(archive: Archive) -> None:
    evaluations = archive.evaluations()
    assert any(e.success for e in evaluations), "the scripted solver should solve some easy tasks"
    node0 = archive.node_dir(0) / "evals"
    trajectories = list(node0.glob("*/trajectory.json"))
    assert trajectories and json.loads(trajectories[0].read_text())
    calls = archive.llm_calls()
    assert calls and all(c["prompt_tokens"] > 0 for c in calls if not c["error"])
    children = [n for n in archive.nodes() if n.id > 0]
    assert children, "at least one self-modification must have been attempted"
    for child in children:
        assert (archive.node_dir(child.id) / "diagnosis.json").exists() or child.reason
    # Classic mode: the seed carries no improver and no node records one.
    root = archive.node(0)
    assert root is not None and root.commit_sha
    files = subprocess.run(
        ["git", f"--git-dir={archive.lineage_path}", "ls-tree", "-r", "--name-only", root.commit_sha],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert "agent_seed/agent.py" in files and not any(f.startswith("agent_seed/improve/") for f in files)
    assert not any((archive.node_dir(n.id) / "improver.json").exists() for n in archive.nodes())
    assert {c["purpose"] for c in archive.llm_calls() if c["node"]} >= {"diagnosis"}


def test_bwrap_run_killed_and_resumed(tmp_path: Path, rootfs: Path):
    archive = _kill_resume("bwrap", tmp_path, {})
    _check_real_work(archive)


@pytest.mark.docker
def test_docker_run_killed_and_resumed(tmp_path: Path, docker_image: str):
    archive = _kill_resume("docker", tmp_path, {})
    _check_real_work(archive)


def _run_inprocess(tmp_path: Path, *extra: str, exit_code: int = 0) -> Archive:
    out = tmp_path / "run"
    result = runner.invoke(app, _args("bwrap", out, "--set", "max_failed_expansions=3", *extra))
    assert result.exit_code == exit_code, result.output
    return _consistent(out)


@pytest.fixture
def unchecked_models(monkeypatch: pytest.MonkeyPatch) -> None:
    """Skip the start-up model check, to see how a run copes with a model that fails once it is under way."""
    from hgm import preflight

    monkeypatch.setattr(preflight, "check_models", lambda coding: None)


def _stop_reason(archive: Archive) -> str:
    return str([data for _, kind, data in archive.events() if kind == "stop"][-1]["reason"])


def _every_self_modification_failed(archive: Archive, expected: str) -> None:
    """The run stopped on its own, recorded each failure's reason, and lost none of the root's evaluations."""
    failed = [n for n in archive.nodes() if n.status == "failed"]
    assert len(failed) >= 3 and all(expected in (n.reason or "") for n in failed)
    assert _stop_reason(archive).startswith("3 self-modifications in a row failed")
    assert sorted(e.task for e in archive.evaluations() if e.node == 0) == [
        "chunking",
        "roman_numerals",
        "word_frequency",
    ]


def test_unknown_diagnosis_model_fails_expansions_but_run_goes_on(tmp_path: Path, rootfs: Path, unchecked_models: None):
    archive = _run_inprocess(tmp_path, "--set", "coding.diagnosis_model=scripted/no-such-script", exit_code=3)
    _every_self_modification_failed(archive, "diagnosis failed")
    assert "no-such-script" in (archive.nodes()[1].reason or "")


def test_missing_provider_key_is_a_clear_failure(
    tmp_path: Path, rootfs: Path, monkeypatch: pytest.MonkeyPatch, unchecked_models: None
):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    archive = _run_inprocess(tmp_path, "--set", "coding.diagnosis_model=openai/gpt-4o-mini", exit_code=3)
    _every_self_modification_failed(archive, "OPENAI_API_KEY")


def test_gateway_budget_exhausted_mid_run(tmp_path: Path, rootfs: Path):
    archive = _run_inprocess(
        tmp_path,
        "--set",
        "coding.input_cost_per_token=0.0001",
        "--set",
        "coding.output_cost_per_token=0.0001",
        "--set",
        "coding.max_cost_per_node=0.5",
        exit_code=3,
    )
    assert _stop_reason(archive).startswith("3 self-modifications in a row failed"), "refused calls fail them"
    calls = archive.llm_calls()
    assert any(c["cost"] > 0 for c in calls), "calls within budget go through and are billed"
    assert any("budget_exceeded" in (c["error"] or "") for c in calls), "later calls are refused"
    assert archive.evaluations(), "the run goes on"
    by_node: dict[int, float] = {}
    for call in archive.llm_calls():
        by_node[call["node"]] = by_node.get(call["node"], 0.0) + (call["cost"] or 0.0)
    assert all(cost <= 0.5 + 1e-9 for cost in by_node.values())


def test_garbage_answers_from_the_model_fail_the_task_not_the_run(tmp_path: Path, rootfs: Path):
    register_script("garbage", Canned(["%%% not a tool call %%%"], repeat_last=True))
    try:
        archive = _run_inprocess(tmp_path, "--set", "coding.agent_model=scripted/garbage")
    finally:
        unregister_script("garbage")
    evaluations = archive.evaluations()
    assert len(evaluations) >= 3 and not any(e.success for e in evaluations)
    assert _stop_reason(archive) in ("evaluation budget spent", NOTHING_LEFT)


def test_child_that_deletes_its_own_source_is_rejected(tmp_path: Path, rootfs: Path):
    script = Canned(
        [
            {"content": None, "tool_calls": [tool_call("bash", {"command": "rm -rf agent_seed"})]},
            {"content": None, "tool_calls": [tool_call("submit", {"summary": "removed everything"})]},
        ]
    )
    register_script("deleter", script)
    try:
        archive = _run_inprocess(tmp_path, "--set", "coding.selfmod_model=scripted/deleter", exit_code=3)
    finally:
        unregister_script("deleter")
    _every_self_modification_failed(archive, "deleted its own package")
    assert all(n.commit_sha is None for n in archive.nodes() if n.status == "failed")


def test_agent_model_without_key_is_an_infrastructure_error_not_a_failed_task(
    tmp_path: Path, rootfs: Path, monkeypatch: pytest.MonkeyPatch, unchecked_models: None
):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    archive = _run_inprocess(tmp_path, "--set", "coding.agent_model=openai/gpt-4o-mini", exit_code=3)
    assert archive.evaluations() == [], "no task may be scored as failed when the model was never reached"
    errors = archive.work(status="error")
    assert errors and all("OPENAI_API_KEY" in (w.error or "") for w in errors)
    assert _stop_reason(archive).startswith("5 infrastructure errors in a row")


@pytest.mark.parametrize("backend", ["local", "bwrap"])
def test_bench_measures_one_agent_outside_a_run(tmp_path: Path, backend: str, rootfs: Path):
    out = tmp_path / "bench"
    result = runner.invoke(
        app, ["bench", "seed", "--sandbox", backend, "--tasks", "roman_numerals,chunking", "--out", str(out), "--json"]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.output[result.output.index("{") :])
    verdicts = {row["task"]: row["resolved"] for row in report["tasks"]}
    # The scripted solver knows roman_numerals and gives up on chunking (hgm/models/demo.py).
    assert verdicts == {"roman_numerals": True, "chunking": False}
    assert report["solved"] == 1 and report["evaluated"] == 2
