"""A run or bench that cannot work refuses in seconds, before it creates anything."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest
from fake_openai_server import FakeOpenAIServer, Reply, error_body
from typer.testing import CliRunner

from hgm.cli import app

runner = CliRunner()
POLYGLOT = Path(__file__).parent / "coding" / "fixtures" / "polyglot"
CODING = ["--world", "coding", "--sandbox", "bwrap", "--max-evals", "4", "-q", "--set", "coding.tasks=[chunking]"]


def _refused(args: list[str], out: Path, expected: str) -> None:
    started = time.monotonic()
    result = runner.invoke(app, [*args, "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert expected in result.output
    assert result.output.startswith("error: ") and len(result.output.strip().splitlines()) == 1, result.output
    assert not out.exists()
    assert time.monotonic() - started < 120, "a refusal must not run sandboxes first"


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_run_with_a_model_whose_key_is_missing_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    _refused(["run", *CODING, "--model", "openai/gpt-4o"], tmp_path / "run", "OPENAI_API_KEY")


def test_each_model_role_is_checked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    args = ["run", *CODING, "--set", "coding.diagnosis_model=openai/gpt-4o-mini"]
    _refused(args, tmp_path / "run", "diagnosis")
    _refused(["run", *CODING, "--set", "coding.selfmod_model=scripted/no-such-script"], tmp_path / "r2", "selfmod")


def test_unreachable_model_server_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-local")
    api = f"http://127.0.0.1:{_closed_port()}/v1"
    _refused(["run", *CODING, "--model", "openai/local", "--api-base", api], tmp_path / "run", "openai/local")


def test_a_model_the_server_does_not_know_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-local")
    with FakeOpenAIServer() as server:
        unknown = error_body("The model `gpt-4oo` does not exist", "invalid_request_error", "model_not_found")
        server.enqueue(Reply(404, unknown))
        args = ["run", *CODING, "--model", "openai/gpt-4oo", "--api-base", server.url]
        _refused(args, tmp_path / "run", "gpt-4oo")


def test_bench_with_a_model_whose_key_is_missing_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    args = ["bench", "seed", "--sandbox", "bwrap", "--tasks", "chunking", "--model", "openai/gpt-4o"]
    _refused(args, tmp_path / "bench", "OPENAI_API_KEY")


def test_selecting_only_unavailable_tasks_is_refused(tmp_path: Path, rootfs: Path):
    only_go = ["--set", "coding.benchmark_options={languages: [go]}", "--set", f"coding.sandbox.rootfs={rootfs}"]
    bench = ["bench", "seed", "--sandbox", "bwrap", "--benchmark", "polyglot", "--path", str(POLYGLOT), *only_go]
    _refused(bench, tmp_path / "bench", "none of the 1 selected tasks can run here: no Go toolchain")
    run = ["run", "--world", "coding", "--sandbox", "bwrap", "--benchmark", "polyglot", "-q"]
    run += ["--set", f"coding.benchmark_path={POLYGLOT}", *only_go]
    _refused(run, tmp_path / "run", "none of the 1 selected tasks can run here: no Go toolchain")
