"""Improvers (meta mode) written to break out or break down, run for real on docker and bwrap: each is contained.

Every parent here is a package `agent_seed` whose improver, `agent_seed/improve/__main__.py`, ignores the model and
does one thing wrong. The assertions are about what reaches the host: the expansion's verdict and reason, the
child's files, the artefacts and the parent's source.
"""

from __future__ import annotations

import json
import os
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from hgm.archive import Archive
from hgm.coding.world import CodingWorld
from hgm.config import load_config
from hgm.interfaces import Expansion, NodeRef

BACKENDS = [pytest.param("docker", marks=pytest.mark.docker), pytest.param("bwrap", marks=pytest.mark.bwrap)]
TASK = "roman_numerals"
ROOT = Path(__file__).resolve().parents[2]
PASSING_SUITE = "import unittest\n\n\nclass T(unittest.TestCase):\n    def test_ok(self):\n        pass\n"
# The command line as hgm calls it; `--help` is how the host checks that a child still has one.
PROLOGUE = """\
import os, sys
if __name__ == "__main__":
    if "--help" in sys.argv:
        sys.exit(0)
    args = dict(zip(sys.argv[1::2], sys.argv[2::2]))
    evidence, out = args["--evidence"], args["--out"]
"""
# A small valid edit, so that what else the improver did is all that decides.
EDIT = """
with open(os.path.join(out, "agent_seed", "__init__.py"), "a") as f:
    f.write("# edited by the improver\\n")
"""


def make_parent(folder: Path, attack: str, *, edit: bool = False) -> Path:
    """A directory holding an agent whose improver runs `attack` (then a valid edit, if `edit`)."""
    package = folder / "agent_seed"
    for tests in (package / "tests", package / "improve" / "tests"):
        tests.mkdir(parents=True)
        (tests / "__init__.py").write_text("")
        (tests / "test_ok.py").write_text(PASSING_SUITE)
    (package / "__init__.py").write_text("")
    (package / "__main__.py").write_text("import sys\nsys.exit(0)\n")
    (package / "improve" / "__init__.py").write_text("")
    body = textwrap.indent(textwrap.dedent(attack) + (EDIT if edit else ""), "    ")
    (package / "improve" / "__main__.py").write_text(PROLOGUE + body)
    return folder


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def meta_world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[object]:
    """Builds a meta-mode coding world (real sandboxes, scripted model) over a fresh archive."""
    made: list[tuple[CodingWorld, Archive]] = []

    def make(backend: str, *overrides: str) -> tuple[CodingWorld, Archive]:
        request.getfixturevalue("docker_image" if backend == "docker" else "rootfs")
        config = load_config(
            overrides=[
                "world=coding",
                "selfmod.mode=meta",
                f"coding.sandbox.backend={backend}",
                f"coding.tasks=[{TASK}]",
                "coding.agent_timeout=120",
                "coding.selfmod_timeout=120",
                *overrides,
            ]
        )
        archive = Archive.create(tmp_path / f"run-{len(made)}", config.model_dump(mode="json"))
        world = CodingWorld(config, archive)
        made.append((world, archive))
        return world, archive

    yield make
    for world, archive in made:
        world.close()
        archive.close()


def expand(world: CodingWorld, parent: Path, dest: Path) -> Expansion:
    dest.mkdir()
    return world.expand(NodeRef(0, None, parent), 1, dest, threading.Event())


@pytest.mark.parametrize("backend", BACKENDS)
def test_an_improver_that_crashes_is_a_failed_expansion_with_its_reason(meta_world, backend: str, tmp_path: Path):
    world, _ = meta_world(backend)
    parent = make_parent(tmp_path / "parent", 'raise RuntimeError("the improver exploded")\n')
    expansion = expand(world, parent, tmp_path / "child")
    assert not expansion.ok
    assert expansion.reason.startswith("the improver failed (exit code 1)")
    assert "the improver exploded" in expansion.reason
    assert "the improver exploded" in expansion.artefacts["improver_output.txt"]
    assert list((tmp_path / "child").iterdir()) == []


@pytest.mark.parametrize("backend", BACKENDS)
def test_an_improver_that_loops_is_stopped_at_its_time_limit(meta_world, backend: str, tmp_path: Path):
    world, _ = meta_world(backend, "coding.selfmod_timeout=5")
    parent = make_parent(tmp_path / "parent", "while True:\n    pass\n")
    expansion = expand(world, parent, tmp_path / "child")
    assert not expansion.ok
    assert expansion.reason == "the improver timed out after 5s"
    assert list((tmp_path / "child").iterdir()) == []


