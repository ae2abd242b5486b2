"""The ray executor with the simulated world on a real two-node cluster: placement, determinism, a node dying."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hgm.archive import Archive
from hgm.cli import app
from hgm.config import ConfigError, ExecutionConfig, load_config
from hgm.engine import Engine, Snapshot
from hgm.execution import make_executor
from hgm.execution.localcluster import RayCluster
from hgm.execution.raycluster import RayExecutor
from hgm.preflight import check_ray
from hgm.worlds.sim import SimWorld

pytestmark = pytest.mark.ray


def _run(tmp_path: Path, name: str, *overrides: str, on_tick=None) -> tuple[Engine, Archive]:
    config = load_config(overrides=list(overrides))
    archive = Archive.create(tmp_path / name, config.model_dump(mode="json"))
    sim = config.sim
    world = SimWorld(sim.landscape, config.seed, n_tasks=sim.n_tasks, latency=sim.latency)
    engine = Engine(archive, world, config, on_tick=on_tick)
    engine.run()
    return engine, archive


def _on_ray(cluster: RayCluster) -> list[str]:
    return ["execution.executor=ray", f"execution.ray_address={cluster.address}", "execution.cpus_per_job=0.25"]


def _pairs(archive: Archive) -> list[tuple[int, str]]:
    return [(ev.node, str(ev.task)) for ev in archive.evaluations()]


def test_work_spreads_over_both_nodes_and_each_evaluation_is_recorded_once(tmp_path: Path, ray_cluster: RayCluster):
    engine, archive = _run(
        tmp_path, "run", *_on_ray(ray_cluster), "workers=6", "budget.max_evals=30", "sim.latency=0.3", "seed=2"
    )
    assert isinstance(engine.executor, RayExecutor)
    assert len({p.node_id for p in engine.executor.placements}) == 2
    pairs = _pairs(archive)
    assert len(pairs) == 30
    assert len(set(pairs)) == 30
    assert archive.work(status="error") == []
    assert archive.work(status="running") == []


def test_one_worker_on_ray_makes_the_same_run_as_the_local_executor(tmp_path: Path, ray_cluster: RayCluster):
    common = ["workers=1", "budget.max_evals=25", "seed=7", "sim.landscape=builder"]
    _, local = _run(tmp_path, "local", *common)
    _, remote = _run(tmp_path, "ray", *common, *_on_ray(ray_cluster))
    assert [(n.id, n.parent, n.status, n.true_q) for n in remote.nodes()] == [
        (n.id, n.parent, n.status, n.true_q) for n in local.nodes()
    ]
    assert [(ev.k, ev.node, ev.task, ev.success) for ev in remote.evaluations()] == [
        (ev.k, ev.node, ev.task, ev.success) for ev in local.evaluations()
    ]
    assert [n.commit_sha for n in remote.nodes()] != [None] * len(remote.nodes())


@pytest.mark.parametrize("how", ["kill", "stop"])
def test_a_worker_node_lost_mid_run_loses_and_doubles_nothing(tmp_path: Path, fresh_cluster: RayCluster, how: str):
    """`kill`: the node's processes die at once (a machine lost); `stop`: SIGTERM, what `ray stop` sends them."""
    worker = fresh_cluster.nodes[1]
    seen: Counter[str] = Counter()
    engines: list[Engine] = []

    def kill_the_worker_once_it_has_work(snapshot: Snapshot) -> None:
        executor = engines[0].executor if engines else None
        if not isinstance(executor, RayExecutor) or worker.proc.poll() is not None:
            return
        seen.update(p.address for p in executor.placements)
        worker_jobs = sum(n for p, n in executor.placements.items() if p.node_id != _head_id(executor))
        if worker_jobs >= 3 and snapshot.running:
            worker.kill() if how == "kill" else worker.stop()

    config = load_config(
        overrides=[*_on_ray(fresh_cluster), "workers=6", "budget.max_evals=40", "sim.latency=1.0", "seed=5"]
    )
    archive = Archive.create(tmp_path / "run", config.model_dump(mode="json"))
    world = SimWorld(config.sim.landscape, config.seed, latency=config.sim.latency)
    engine = Engine(archive, world, config, on_tick=kill_the_worker_once_it_has_work)
    engines.append(engine)
    reason = engine.run()
    assert worker.proc.poll() is not None, "the worker node was never stopped"
    assert isinstance(engine.executor, RayExecutor)
    assert engine.executor.retried >= 1
    assert reason == "evaluation budget spent"
    pairs = _pairs(archive)
    assert len(pairs) == 40
    assert len(set(pairs)) == 40
    assert archive.work(status="error") == []
    assert [row for row in archive.work(kind="expand") if row.status != "done"] == []


