import json
import subprocess
import sys
import threading
import time
from pathlib import Path

from typer.testing import CliRunner

from hgm.archive import Archive
from hgm.cli import app
from hgm.config import load_config
from hgm.display import status_table
from hgm.engine import Engine
from hgm.report import summarize
from hgm.views.tree import lineage_tree
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
    assert len(lineage_tree(nodes)) == len(nodes) + 1  # a header, then one line per node


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


def test_the_engine_stops_expanding_when_the_budget_left_cannot_evaluate_the_children(tmp_path: Path):
    from hgm.policy import SearchParams, make_policy

    config = load_config(overrides=["workers=2", "budget.max_evals=30", "sim.n_tasks=20", "seed=5"])
    archive = Archive.create(tmp_path / "run", config.model_dump(mode="json"))
    engines: list[Engine] = []

    def stop_a_runaway(snap) -> None:  # type: ignore[no-untyped-def]
        if snap.nodes > 500 and not engines[0].stopping:
            engines[0].request_stop("runaway expansion")

    engine = Engine(archive, SimWorld("smooth", 5, n_tasks=20), config, on_tick=stop_a_runaway)
    engines.append(engine)
    # alpha 7 makes the policy want to expand whenever any node has a success, whatever the budget says.
    engine.policy = make_policy("hgm", SearchParams(alpha=7.0))
    assert engine.run() == "evaluation budget spent"
    assert len(archive.evaluations()) == 30
    assert len(archive.nodes()) <= 1 + 30 + config.workers


class _OneTaskBreaksTheSandbox(SimWorld):
    """Every evaluation of task t001 fails with an infrastructure error."""

    def evaluate(self, node, task, cancel):  # type: ignore[no-untyped-def]
        from hgm.interfaces import Evaluation

        if task == "t001":
            return Evaluation(False, error="the sandbox broke")
        return super().evaluate(node, task, cancel)


def test_a_task_that_keeps_erroring_is_given_up_after_a_few_attempts_even_across_resumes(tmp_path: Path):
    from hgm.engine import TASK_ATTEMPTS

    config = load_config(overrides=["policy=bench", "budget.max_evals=9", "sim.n_tasks=3", "max_consecutive_errors=50"])
    archive = Archive.create(tmp_path / "run", config.model_dump(mode="json"))
    Engine(archive, _OneTaskBreaksTheSandbox("smooth", 0, n_tasks=3), config).run()
    errors = archive.work(kind="evaluate", status="error")
    assert [(w.node, w.task) for w in errors] == [(0, "t001")] * TASK_ATTEMPTS
    assert sorted(w.task for w in archive.evaluations()) == ["t000", "t002"]
    Engine(archive, _OneTaskBreaksTheSandbox("smooth", 0, n_tasks=3), config).run()
    assert len(archive.work(kind="evaluate", status="error")) == TASK_ATTEMPTS


class _IgnoresCancel(SimWorld):
    """Evaluations that do not listen to the engine's cancel signal (a stuck model call, say)."""

    def __init__(self, release: threading.Event) -> None:
        super().__init__("smooth", 0, n_tasks=20)
        self.release = release

    def evaluate(self, node, task, cancel):  # type: ignore[no-untyped-def]
        self.release.wait()
        return super().evaluate(node, task, cancel)


def test_work_that_ignores_cancellation_is_abandoned_so_the_run_still_stops(tmp_path: Path):
    config = load_config(overrides=["workers=2", "budget.max_evals=20", "sim.n_tasks=20", "shutdown_grace=0"])
    archive = Archive.create(tmp_path / "run", config.model_dump(mode="json"))
    release = threading.Event()
    engines: list[Engine] = []

    def stop_twice_once_working(snap) -> None:  # type: ignore[no-untyped-def]
        if snap.running and not engines[0].cancel.is_set():
            engines[0].request_stop("stopped by the test")
            engines[0].request_stop("stopped by the test")

    engine = Engine(archive, _IgnoresCancel(release), config, on_tick=stop_twice_once_working)
    engines.append(engine)
    try:
        assert engine.run() == "stopped by the test"
        assert engine.abandoned
        assert archive.work(status="running") == [] and len(archive.work(status="interrupted")) == 2
    finally:
        release.set()


def test_the_reference_policy_runs_in_the_engine_with_its_root_evaluations_free(tmp_path: Path):
    engine, archive, reason = _engine_run(tmp_path, "seed=2", "budget.max_evals=30", "policy=reference")
    assert reason == "evaluation budget spent"
    assert engine.tree.n_evals == 35  # 5 pre-run root evaluations outside the budget
    assert engine.policy.charged(engine.tree) == 30
    assert engine.tree.n_nodes > 2
