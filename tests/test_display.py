import io
from dataclasses import replace

from rich.console import Console

from hgm.config import load_config
from hgm.display import ProgressLines, duration, progress, progress_line, rate, status_table
from hgm.engine import Snapshot
from hgm.report import NodeSummary
from hgm.views.tree import lineage_tree

SNAP = Snapshot(
    evals_done=50,
    eval_budget=200,
    nodes=12,
    failed_nodes=2,
    running=["evaluate 3 on alpha", "expand 5 -> 12"],
    best=3,
    best_own=(8, 2),
    spent=1.5,
    max_cost=6.0,
    elapsed=600.0,
    stop_reason="",
)


def _text(renderable: object, width: int = 200) -> str:
    console = Console(file=io.StringIO(), width=width, color_system=None, soft_wrap=True)
    console.print(renderable)
    assert isinstance(console.file, io.StringIO)
    return console.file.getvalue()


def test_duration_and_rate():
    assert [duration(s) for s in (5, 65, 3725, 90061)] == ["0m05s", "1m05s", "1h02m05s", "1d01h01m"]
    assert rate(50, 600) == "5.0 evals/min"
    assert rate(3, 3600) == "3.0 evals/h"
    assert rate(0, 10) == "-"


def test_live_panel_shows_rate_eta_and_the_time_budget():
    text = _text(status_table(SNAP, max_time=1800))
    assert "50 / 200 (25%)" in text
    assert "$1.5000 / $6.00" in text
    assert "10m00s / 30m00s" in text
    assert "5.0 evals/min" in text
    # 150 evaluations at 5/min would take 30 min, the cost budget 30 min, the time budget ends in 20 min.
    assert "20m00s (time budget)" in text
    assert "evaluate 3 on alpha" in text


def test_stopping_says_a_second_interrupt_cancels():
    text = _text(status_table(replace(SNAP, stop_reason="interrupted by SIGINT"), grace=30))
    assert "interrupted by SIGINT" in text
    assert "letting 2 job(s) in flight finish (up to 30s); Ctrl-C again cancels them" in text


def test_progress_lines_when_output_is_not_a_terminal():
    out = io.StringIO()
    console = Console(file=out, width=80)
    now = [0.0]
    lines = ProgressLines(console, max_time=None, grace=30, every=30, clock=lambda: now[0])
    lines(SNAP)
    lines(replace(SNAP, evals_done=51))  # too soon for another line
    now[0] = 31.0
    lines(replace(SNAP, evals_done=51))
    now[0] = 70.0
    lines(replace(SNAP, evals_done=51))  # nothing changed: no line
    lines(replace(SNAP, evals_done=52, stop_reason="interrupted by SIGINT"))
    printed = out.getvalue().splitlines()
    assert len(printed) == 4
    assert "evals 50/200" in printed[0] and "ETA 30m00s (evaluations budget)" in printed[0]
    assert "evals 51/200" in printed[1]
    assert printed[2].startswith("stopping: interrupted by SIGINT;") and "Ctrl-C again cancels" in printed[2]
    assert "evals 52/200" in printed[3]
    assert all(len(line) > 80 for line in (printed[0], printed[1]))  # long lines are never wrapped


def test_progress_picks_plain_lines_for_a_pipe_and_a_live_panel_for_a_terminal():
    config = load_config(overrides=["budget.max_time=1h"])
    piped = Console(file=io.StringIO())
    _, on_tick = progress(piped, config)
    assert isinstance(on_tick, ProgressLines) and on_tick.max_time == 3600
    terminal = Console(file=io.StringIO(), force_terminal=True)
    live, on_tick = progress(terminal, config)
    with live:
        on_tick(SNAP)
    assert "1h00m00s" in terminal.file.getvalue()  # type: ignore[attr-defined]


def test_progress_line_fields():
    line = progress_line(replace(SNAP, max_cost=None), max_time=3600)
    assert "best node 3 (8/10)" in line and "cost $1.5000 " in line and "elapsed 10m00s/1h00m00s" in line


def _node(id: int, parent: int | None, **kw: object) -> NodeSummary:
    base = dict(
        status="ready",
        n_evals=4,
        n_success=2,
        mean=0.5,
        cmp=0.5,
        clade_evals=4,
        lower_bound=0.1,
        commit="abc",
        reason=None,
        true_quality=None,
        best=False,
    )
    base.update(kw)
    return NodeSummary(id=id, parent=parent, **base)  # type: ignore[arg-type]


def test_lineage_lines_are_never_cut_and_mark_the_best():
    reason = "child fails its own checks: " + "x" * 150 + " \x1b[31m[red]markup[/red]"
    nodes = [
        _node(0, None),
        _node(1, 0, best=True),
        _node(2, 0, status="failed", n_evals=0, n_success=0, mean=None, cmp=None, reason=reason),
        _node(3, 1, true_quality=0.5),
    ]
    text = _text(lineage_tree(nodes, {0: 7}), width=40)
    lines = text.splitlines()
    assert lines[1].startswith("└── 0  2/4  own 0.50  cmp 0.50  ready  … 7 hidden below")
    assert lines[2].startswith("    ├── 1") and lines[2].endswith("★ best")
    assert lines[3] == "    │   └── 3  2/4  own 0.50  cmp 0.50  ready  q=0.50"
    assert lines[4].startswith("    └── 2  0/0  own   -   cmp   -   failed  (child fails") and len(lines[4]) > 150
    assert "[red]markup[/red]" in lines[4] and "\x1b" not in text


def test_lineage_on_a_terminal_dims_only_the_guides():
    nodes = [_node(0, None), _node(1, 0, best=True), _node(2, 0, status="failed", reason="tests broke")]
    console = Console(file=io.StringIO(), width=200, force_terminal=True, color_system="standard", soft_wrap=True)
    console.print(lineage_tree(nodes), soft_wrap=True)
    lines = console.file.getvalue().splitlines()  # type: ignore[attr-defined]
    assert lines[1] == "\x1b[2m└── \x1b[0m\x1b[1m0\x1b[0m  2/4  own 0.50  cmp 0.50  ready"
    assert lines[2].startswith("\x1b[2m    ├── \x1b[0m\x1b[1;32m1\x1b[0m\x1b[32m  2/4")
    assert "\x1b[1;32m  ★ best" in lines[2]
    assert lines[3].startswith("\x1b[2m    └── \x1b[0m\x1b[1;31m2\x1b[0m\x1b[31m  2/4")
    assert "\x1b[2m  (tests broke)" in lines[3]
