from pathlib import Path

import pytest

from hgm.archive import Archive
from hgm.config import load_config
from hgm.engine import Engine
from hgm.worlds.sim import SimWorld

EXAMPLES = Path(__file__).parent.parent / "examples"
FILES = sorted(EXAMPLES.glob("*.yaml"))


def test_there_is_an_example_for_each_way_of_running():
    assert [p.name for p in FILES] == [
        "coding-hosted.yaml",
        "coding-local-server.yaml",
        "sim-study.yaml",
        "swebench-subset.yaml",
    ]
    listed = (EXAMPLES / "README.md").read_text()
    assert all(f"`{p.name}`" in listed for p in FILES)


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_example_loads_with_the_config_loader(path: Path):
    config = load_config(path)
    assert config.world == ("sim" if path.name.startswith("sim") else "coding")
    if config.world == "coding":
        assert config.coding.model != "scripted/demo"
    if config.coding.subset is not None:
        subsets = Path(__file__).parent.parent / "benchmarks" / "subsets"
        assert (subsets / f"{config.coding.subset}.txt").is_file()


def test_coding_examples_differ_where_they_should():
    names = ("coding-hosted.yaml", "coding-local-server.yaml", "swebench-subset.yaml")
    hosted, local, swebench = (load_config(EXAMPLES / name) for name in names)
    assert hosted.budget.max_cost is not None and hosted.coding.api_base is None
    assert local.coding.api_base == "http://127.0.0.1:8000/v1" and local.coding.model.startswith("openai/")
    assert local.coding.input_cost_per_token == local.coding.output_cost_per_token == 0
    assert swebench.coding.benchmark == "swebench" and swebench.coding.sandbox.backend == "docker"


def test_sim_study_runs(tmp_path: Path):
    config = load_config(EXAMPLES / "sim-study.yaml", ["budget.max_evals=40", "workers=1"])
    archive = Archive.create(tmp_path / "run", config.model_dump(mode="json"))
    try:
        reason = Engine(archive, SimWorld(config.sim.landscape, config.seed, config.sim.n_tasks), config).run()
        assert reason == "evaluation budget spent"
        assert len(archive.evaluations()) == 40
    finally:
        archive.close()
