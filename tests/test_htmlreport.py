import json
import os
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest
from story_world import HOSTILE_FAILURE, HOSTILE_TASKS, make_sim_run, make_story_run
from typer.testing import CliRunner

from hgm.archive import Archive
from hgm.cli import app
from hgm.htmlreport import embed_json, render_html, watch_report, write_report
from hgm.htmlreport.data import layout, report_data
from hgm.report import NodeSummary, ranked, summarize


@pytest.fixture(scope="module")
def story_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_story_run(tmp_path_factory.mktemp("html") / "run", max_evals=40)


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_story_run(tmp_path_factory.mktemp("html") / "hostile", hostile=True)


class Elements(HTMLParser):
    """Counts the elements a browser would create from a page."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: dict[str, int] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags[tag] = self.tags.get(tag, 0) + 1


def _node(id: int, parent: int | None) -> NodeSummary:
    return NodeSummary(id, parent, "ready", 0, 0, None, None, 0, 0.01, None, None, None, False)


def test_layout_puts_parents_over_the_middle_of_their_children():
    nodes = [_node(0, None), _node(1, 0), _node(2, 0), _node(3, 1), _node(4, 1), _node(5, 2)]
    xs, ys = layout(nodes)
    assert ys == [0, 1, 1, 2, 2, 2]
    assert xs[3:] == [0, 1, 2]  # leaves side by side, in depth-first order
    assert xs[1] == 0.5 and xs[2] == 2 and xs[0] == 1.25


def test_embedded_json_cannot_end_its_script_element():
    hostile = {"a": "</script><script>alert(1)</script>", "b": "<!-- & \u2028 \u2029 >"}
    text = embed_json(hostile)
    assert not any(c in text for c in "<>&\u2028\u2029")
    assert json.loads(text) == hostile


def test_report_data_of_a_run(story_run: Path):
    with Archive(story_run) as archive:
        data = report_data(archive)
        nodes = summarize(archive)
        spent = archive.spent()
        evals = len(archive.evaluations())
    columns = data["nodes"]
    assert columns["id"] == [n.id for n in nodes]
    assert set(data["details"]) == {str(n.id) for n in nodes}
    assert dict(map(tuple, data["details"]["1"]["story"]))["failure"] == "the agent gave up on task 1"
    assert "+VERSION = 1" in data["details"]["1"]["diff"]
    assert data["details"]["0"]["diff"] == ""  # the seed's whole source is no change
    assert data["details"]["4"]["reason"] == "the child deleted its tests"
    assert [row[0] for row in data["details"]["1"]["costs"]] == [
        "agent (solving tasks)",
        "diagnosis",
        "self-modification",
    ]
    history = data["history"]
    best = next(n for n in nodes if n.best)
    assert history["evals"][-1] == evals and history["node"][-1] == best.id
    assert history["lower"][-1] == pytest.approx(best.lower_bound, abs=1e-4)
    assert history["cost"][-1] == pytest.approx(spent, abs=1e-6)
    assert history["q"] == [] and history["best_q"] == []
    matrix = data["matrix"]
    assert matrix["nodes"] == [n.id for n in ranked(nodes)][:20]
    row = matrix["z"][0]
    solved = {e[0] for e in data["details"][str(matrix["nodes"][0])]["evals"] if e[1] == "solved"}
    assert {t for t, v in zip(matrix["tasks"], row, strict=True) if v == 1} == solved
    assert data["run"]["state"] == "stopped" and data["run"]["best"] == best.id


def test_simulated_runs_plot_true_quality(tmp_path: Path):
    run = make_sim_run(tmp_path / "sim", max_evals=40)
    with Archive(run) as archive:
        data = report_data(archive)
        nodes = summarize(archive)
    history = data["history"]
    best = next(n for n in nodes if n.best)
    assert len(history["q"]) == len(history["evals"]) == 40
    assert history["q"][-1] == pytest.approx(best.true_quality, abs=1e-4)
    assert history["best_q"][-1] == pytest.approx(max(n.true_quality or 0 for n in nodes), abs=1e-4)
    assert all(a <= b for a, b in zip(history["best_q"], history["best_q"][1:], strict=False))


def test_agent_text_cannot_inject_markup(hostile_run: Path, tmp_path: Path):
    out = tmp_path / "report.html"
    with Archive(hostile_run) as archive:
        write_report(archive, out)
        data = report_data(archive)
    page = out.read_text()
    parser = Elements()
    parser.feed(page)
    assert parser.tags.get("script") == 3  # plotly.js, the data, the report's own script
    assert not {"img", "svg", "a", "b"} & set(parser.tags)
    for needle in ("<img src=x", "</script><script>window", "<svg onload", "<b>bold"):
        assert needle not in page
    assert HOSTILE_TASKS[0] in data["matrix"]["tasks"]
    assert dict(map(tuple, data["details"]["1"]["story"]))["failure"] == HOSTILE_FAILURE


def test_page_is_self_contained(story_run: Path):
    with Archive(story_run) as archive:
        data = report_data(archive)
    page = render_html(data)
    assert "Plotly" in page
    assert "<script src" not in page and "<link" not in page
    assert '<meta http-equiv="refresh"' not in page
    assert '<meta http-equiv="refresh" content="30">' in render_html(data, refresh=30)


def test_watch_writes_a_self_reloading_page_while_the_run_lives_and_a_final_one_after(story_run: Path, tmp_path: Path):
    out = tmp_path / "watch.html"
    notes: list[str] = []
    watch_report(story_run, out, 5, notes.append)
    assert notes == ["the run is stopped; wrote the final report"]
    assert 'http-equiv="refresh"' not in out.read_text()

    live = tmp_path / "live"
    shutil.copytree(story_run, live)
    with Archive(live, readonly=False) as archive:
        archive.event("start", pid=os.getpid(), evals=0, nodes=1)
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        assert 'http-equiv="refresh" content="5"' in out.read_text()
        if len(sleeps) == 2:
            with Archive(live, readonly=False) as archive:
                archive.event("stop", reason="evaluation budget spent", evals=40, nodes=9, best=1)

    notes.clear()
    watch_report(live, out, 5, notes.append, sleep=sleep)
    assert sleeps == [5, 5]
    assert notes[-1] == "the run is stopped; wrote the final report" and len(notes) == 3
    assert 'http-equiv="refresh"' not in out.read_text()


def test_report_command_writes_into_the_run_by_default(story_run: Path, tmp_path: Path):
    result = CliRunner().invoke(app, ["report", str(story_run)])
    assert result.exit_code == 0, result.output
    assert (story_run / "report.html").stat().st_size > 1_000_000
    other = tmp_path / "sub" / "r.html"
    result = CliRunner().invoke(app, ["report", str(story_run), "-o", str(other)])
    assert result.exit_code == 0 and other.is_file()
    missing = CliRunner().invoke(app, ["report", str(tmp_path / "nothing")])
    assert missing.exit_code == 2 and "not an hgm run directory" in missing.output
    (tmp_path / "taken").write_text("a file, not a folder")
    blocked = CliRunner().invoke(app, ["report", str(story_run), "-o", str(tmp_path / "taken" / "r.html")])
    assert blocked.exit_code == 2 and "cannot write the report to" in blocked.output
