import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from story_world import make_sim_run, make_story_run
from typer.testing import CliRunner

from hgm import report
from hgm.archive import Archive
from hgm.cli import app

OPTIONS = {"tree": 5, "show": 2, "best": 2, "status": 0, "diff": 1, "report": 3}


def _cli(*args: str):
    return CliRunner().invoke(app, list(args))


def _piped(*args: str) -> str:
    """The command's output through a pipe, as `hgm ... | grep` sees it."""
    proc = subprocess.run([sys.executable, "-m", "hgm.cli", *args], capture_output=True, text=True, check=True)
    return proc.stdout


@pytest.fixture(scope="module")
def story_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_story_run(tmp_path_factory.mktemp("cli") / "run", max_evals=40)


@pytest.fixture(scope="module")
def sim_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_sim_run(tmp_path_factory.mktemp("cli") / "sim", max_evals=300)


def test_piped_tree_is_never_cut_and_greps_for_the_best(sim_run: Path):
    text = _piped("tree", str(sim_run))
    with Archive(sim_run) as archive:
        nodes = report.summarize(archive)
    best = next(n for n in nodes if n.best)
    marked = [line for line in text.splitlines() if "★ best" in line]
    assert len(marked) == 1 and re.search(rf"── {best.id}  {best.n_success}/{best.n_evals} ", marked[0])
    assert len(text.splitlines()) == len(nodes) + 1
    assert max(len(line) for line in text.splitlines()) > 80


def test_tree_top_depth_and_failed_filters(story_run: Path):
    with Archive(story_run) as archive:
        nodes = report.summarize(archive)
    top = _piped("tree", str(story_run), "--top", "1").splitlines()
    best = next(n for n in nodes if n.best)
    assert "★ best" in top[-1] and f"── {best.id} " in top[-1]
    assert "hidden below" in top[1]
    shallow = _piped("tree", str(story_run), "--depth", "1").splitlines()
    assert len(shallow) == 1 + sum(1 for n in nodes if n.parent in (None, 0))
    assert "failed" in _piped("tree", str(story_run))
    assert "failed" not in _piped("tree", str(story_run), "--no-failed")
    bad = _cli("tree", str(story_run), "--top", "0")
    assert bad.exit_code == 2


def test_tree_json_lists_every_node_as_before(story_run: Path):
    result = _cli("tree", str(story_run), "--json", "--top", "1")
    with Archive(story_run) as archive:
        assert json.loads(result.output) == json.loads(report.tree_json(archive))


def test_show_is_grouped_rounded_and_leads_with_the_diagnosis(story_run: Path):
    text = _piped("show", str(story_run), "1")
    sections = [
        s for s in ("why it was made", "score", "cost by role", "evaluations", "artefacts", "diff") if s in text
    ]
    assert sections == ["why it was made", "score", "cost by role", "evaluations", "artefacts", "diff"]
    assert text.index("why it was made") < text.index("score")
    assert "failure     the agent gave up on task 1" in text
    assert "true_quality" not in text and "None" not in text
    assert not re.search(r"\d\.\d{5,}", text)
    assert "+VERSION = 1" in text
    failed = _piped("show", str(story_run), "4")
    assert "why it failed" in failed and "the child deleted its tests" in failed and "lower bound" not in failed


def test_show_summarises_artefacts_unless_asked_for_all(sim_run: Path):
    with Archive(sim_run) as archive:
        busiest = max(report.summarize(archive), key=lambda n: n.n_evals)
        files = len(archive.artefacts(busiest.id))
    short = _piped("show", str(sim_run), str(busiest.id), "--no-diff")
    assert re.search(rf"evals/: {busiest.n_evals} folders, {busiest.n_evals} files", short)
    assert "more (--all lists them)" in short and "--all lists every file" in short
    assert len(short.splitlines()) < 40
    full = _piped("show", str(sim_run), str(busiest.id), "--all", "--no-diff")
    assert len(full.splitlines()) >= files and "more (--all" not in full
    assert "true quality" in short


def test_status_of_a_stopped_run(story_run: Path):
    text = _piped("status", str(story_run))
    assert "state        stopped: evaluation budget spent" in text
    assert "evaluations  40 / 40 (100%)" in text
    assert re.search(r"cost         \$0\.\d{4} \(no limit\)", text)
    assert "rate " in text and "ETA" not in text
    for role in ("agent (solving tasks)", "diagnosis", "self-modification", "total"):
        assert role in text


def test_diff_between_any_two_nodes(story_run: Path):
    text = _piped("diff", str(story_run), "3", "5")
    assert "-VERSION = 3\n+VERSION = 5" in text
    assert "agent.py" in _piped("diff", str(story_run), "0", "7", "--stat")
    missing = _cli("diff", str(story_run), "0", "99")
    assert missing.exit_code == 2 and "no node 99" in missing.output
    failed = _cli("diff", str(story_run), "0", "4")
    assert failed.exit_code == 2 and "failed self-modification" in failed.output


def test_best_export_writes_a_readme_on_running_the_agent(story_run: Path, tmp_path: Path):
    dest = tmp_path / "agent"
    result = _cli("best", str(story_run), "--export", str(dest))
    assert result.exit_code == 0, result.output
    readme = (dest / "README.md").read_text()
    assert (dest / "agent.py").is_file()
    for needle in (
        "python3 -m agent_seed --task",
        "--workdir",
        "HGM_GATEWAY=",
        "HGM_MODEL=",
        "HGM_TOKEN=",
        "HGM_TOKEN_FILE",
    ):
        assert needle in readme
    assert f"cd {dest.absolute()}" in readme and "no sandbox" in readme


def test_export_never_overwrites_or_follows_the_agents_own_readme(tmp_path: Path):
    source = tmp_path / "src"
    source.mkdir()
    (source / "README.md").write_text("the agent's own words\n")
    (source / "agent.py").write_text("VERSION = 0\n")
    (source / "README-hgm.md").symlink_to("agent.py")
    archive = Archive.create(tmp_path / "run", {})
    try:
        sha = archive.commit_source(0, source, None, "node 0: seed agent")
        node = report.NodeSummary(0, None, "ready", 1, 1, 1.0, 1.0, 1, 0.1, sha, None, None, True)
        report.export(archive, node, tmp_path / "out")
    finally:
        archive.close()
    assert (tmp_path / "out" / "README.md").read_text() == "the agent's own words\n"
    assert (tmp_path / "out" / "agent.py").read_text() == "VERSION = 0\n"
    assert (tmp_path / "out" / "README-hgm-export.md").read_text().startswith("# hgm agent: node 0")


def test_every_option_of_these_commands_shows_its_default():
    for command, count in OPTIONS.items():
        result = CliRunner().invoke(app, [command, "--help"], terminal_width=250, env={"COLUMNS": "250"})
        # Boxed (rich help) or plain (click's): one line per option at this width either way.
        options = [line for line in result.output.splitlines() if re.match(r"[│ ]*(-\w, )?--(?!help)", line)]
        assert len(options) == count, command
        for line in options:
            assert "[default: " in line, f"hgm {command}: {line.strip()}"
