import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hgm.archive import Archive
from hgm.cli import app

runner = CliRunner()


def _run(*args: str):
    return runner.invoke(app, list(args))


def test_run_then_inspect(tmp_path: Path):
    out = tmp_path / "run"
    result = _run("run", "--world", "sim", "--max-evals", "30", "--seed", "1", "--out", str(out), "--quiet")
    assert result.exit_code == 0, result.output
    nodes = json.loads(_run("tree", str(out), "--json").output)
    assert nodes[0]["id"] == 0 and nodes[0]["parent"] is None
    assert sum(n["n_evals"] for n in nodes) == 30
    assert {"id", "parent", "n_evals", "n_success", "cmp", "status"} <= set(nodes[0])
    assert sum(1 for n in nodes if n["best"]) == 1
    best = json.loads(_run("best", str(out), "--json").output)
    assert 0.0 <= best["true_quality"] <= 1.0
    assert best["id"] == next(n["id"] for n in nodes if n["best"])
    dot = _run("tree", str(out), "--dot").output
    assert dot.startswith("digraph") and "n0 -> n1" in dot
    text = _run("tree", str(out)).output
    assert "best" in text
    shown = _run("show", str(out), "1")
    assert shown.exit_code == 0 and "diff against parent" in shown.output and "agent" in shown.output
    exported = tmp_path / "exported"
    assert _run("best", str(out), "--export", str(exported)).exit_code == 0
    assert any(exported.iterdir())


def test_resume_raises_budget(tmp_path: Path):
    out = tmp_path / "run"
    assert _run("run", "--max-evals", "10", "--out", str(out), "-q").exit_code == 0
    assert _run("resume", str(out), "--max-evals", "25", "-q").exit_code == 0
    nodes = json.loads(_run("tree", str(out), "--json").output)
    assert sum(n["n_evals"] for n in nodes) == 25


def test_unknown_config_key_is_usage_error_and_writes_nothing(tmp_path: Path):
    out = tmp_path / "run"
    result = _run("run", "--set", "search.alpah=0.3", "--out", str(out))
    assert result.exit_code == 2
    assert "unknown config key 'search.alpah'; did you mean 'search.alpha'?" in result.output
    assert not out.exists()


def test_negative_budget_is_usage_error(tmp_path: Path):
    out = tmp_path / "run"
    result = _run("run", "--max-evals", "-3", "--out", str(out))
    assert result.exit_code == 2 and "budget.max_evals" in result.output
    assert not out.exists()


def test_unknown_landscape_is_usage_error(tmp_path: Path):
    out = tmp_path / "run"
    result = _run("run", "--landscape", "nope", "--out", str(out))
    assert result.exit_code == 2 and "nope" in result.output
    assert not out.exists()


def test_resume_of_a_directory_that_is_not_a_run(tmp_path: Path):
    result = _run("resume", str(tmp_path))
    assert result.exit_code == 2 and "not an hgm run directory" in result.output
    assert list(tmp_path.iterdir()) == []


def test_inspecting_a_missing_node(tmp_path: Path):
    out = tmp_path / "run"
    _run("run", "--max-evals", "5", "--out", str(out), "-q")
    result = _run("show", str(out), "99")
    assert result.exit_code == 2 and "no node 99" in result.output


def test_run_directory_held_by_another_process(tmp_path: Path):
    out = tmp_path / "run"
    _run("run", "--max-evals", "5", "--out", str(out), "-q")
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from hgm.archive import Archive; a = Archive(sys.argv[1], readonly=False); "
            "print('locked', flush=True); time.sleep(60)",
            str(out),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        before = (out / "hgm.db").stat().st_mtime_ns
        result = _run("resume", str(out), "--max-evals", "20")
        assert result.exit_code == 2
        assert f"in use by another hgm process (pid {holder.pid})" in result.output
        assert (out / "hgm.db").stat().st_mtime_ns == before
        assert _run("tree", str(out), "--json").exit_code == 0
    finally:
        holder.kill()
        holder.wait()


