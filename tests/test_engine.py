import json
import subprocess
import sys
import time
from pathlib import Path

from typer.testing import CliRunner

from hgm.archive import Archive
from hgm.cli import app
from hgm.config import load_config
from hgm.display import lineage_tree, status_table
from hgm.engine import Engine
from hgm.report import summarize
from hgm.worlds.sim import SimWorld, simulate

runner = CliRunner()


def _engine_run(tmp_path: Path, *overrides: str) -> tuple[Engine, Archive, str]:
    config = load_config(overrides=list(overrides))
    archive = Archive.create(tmp_path / "run", config.model_dump(mode="json"))
    sim = config.sim
    world = SimWorld(
        sim.landscape,
        config.seed,
        n_tasks=sim.n_tasks,
        latency=sim.latency,
        cost_per_eval=sim.cost_per_eval,
        cost_per_expansion=sim.cost_per_expansion,
    )
    engine = Engine(archive, world, config)
    reason = engine.run()
    return engine, archive, reason


def test_serial_engine_matches_the_in_memory_simulation(tmp_path: Path):
    engine, archive, reason = _engine_run(tmp_path, "seed=4", "budget.max_evals=60", "sim.landscape=builder")
    expected = simulate("builder", "hgm", 60, 4)
    assert reason == "evaluation budget spent"
    assert engine.tree.n_nodes == expected.n_nodes
    assert [engine.tree.own(i) for i in range(engine.tree.n_nodes)] == [
        expected.tree.own(i) for i in range(expected.n_nodes)
    ]
    assert [n.true_q for n in archive.nodes()] == [expected.true_q[i] for i in range(expected.n_nodes)]


def test_cost_budget_counts_work_in_flight(tmp_path: Path):
    _, archive, reason = _engine_run(
        tmp_path,
        "workers=4",
        "budget.max_evals=500",
        "budget.max_cost=0.5",
        "sim.cost_per_eval=0.02",
        "sim.cost_per_expansion=0.05",
        "sim.latency=0.01",
    )
    assert reason == "cost budget reached"
    assert archive.spent() <= 0.5 + 1e-9
    assert archive.spent() >= 0.5 - 0.05 - 3 * 0.05


def test_time_budget(tmp_path: Path):
    start = time.monotonic()
    _, archive, reason = _engine_run(tmp_path, "budget.max_evals=10000", "budget.max_time=1s", "sim.latency=0.02")
    assert reason == "time budget reached"
    assert time.monotonic() - start < 30
    assert float(archive.meta("elapsed") or 0) >= 1.0


def test_workers_run_concurrently(tmp_path: Path):
    _, archive, _ = _engine_run(tmp_path, "workers=4", "budget.max_evals=40", "sim.latency=0.05")
    spans = sorted((w.started, w.finished or 0.0) for w in archive.work(status="done"))
    overlaps = max(sum(1 for s, f in spans if s <= t < f) for t, _ in spans)
    assert overlaps >= 3


def test_failed_expansions_are_recorded_nodes(tmp_path: Path):
    _, archive, _ = _engine_run(tmp_path, "seed=2", "budget.max_evals=200")
    failed = [n for n in archive.nodes() if n.status == "failed"]
    assert failed, "the simulated world fails some expansions"
    assert all(n.reason and n.commit_sha is None for n in failed)
    evaluated = {w.node for w in archive.evaluations()}
    assert not evaluated & {n.id for n in failed}


def test_displays_render(tmp_path: Path):
    engine, archive, _ = _engine_run(tmp_path, "budget.max_evals=20")
    snap = engine.snapshot()
    assert snap.evals_done == 20 and snap.best is not None
    assert status_table(snap).row_count >= 5
    nodes = summarize(archive)
    assert len(lineage_tree(nodes).renderables) == len(nodes) + 1  # a header, then one line per node


def test_inspection_while_a_run_is_in_progress(tmp_path: Path):
    out = tmp_path / "run"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "hgm.cli",
            "run",
            "--max-evals",
            "300",
            "--sim-latency",
            "0.02",
            "--out",
            str(out),
            "-q",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        seen = 0
        while time.monotonic() < deadline and seen < 10:
            if (out / "hgm.db").exists():
                result = runner.invoke(app, ["tree", str(out), "--json"])
                if result.exit_code == 0 and len(json.loads(result.output)) >= 2:
                    seen = sum(n["n_evals"] for n in json.loads(result.output))
            time.sleep(0.1)
        assert proc.poll() is None, "the run should still be going"
        assert seen >= 10
        assert runner.invoke(app, ["best", str(out)]).exit_code == 0
        assert runner.invoke(app, ["show", str(out), "0"]).exit_code == 0
    finally:
        proc.kill()
        proc.wait()


class _NeverImproves(SimWorld):
    """A world whose every self-modification fails, as with a broken model configuration."""

    def expand(self, parent, child_id, dest, cancel):  # type: ignore[no-untyped-def]
        from hgm.interfaces import Expansion

        return Expansion(ok=False, reason="diagnosis failed: unknown model")


def test_failing_self_modifications_stop_the_run_instead_of_looping(tmp_path: Path):
    config = load_config(overrides=["budget.max_evals=50", "sim.n_tasks=3", "max_failed_expansions=6"])
    archive = Archive.create(tmp_path / "run", config.model_dump(mode="json"))
    engine = Engine(archive, _NeverImproves("smooth", 0, n_tasks=3), config)
    reason = engine.run()
    assert reason == "6 self-modifications in a row failed; last: diagnosis failed: unknown model"
    assert len(archive.evaluations()) == 3
    assert len([n for n in archive.nodes() if n.status == "failed"]) == 6