@pytest.mark.parametrize("backend", BACKENDS)
def test_what_an_improver_writes_outside_its_output_stays_out_of_the_child(meta_world, backend: str, tmp_path: Path):
    world, _ = meta_world(backend)
    attack = """
        open(os.path.join(out, "..", "stray.txt"), "w").write("outside")
        open("/tmp/stray-tmp.txt", "w").write("outside")
        for target in (os.path.join(evidence, "planted.txt"), os.path.join(os.environ["PYTHONPATH"], "planted.txt")):
            try:
                open(target, "w").write("planted")
                print("WROTE", target)
            except OSError as e:
                print("REFUSED", target, type(e).__name__)
        """
    parent = make_parent(tmp_path / "parent", attack, edit=True)
    before = snapshot(parent)
    expansion = expand(world, parent, tmp_path / "child")
    assert expansion.ok, expansion.reason
    child = snapshot(tmp_path / "child")
    assert child["agent_seed/__init__.py"] == b"# edited by the improver\n"
    assert not any("stray" in name or "planted" in name for name in child)
    assert "stray.txt" in expansion.artefacts["improver_strays.txt"]
    output = expansion.artefacts["improver_output.txt"]
    assert "WROTE" not in output and output.count("REFUSED") == 2
    assert snapshot(parent) == before, "the parent's source is mounted read-only"
    assert json.loads(expansion.artefacts["improver.json"])["changed"] is False


@pytest.mark.parametrize("backend", BACKENDS)
def test_links_an_improver_emits_never_reach_the_child(meta_world, backend: str, tmp_path: Path):
    world, _ = meta_world(backend)
    attack = """
        pkg = os.path.join(out, "agent_seed")
        os.symlink("/etc/passwd", os.path.join(pkg, "passwd.py"))
        os.symlink(evidence, os.path.join(pkg, "evidence"))
        os.symlink("/", os.path.join(out, "root"))
        os.link(os.path.join(pkg, "__main__.py"), os.path.join(pkg, "hard.py"))
        """
    parent = make_parent(tmp_path / "parent", attack, edit=True)
    expansion = expand(world, parent, tmp_path / "child")
    dest = tmp_path / "child"
    assert not any(p.is_symlink() for p in dest.rglob("*"))
    names = sorted(p.relative_to(dest).as_posix() for p in dest.rglob("*") if p.is_file())
    assert not any(n.startswith(("agent_seed/passwd", "agent_seed/evidence", "root")) for n in names)
    assert "symlink" in expansion.artefacts["export_notes.txt"]
    assert all(b"root:" not in p.read_bytes() for p in dest.rglob("*") if p.is_file())
    # The hard link arrives as a plain copy or not at all; either way the child is only regular files.
    assert expansion.ok, expansion.reason


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_child_whose_improver_cannot_start_is_refused(meta_world, backend: str, tmp_path: Path):
    world, archive = meta_world(backend)
    attack = """
        with open(os.path.join(out, "agent_seed", "improve", "__main__.py"), "w") as f:
            f.write("raise SystemExit(7)\\n")
    """
    parent = make_parent(tmp_path / "parent", attack)
    expansion = expand(world, parent, tmp_path / "child")
    assert not expansion.ok
    assert expansion.reason.startswith("child fails its own checks")


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_evidence_holds_the_nodes_results_but_never_the_hidden_tests(meta_world, backend: str, tmp_path: Path):
    world, archive = meta_world(backend)
    # Node 0 is evaluated for real first: its agent does nothing, so the hidden tests fail with messages.
    parent = make_parent(tmp_path / "parent", "import shutil\nshutil.copytree(evidence, os.path.join(out, 'seen'))\n")
    k = archive.next_k()
    archive.start_work(k, "evaluate", 0, TASK)
    evaluation = world.evaluate(NodeRef(0, None, parent), TASK, threading.Event())
    assert not evaluation.success and not evaluation.error
    archive.finish_evaluation(k, False, evaluation.cost)
    archive.save_artefacts(0, {f"evals/{TASK}/{name}": text for name, text in evaluation.artefacts.items()})
    expansion = expand(world, parent, tmp_path / "child")
    assert expansion.ok, expansion.reason
    seen = tmp_path / "child" / "seen"
    index = json.loads((seen / "evidence.json").read_text())
    assert (index["node"], index["evaluations"]) == (0, [{"task": TASK, "solved": False}])
    tests = (seen / "tasks" / "000" / "tests.txt").read_text()
    assert "resolved: no" in tests and "test_" in tests
    hidden = [
        line.strip()
        for path in (ROOT / "benchmarks" / "builtin" / TASK / "hidden_tests").rglob("*.py")
        for line in path.read_text().splitlines()
        if len(line.strip()) >= 20
    ]
    assert hidden
    everything = "\n".join(p.read_text(errors="replace") for p in seen.rglob("*") if p.is_file())
    assert not [line for line in hidden if line in everything]
    assert not os.path.exists(seen / "tasks" / "001"), "only the node's own evaluations are sampled"
