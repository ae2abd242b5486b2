"""The coding world on a real two-node Ray cluster: sandboxes on the nodes, models through the head's gateway."""

from __future__ import annotations

from pathlib import Path

import pytest
import ray

from hgm.archive import Archive
from hgm.coding.world import CodingWorld
from hgm.config import ConfigError, load_config
from hgm.engine import Engine
from hgm.execution.localcluster import RayCluster
from hgm.execution.raycluster import RayExecutor

pytestmark = pytest.mark.ray


def _coding_run(tmp_path: Path, cluster: RayCluster, backend: str) -> tuple[Engine, Archive]:
    config = load_config(
        overrides=[
            "world=coding",
            f"coding.sandbox.backend={backend}",
            "coding.tasks=[chunking, roman_numerals, word_frequency]",
            "budget.max_evals=8",
            "workers=3",
            "seed=3",
            "search.initial_evals=3",
            "search.initial_expansions=1",
            "coding.agent_timeout=120",
            "coding.selfmod_timeout=120",
            "execution.executor=ray",
            f"execution.ray_address={cluster.address}",
            "execution.cpus_per_job=0.25",
        ]
    )
    archive = Archive.create(tmp_path / "run", config.model_dump(mode="json"))
    world = CodingWorld(config, archive)
    try:
        engine = Engine(archive, world, config)
        engine.run()
    finally:
        world.close()
    return engine, archive


@pytest.mark.bwrap
def test_coding_world_on_two_nodes_with_bwrap(tmp_path: Path, ray_cluster: RayCluster, rootfs: Path):
    _check_coding_run(*_coding_run(tmp_path, ray_cluster, "bwrap"))


@pytest.mark.docker
def test_coding_world_on_two_nodes_with_docker(tmp_path: Path, ray_cluster: RayCluster, docker_image: str):
    _check_coding_run(*_coding_run(tmp_path, ray_cluster, "docker"))


def _check_coding_run(engine: Engine, archive: Archive) -> None:
    assert isinstance(engine.executor, RayExecutor)
    assert len({p.node_id for p in engine.executor.placements}) == 2
    pairs = [(ev.node, ev.task) for ev in archive.evaluations()]
    assert len(pairs) == 8 and len(set(pairs)) == 8
    assert archive.work(status="error") == []
    expansions = archive.work(kind="expand", status="done")
    assert expansions
    # Every model call went through the head's gateway and is in the head's archive, billed to its node.
    calls = archive.llm_calls()
    assert {c["purpose"] for c in calls} >= {"diagnosis", "selfmod"}
    assert any(str(c["purpose"]).startswith("evaluate:") for c in calls)
    children = [n for n in archive.nodes() if n.id > 0 and n.status == "ready"]
    for child in children:
        assert child.commit_sha and archive.commit_exists(child.commit_sha)
        assert (archive.node_dir(child.id) / "diff.patch").is_file()


@pytest.mark.docker
def test_a_node_without_the_sandbox_image_is_named(tmp_path: Path, ray_cluster: RayCluster, docker_image: str):
    config = load_config(
        overrides=[
            "world=coding",
            "coding.sandbox.backend=docker",
            "coding.sandbox.image=hgm-sandbox-not-built:0",
            "execution.executor=ray",
            f"execution.ray_address={ray_cluster.address}",
        ]
    )
    archive = Archive.create(tmp_path / "run", config.model_dump(mode="json"))
    world = CodingWorld(config, archive)
    try:
        with pytest.raises(ConfigError, match=r"Ray node 127\.0\.0\.\d .*hgm-sandbox-not-built:0 is missing"):
            Engine(archive, world, config)
        # The refused executor let go of the cluster: a connection left open dies with the cluster, process and all.
        assert not ray.is_initialized()
    finally:
        world.close()
