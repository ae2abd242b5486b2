"""Meta mode (`selfmod.mode=meta`): the setting, the simulated landscapes, and the whole loop on real sandboxes."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from hgm.archive import Archive
from hgm.cli import app
from hgm.coding.world import SEED_DIR, copy_agent
from hgm.config import ConfigError, load_config
from hgm.htmlreport.data import report_data
from hgm.report import summarize
from hgm.worlds.sim_meta import META_LANDSCAPES, child, seed, simulate_meta

runner = CliRunner()
TASKS = "[chunking, roman_numerals, word_frequency]"


def test_mode_defaults_to_classic_and_an_unknown_mode_is_a_clear_error():
    assert load_config().selfmod.mode == "classic"
    assert load_config(overrides=["selfmod.mode=meta"]).selfmod.mode == "meta"
    with pytest.raises(ConfigError) as caught:
        load_config(overrides=["selfmod.mode=hyper"])
    assert "selfmod.mode" in str(caught.value) and "classic" in str(caught.value) and "meta" in str(caught.value)


def test_the_classic_seed_has_no_improver_and_the_meta_seed_has_one(tmp_path: Path):
    copy_agent(SEED_DIR, tmp_path / "classic" / "agent_seed", improver=False)
    copy_agent(SEED_DIR, tmp_path / "meta" / "agent_seed", improver=True)
    assert not (tmp_path / "classic" / "agent_seed" / "improve").exists()
    assert (tmp_path / "classic" / "agent_seed" / "agent.py").is_file()
    assert (tmp_path / "meta" / "agent_seed" / "improve" / "__main__.py").is_file()


def test_meta_mode_refuses_a_seed_without_improver(tmp_path: Path):
    copy_agent(SEED_DIR, tmp_path / "seed" / "agent_seed", improver=False)
    args = ["run", "--world", "coding", "--sandbox", "local", "--out", str(tmp_path / "run"), "-q"]
    result = runner.invoke(app, [*args, "--set", f"coding.seed_path={tmp_path / 'seed'}", "--set", "selfmod.mode=meta"])
    assert result.exit_code == 2, result.output
    assert "improve/__main__.py" in result.output
    assert not (tmp_path / "run").exists()


def test_meta_mode_on_a_simulated_landscape_without_improver_is_refused(tmp_path: Path):
    result = runner.invoke(
        app, ["run", "--world", "sim", "--landscape", "mixed", "--set", "selfmod.mode=meta", "--out", str(tmp_path)]
    )
    assert result.exit_code == 2, result.output
    assert "meta-aware landscape" in result.output and "improver" in result.output


def test_the_improver_scales_the_expected_gain_and_classic_mode_never_changes_it():
    land = META_LANDSCAPES["improver"]
    parent, _ = seed(land)
    steps = {}
    for g in (1.0, 3.0):
        made = [child(land, "classic", parent, g, 0, i) for i in range(4000)]
        kids = [c for c in made if not isinstance(c, str)]
        assert all(c.g == g and not c.improver_edit for c in kids)
        steps[g] = np.mean([c.agent.logit_q - parent.logit_q for c in kids])
    assert steps[1.0] == pytest.approx(land.root_m, abs=0.01)
    assert steps[3.0] == pytest.approx(3 * land.root_m, abs=0.01)
    meta = [c for c in (child(land, "meta", parent, 1.0, 0, i) for i in range(4000)) if not isinstance(c, str)]
    edited = [c for c in meta if c.improver_edit]
    assert len(edited) / len(meta) == pytest.approx(land.edit_prob, abs=0.03)
    assert all(c.g != 1.0 for c in edited) and all(c.g == 1.0 for c in meta if not c.improver_edit)


def test_classic_and_meta_simulations_are_paired_and_deterministic():
    classic = simulate_meta("improver-easy", "classic", "hgm", 150, 4)
    meta = simulate_meta("improver-easy", "meta", "hgm", 150, 4)
    assert classic.improver_edits == 0 and classic.best_g == 1.0
    assert meta.improver_edits > 0
    assert simulate_meta("improver-easy", "meta", "hgm", 150, 4) == meta


@pytest.mark.parametrize("mode", ["classic", "meta"])
def test_a_simulated_run_marks_the_nodes_whose_improver_changed(tmp_path: Path, mode: str):
    out = tmp_path / "run"
    args = ["run", "--world", "sim", "--landscape", "improver-easy", "--max-evals", "80", "--seed", "2"]
    result = runner.invoke(app, [*args, "--out", str(out), "-q", "--set", f"selfmod.mode={mode}"])
    assert result.exit_code == 0, result.output
    with Archive(out) as archive:
        nodes = summarize(archive)
        data = report_data(archive)
    changed = [n.id for n in nodes if n.improver_changed]
    tree = runner.invoke(app, ["tree", str(out)]).output
    if mode == "classic":
        assert changed == [] and all(n.improver_changed is None for n in nodes)
        assert "improver changed" not in tree
        assert not any(data["nodes"]["improver"])
    else:
        assert changed and all(
            n.improver_changed is not None for n in nodes if n.parent is not None and n.status == "ready"
        )
        assert tree.count("⚙ improver changed") == len(changed)
        assert [i for i, flag in zip(data["nodes"]["id"], data["nodes"]["improver"], strict=True) if flag] == changed
        dot = runner.invoke(app, ["tree", str(out), "--dot"]).output
        assert dot.count("improver changed") == len(changed)


def _git(run: Path, *args: str) -> str:
    return subprocess.run(
        ["git", f"--git-dir={run / 'lineage'}", *args], capture_output=True, text=True, check=True
    ).stdout


def _meta_run(backend: str, out: Path) -> Archive:
    args = ["run", "--world", "coding", "--sandbox", backend, "--max-evals", "12", "--workers", "1", "--seed", "3"]
    args += ["--out", str(out), "-q", "--set", f"coding.tasks={TASKS}", "--set", "selfmod.mode=meta"]
    args += ["--set", "search.initial_evals=3", "--set", "search.initial_expansions=1"]
    args += ["--set", "coding.agent_timeout=120", "--set", "coding.selfmod_timeout=120"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    return Archive(out)


def _check_meta_run(out: Path) -> None:
    """An improver edit was made, validated and committed, and a later expansion ran the edited improver."""
    archive = Archive(out)
    try:
        nodes = {n.id: n for n in summarize(archive)}
        root = nodes[0]
        assert "agent_seed/improve/__main__.py" in _git(out, "ls-tree", "-r", "--name-only", str(root.commit))
        # The scripted diagnosis first widens the improver's evidence from 1 to 3 tasks (hgm/models/demo.py).
        edited = [n for n in nodes.values() if n.improver_changed]
        assert edited, "some child must carry an edited improver"
        for n in edited:
            record = json.loads((archive.node_dir(n.id) / "improver.json").read_text())
            assert record == {"changed": True, "files": ["agent_seed/improve/settings.py"], "used": n.parent}
            assert "EVIDENCE_TASKS = 3" in _git(out, "show", f"{n.commit}:agent_seed/improve/settings.py")
            assert "child fails" not in (archive.node_dir(n.id) / "validation.txt").read_text()
        # Expansions of an edited node ran its improver: it chose up to three tasks, the seed's chooses one.
        grandchildren = [n for n in nodes.values() if n.parent in {e.id for e in edited}]
        assert grandchildren, "an edited node must have been expanded"
        for g in grandchildren:
            used = json.loads((archive.node_dir(g.id) / "improver_record.json").read_text())
            assert used["evidence_tasks"] == 3 and 1 <= len(used["chosen"]) <= 3
        made_by_seed = [n for n in nodes.values() if n.parent == 0 and n.status == "ready"]
        for n in made_by_seed:
            assert json.loads((archive.node_dir(n.id) / "improver_record.json").read_text())["evidence_tasks"] == 1
        # The improver reaches the model only as the self-modification role; there is no host-side diagnosis.
        purposes = {c["purpose"] for c in archive.llm_calls() if c["node"] and not c["purpose"].startswith("evaluate")}
        assert purposes == {"selfmod"}
    finally:
        archive.close()
    tree = runner.invoke(app, ["tree", str(out)]).output
    assert tree.count("⚙ improver changed") == len(edited)
    shown = runner.invoke(app, ["show", str(out), str(edited[0].id), "--no-diff"]).output
    assert "improves itself differently from its parent" in shown


@pytest.mark.bwrap
def test_meta_mode_end_to_end_on_bwrap(tmp_path: Path, rootfs: Path):
    _meta_run("bwrap", tmp_path / "run").close()
    _check_meta_run(tmp_path / "run")


@pytest.mark.docker
def test_meta_mode_end_to_end_on_docker(tmp_path: Path, docker_image: str):
    _meta_run("docker", tmp_path / "run").close()
    _check_meta_run(tmp_path / "run")


def test_a_seed_copy_for_meta_mode_keeps_only_the_improver_package(tmp_path: Path):
    # copy_agent leaves out bytecode and hgm's I/O folder in both modes.
    src = tmp_path / "src"
    shutil.copytree(SEED_DIR, src, ignore=shutil.ignore_patterns("__pycache__"))
    (src / "__pycache__").mkdir()
    (src / "__pycache__" / "x.pyc").write_bytes(b"\0")
    (src / ".hgm").mkdir()
    copy_agent(src, tmp_path / "out", improver=True)
    assert not (tmp_path / "out" / "__pycache__").exists() and not (tmp_path / "out" / ".hgm").exists()
    assert (tmp_path / "out" / "improve" / "procedure.py").is_file()
