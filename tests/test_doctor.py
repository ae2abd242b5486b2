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
