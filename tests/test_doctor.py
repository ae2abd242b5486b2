"""`hgm doctor` starts a real sandbox of the configured backend rather than trusting `bwrap --help`-level checks."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from hgm.cli import app

runner = CliRunner()


def _row(output: str, name: str) -> str:
    return next(line for line in output.splitlines() if name in line)


def test_doctor_runs_a_command_in_a_real_bwrap_sandbox(rootfs: Path):
    result = runner.invoke(app, ["doctor", "--sandbox", "bwrap"])
    assert result.exit_code == 0, result.output
    assert "ok" in _row(result.output, "sandbox start")


def test_doctor_reports_a_sandbox_that_cannot_start_although_bwrap_itself_works(tmp_path: Path):
    config = tmp_path / "config.yaml"
    config.write_text(f"coding:\n  sandbox:\n    backend: bwrap\n    rootfs: {tmp_path / 'no-such-root'}\n")
    result = runner.invoke(app, ["doctor", "--config", str(config)])
    assert result.exit_code == 1, result.output
    assert "works" in _row(result.output, "bubblewrap")
    assert "missing" in _row(result.output, "sandbox start")
    assert "a bwrap sandbox did not start" in " ".join(result.output.replace("│", " ").split())


def test_doctor_measures_a_local_model_server_and_asks_it_for_a_tool_call(monkeypatch):
    from fake_openai_server import FakeOpenAIServer

    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with FakeOpenAIServer(models=["qwen"]) as server:
        result = runner.invoke(
            app, ["doctor", "--model", "openai/qwen", "--api-base", server.url, "--sandbox", "local"]
        )
        offered_tools = [seen for seen in server.requests if "tools" in seen.body]
    row = " ".join(result.output.replace("│", " ").split())
    assert "answered a 1-token call in" in row, result.output
    assert "native tool calls: no (the agent must read tool calls from the text)" in row
    assert "no API key needed: hgm sends a placeholder to this local server" in row
    # agent, selfmod and diagnosis share one model: it is called once for latency and once for tools
    assert len(offered_tools) == 1