def _head_id(executor: RayExecutor) -> str:
    return str(executor.ray.get_runtime_context().get_node_id())


def test_an_unreachable_cluster_is_named_in_the_error(tmp_path: Path):
    config = ExecutionConfig(executor="ray", ray_address="127.0.0.1:9")
    with pytest.raises(ConfigError, match=r"cannot reach the Ray cluster at 127\.0\.0\.1:9"):
        make_executor(config, SimWorld("mixed", 0))


def test_hgm_run_refuses_an_unreachable_cluster_before_making_the_run_directory(tmp_path: Path):
    out = tmp_path / "run"
    result = CliRunner().invoke(
        app, ["run", "--executor", "ray", "--ray-address", "127.0.0.1:9", "--out", str(out), "-q"]
    )
    assert result.exit_code == 2
    assert "cannot reach the Ray cluster at 127.0.0.1:9" in result.output
    assert not out.exists()


def test_a_remote_cluster_needs_a_gateway_address_its_nodes_can_reach(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr("hgm.execution.raycluster.reachable", lambda host, port, address: None)
    config = load_config(overrides=["world=coding", "execution.executor=ray", "execution.ray_address=10.1.2.3:6379"])
    with pytest.raises(ValueError, match="set execution.gateway_host"):
        check_ray(config)


def test_without_ray_installed_the_error_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setitem(__import__("sys").modules, "ray", None)
    with pytest.raises(ConfigError, match=r"pip install 'hgm\[ray\]'"):
        make_executor(ExecutionConfig(executor="ray"), SimWorld("mixed", 0))


def test_a_ray_address_must_be_host_and_port():
    with pytest.raises(ConfigError, match="HOST:PORT"):
        load_config(overrides=["execution.ray_address=nohost"])


def test_a_head_killed_mid_run_resumes_on_ray(tmp_path: Path, ray_cluster: RayCluster):
    run = tmp_path / "run"
    ray_args = ["--executor", "ray", "--ray-address", ray_cluster.address, "-q"]
    argv = [sys.executable, "-m", "hgm.cli", "run", "--out", str(run), "--max-evals", "30", "--workers", "4"]
    argv += ["--sim-latency", "0.5", "--set", "execution.cpus_per_job=0.25", *ray_args]
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 300
    done = 0
    while time.monotonic() < deadline and proc.poll() is None and done < 6:
        if (run / "hgm.db").exists():
            with sqlite3.connect(run / "hgm.db") as db:
                done = db.execute("SELECT COUNT(*) FROM work WHERE status = 'done'").fetchone()[0]
        time.sleep(0.2)
    assert proc.poll() is None, f"the run ended before it could be killed: {proc.stderr.read() if proc.stderr else ''}"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    resumed = subprocess.run(
        [sys.executable, "-m", "hgm.cli", "resume", str(run), *ray_args], capture_output=True, text=True, timeout=600
    )
    assert resumed.returncode == 0, resumed.stderr
    archive = Archive(run)
    pairs = _pairs(archive)
    assert len(pairs) == 30 and len(set(pairs)) == 30
    assert archive.work(status="running") == [] and archive.work(status="interrupted") == []
    assert [kind for _, kind, _ in archive.events()].count("start") == 2