def test_real_subprocess_run(tmp_path: Path):
    out = tmp_path / "run"
    proc = subprocess.run(
        [sys.executable, "-m", "hgm.cli", "run", "--max-evals", "12", "--policy", "dgm", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "stopped:" in proc.stdout
    bad = subprocess.run(
        [sys.executable, "-m", "hgm.cli", "resume", str(tmp_path / "nothing")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode == 2 and "not an hgm run directory" in bad.stderr


def test_relative_run_directory(tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = _run("run", "--max-evals", "6", "--out", "runs/rel", "-q")
    assert result.exit_code == 0, result.output
    assert _run("show", "runs/rel", "1").exit_code == 0
    assert _run("resume", "runs/rel", "--max-evals", "8", "-q").exit_code == 0


def test_full_disk_is_a_clear_error_and_the_run_resumes(tmp_path: Path, monkeypatch):
    import sqlite3 as sqlite

    from hgm.archive import Archive

    real = Archive.finish_evaluation
    calls = {"n": 0}

    def failing(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] > 5:
            raise sqlite.OperationalError("database or disk is full")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Archive, "finish_evaluation", failing)
    out = tmp_path / "run"
    result = _run("run", "--max-evals", "20", "--out", str(out), "-q")
    assert result.exit_code == 1
    assert "is full" in result.output and f"hgm resume {out}" in result.output
    monkeypatch.setattr(Archive, "finish_evaluation", real)
    assert _run("resume", str(out), "-q").exit_code == 0
    nodes = json.loads(_run("tree", str(out), "--json").output)
    assert sum(n["n_evals"] for n in nodes) == 20


@pytest.mark.parametrize(
    "override", ["world=coding", "seed=5", "sim.landscape=trap", "policy=dgm", "search.alpha=0.9", "budget={}"]
)
def test_resume_refuses_to_change_what_the_run_is_and_leaves_its_config_alone(tmp_path: Path, override: str):
    out = tmp_path / "run"
    assert _run("run", "--max-evals", "6", "--out", str(out), "-q").exit_code == 0
    frozen = Archive(out).meta("config")
    result = _run("resume", str(out), "--max-evals", "12", "--set", override, "-q")
    assert result.exit_code == 2, result.output
    key = override.split("=")[0]
    assert f"'{key}' cannot change on resume" in result.output and len(result.output.strip().splitlines()) == 1
    assert Archive(out).meta("config") == frozen
    assert _run("resume", str(out), "-q").exit_code == 0


def test_resume_may_change_budgets_and_how_the_run_operates(tmp_path: Path):
    out = tmp_path / "run"
    assert _run("run", "--max-evals", "6", "--out", str(out), "-q").exit_code == 0
    result = _run(
        "resume", str(out), "--max-evals", "9", "--workers", "2", "--set", "shutdown_grace=5", "--set", "sim.latency=0"
    )
    assert result.exit_code == 0, result.output
    config = Archive(out).config()
    assert (config["budget"]["max_evals"], config["workers"], config["shutdown_grace"]) == (9, 2, 5.0)


def test_lowering_a_budget_below_what_is_spent_says_so(tmp_path: Path):
    out = tmp_path / "run"
    assert _run("run", "--max-evals", "8", "--out", str(out), "-q").exit_code == 0
    frozen = Archive(out).meta("config")
    result = _run("resume", str(out), "--max-evals", "5", "-q")
    assert result.exit_code == 2
    assert "budget.max_evals=5 is below the 8 evaluations this run has done" in result.output
    assert Archive(out).meta("config") == frozen


def test_an_out_directory_that_cannot_be_made_is_a_one_line_error(tmp_path: Path):
    result = _run("run", "--max-evals", "5", "--out", "/proc/nope", "-q")
    assert result.exit_code == 2
    assert result.output.startswith("error: cannot create the run directory /proc/nope")
    assert len(result.output.strip().splitlines()) == 1


def test_an_out_that_names_a_file_is_refused_without_suggesting_resume(tmp_path: Path):
    existing = tmp_path / "notes.txt"
    existing.write_text("keep me")
    result = _run("run", "--max-evals", "5", "--out", str(existing), "-q")
    assert result.exit_code == 2
    assert "is a file" in result.output and "hgm resume" not in result.output
    assert existing.read_text() == "keep me"


def test_an_out_that_holds_a_run_suggests_resume_and_other_directories_do_not(tmp_path: Path):
    out = tmp_path / "run"
    assert _run("run", "--max-evals", "5", "--out", str(out), "-q").exit_code == 0
    again = _run("run", "--max-evals", "5", "--out", str(out), "-q")
    assert again.exit_code == 2 and f"hgm resume {out}" in again.output
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "x").write_text("")
    other = _run("run", "--max-evals", "5", "--out", str(tmp_path / "other"), "-q")
    assert other.exit_code == 2 and "not empty" in other.output and "hgm resume" not in other.output


def test_quiet_without_out_still_names_the_run_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)
    result = _run("run", "--max-evals", "5", "-q")
    assert result.exit_code == 0
    named = Path(result.output.strip())
    assert named.parent == Path("runs") and (tmp_path / named / "hgm.db").is_file()
    assert _run("run", "--max-evals", "5", "-q", "--out", "runs/mine").output == ""


def test_json_and_dot_together_are_refused(tmp_path: Path):
    out = tmp_path / "run"
    assert _run("run", "--max-evals", "5", "--out", str(out), "-q").exit_code == 0
    result = _run("tree", str(out), "--json", "--dot")
    assert result.exit_code == 2 and "--json or --dot" in result.output


@pytest.mark.parametrize("command", ["run", "resume", "bench", "tree", "demo", "doctor"])
def test_help_shows_defaults_and_no_type_noise(command: str):
    text = _run(command, "--help").output
    assert "<bool>" not in text
    if command == "run":
        assert "[default: 1]" in text and "[default: 100]" in text and "[default: hgm]" in text


def test_the_policy_error_lists_only_the_policies_a_user_can_choose(tmp_path: Path):
    result = _run("run", "--policy", "nope", "--out", str(tmp_path / "run"))
    assert result.exit_code == 2
    assert "hgm, reference, dgm, greedy, random" in result.output and "bench" not in result.output


def _loaded_after(argv: list[str], modules: tuple[str, ...]) -> tuple[str, list[str]]:
    """What `hgm ARGV` printed, and which of `modules` it imported, run in a fresh interpreter."""
    code = (
        "import sys; from hgm.cli import main; sys.argv = ['hgm', *sys.argv[1:]]\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        f"print('LOADED', sorted(m for m in {modules!r} if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True, timeout=300)
    *output, loaded = done.stdout.strip().splitlines() or [""]
    assert loaded.startswith("LOADED "), done.stderr
    return "\n".join(output), json.loads(loaded.removeprefix("LOADED ").replace("'", '"'))


# What no read-only view needs: the samplers (scipy), the engine and its tree, the config models and their YAML
# reader, model and benchmark clients, Docker, git and the sandbox backends.
HEAVY = (
    "scipy",
    "litellm",
    "swebench",
    "ray",
    "yaml",
    "docker",
    "git",
    "hgm.config",
    "hgm.engine",
    "hgm.tree",
    "hgm.policy",
    "hgm.sandboxes.registry",
    "hgm.sandboxes.cgroups",
    "rich.live",
)


def test_the_read_only_views_start_without_the_heavy_libraries(tmp_path: Path):
    """`hgm tree` names the best node with numpy alone and draws the lineage without the live display; the typer
    pyproject.toml allows converts command-line values without pydantic."""
    run = tmp_path / "run"
    assert runner.invoke(app, ["run", "--world", "sim", "--max-evals", "20", "--out", str(run)]).exit_code == 0
    output, loaded = _loaded_after(["tree", str(run)], ("pydantic", *HEAVY))
    assert "★ best" in output
    assert loaded == []


def test_help_starts_without_pydantic_or_numpy():
    """The help quotes the config's defaults (hgm/defaults.py) without building the config models."""
    output, loaded = _loaded_after(["--help"], ("pydantic", "numpy", *HEAVY))
    assert "tree" in output and "resume" in output
    assert loaded == []
