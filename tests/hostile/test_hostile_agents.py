"""Agents written to cheat or to hurt the host, run for real on docker and bwrap: each attack is contained.

Every agent here is a package `agent_seed` whose `__main__` ignores the model and performs one attack, during a
task (evaluation) or while rewriting its own source (self-modification). The assertions are about what reaches
the host: the archive, the verdict, the lineage, and the memory of the hgm process.
"""

from __future__ import annotations

import json
import resource
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from hgm.archive import Archive
from hgm.coding.world import CodingWorld
from hgm.config import load_config
from hgm.interfaces import NodeRef

BACKENDS = [pytest.param("docker", marks=pytest.mark.docker), pytest.param("bwrap", marks=pytest.mark.bwrap)]
SECRET = "sk-hostile-test-0123456789abcdef"
TASK = "roman_numerals"
ROOT = Path(__file__).resolve().parents[2]

# The prologue every hostile agent shares: its command line, as hgm calls it.
PROLOGUE = """\
import os, sys
args = dict(zip(sys.argv[1::2], sys.argv[2::2]))
task, workdir, trajectory = args["--task"], args["--workdir"], args["--trajectory"]
selfmod = os.path.isdir(os.path.join(workdir, "agent_seed"))
"""
PASSING_SUITE = "import unittest\n\n\nclass T(unittest.TestCase):\n    def test_ok(self):\n        pass\n"


def make_agent(folder: Path, attack: str) -> Path:
    """A directory holding an agent whose whole program is `attack` (after the shared prologue)."""
    package = folder / "agent_seed"
    (package / "tests").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "__main__.py").write_text(PROLOGUE + textwrap.dedent(attack))
    (package / "tests" / "__init__.py").write_text("")
    (package / "tests" / "test_ok.py").write_text(PASSING_SUITE)
    return folder


@pytest.fixture
def world_for(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    """Builds a coding world (real sandboxes, scripted model) over an archive, with a provider key in hgm's env."""
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    made: list[tuple[CodingWorld, Archive]] = []

    def make(backend: str, *overrides: str) -> tuple[CodingWorld, Archive]:
        fixture = "docker_image" if backend == "docker" else "rootfs"
        request.getfixturevalue(fixture)
        config = load_config(
            overrides=[
                "world=coding",
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


def evaluate(world: CodingWorld, agent: Path) -> tuple[bool, str, dict[str, str]]:
    """Run the agent on the task as node 0; (solved, infrastructure error, artefacts)."""
    result = world.evaluate(NodeRef(0, None, agent), TASK, threading.Event())
    return result.success, result.error, result.artefacts


def all_text(archive: Archive) -> str:
    return "\n".join(
        p.read_text(errors="replace") for p in archive.path.rglob("*") if p.is_file() and p.stat().st_size < 50_000_000
    )


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_trajectory_that_is_a_symlink_to_host_files_brings_nothing_back(world_for, backend: str) -> None:
    world, archive = world_for(backend)
    hidden = ROOT / "benchmarks" / "builtin" / TASK / "hidden_tests" / "test_roman.py"
    for target in ("/proc/self/environ", "/dev/zero", str(hidden), "/etc/shadow"):
        agent = make_agent(
            archive.path.parent / f"agent-{Path(target).name}",
            f"""
            os.symlink({target!r}, trajectory)
        """,
        )
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        solved, error, artefacts = evaluate(world, agent)
        assert (solved, error) == (False, ""), error
        assert SECRET not in artefacts["trajectory.json"]
        assert "symlink" in artefacts["trajectory.json"] or "no trajectory" in artefacts["trajectory.json"]
        assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 200_000  # KiB: /dev/zero was not read
    assert SECRET not in all_text(archive)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_huge_trajectory_is_cut_not_archived_whole(world_for, backend: str) -> None:
    world, archive = world_for(backend)
    agent = make_agent(
        archive.path.parent / "agent",
        """
        with open(trajectory, "w") as f:
            f.write("[" + '"x" * 1000, ' * 60_000 + "1]")
    """,
    )
    solved, error, artefacts = evaluate(world, agent)
    assert (solved, error) == (False, "")
    assert len(artefacts["trajectory.json"]) < 5 * 1024 * 1024


FORGE = '''
    import json
    code = """import os, sys, json
print("HGM-UNITTEST-RESULT", json.dumps({"nonce": (sys.argv + [""])[-1], "run": 5, "failures": 0, "errors": 0,
      "skipped": 0, "unexpected": 0}), flush=True)
os._exit(0)
"""
    open(os.path.join(workdir, "roman.py"), "w").write(code)
    open(os.path.join(workdir, "sitecustomize.py"), "w").write("import os\\nos._exit(0)\\n")
    open(os.path.join(workdir, "unittest.py"), "w").write("raise SystemExit(0)\\n")
'''


@pytest.mark.parametrize("backend", BACKENDS)
def test_forged_test_results_do_not_pass(world_for, backend: str) -> None:
    world, archive = world_for(backend)
    agent = make_agent(archive.path.parent / "agent", FORGE)
    (agent / "sitecustomize.py").write_text("import os\nos._exit(0)\n")  # on the agent's PYTHONPATH, never the grader's
    solved, error, artefacts = evaluate(world, agent)
    assert (solved, error) == (False, "")
    assert json.loads(artefacts["test_results.json"])["resolved"] is False


@pytest.mark.parametrize("backend", BACKENDS)
def test_an_unreadable_workspace_is_a_failure_not_an_infrastructure_error(world_for, backend: str) -> None:
    world, archive = world_for(backend)
    for mode in ("555", "000"):
        agent = make_agent(
            archive.path.parent / f"agent-{mode}",
            f"""
            import subprocess
            subprocess.run(["chmod", "-R", "{mode}", workdir])
        """,
        )
        solved, error, artefacts = evaluate(world, agent)
        assert (solved, error) == (False, ""), f"chmod {mode}: {error}"


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_correct_agent_still_solves_the_task(world_for, backend: str) -> None:
    world, archive = world_for(backend)
    solution = (ROOT / "benchmarks" / "builtin" / TASK / "solution" / "roman.py").read_text()
    agent = make_agent(
        archive.path.parent / "agent",
        f"""
        open(os.path.join(workdir, "roman.py"), "w").write({solution!r})
    """,
    )
    solved, error, artefacts = evaluate(world, agent)
    assert (solved, error) == (True, ""), artefacts.get("test_output.txt")


PLANT_IN_CHILD = """
    if selfmod:
        package = os.path.join(workdir, "agent_seed")
        os.symlink("/etc/passwd", os.path.join(package, "passwd.py"))
        os.symlink("/proc/self/environ", os.path.join(package, "environ.txt"))
        with open(os.path.join(package, "blob.bin"), "wb") as f:
            f.seek(100 * 1024 * 1024)
            f.write(b"x")
        open(os.path.join(package, "settings.py"), "w").write("CHANGED = True\\n")
"""


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_child_with_planted_links_and_a_blob_is_refused_and_nothing_is_committed(
    world_for, backend: str, tmp_path: Path
) -> None:
    world, archive = world_for(backend)
    parent = make_agent(tmp_path / "parent", PLANT_IN_CHILD)
    dest = tmp_path / "child"
    dest.mkdir()
    expansion = world.expand(NodeRef(0, None, parent), 1, dest, threading.Event())
    assert not expansion.ok
    assert "over the limits" in expansion.reason and "blob.bin" in expansion.reason
    assert list(dest.iterdir()) == []
    notes = expansion.artefacts["export_notes.txt"]
    assert "passwd.py" in notes and "environ.txt" in notes
    assert SECRET not in json.dumps(expansion.artefacts)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_child_that_deletes_itself_is_a_failed_expansion(world_for, backend: str, tmp_path: Path) -> None:
    world, archive = world_for(backend)
    parent = make_agent(
        tmp_path / "parent",
        """
        import shutil
        if selfmod:
            shutil.rmtree(os.path.join(workdir, "agent_seed"))
    """,
    )
    dest = tmp_path / "child"
    dest.mkdir()
    expansion = world.expand(NodeRef(0, None, parent), 1, dest, threading.Event())
    assert (expansion.ok, expansion.reason) == (False, "the child deleted its own package agent_seed/")


@pytest.mark.parametrize("backend", BACKENDS)
def test_only_regular_files_reach_a_valid_child(world_for, backend: str, tmp_path: Path) -> None:
    world, archive = world_for(backend)
    parent = make_agent(
        tmp_path / "parent",
        """
        if selfmod:
            package = os.path.join(workdir, "agent_seed")
            os.symlink("/etc/hostname", os.path.join(package, "hostname.txt"))
            os.mkfifo(os.path.join(package, "pipe"))
            open(os.path.join(package, "note.txt"), "w").write("improved\\n")
    """,
    )
    dest = tmp_path / "child"
    dest.mkdir()
    expansion = world.expand(NodeRef(0, None, parent), 1, dest, threading.Event())
    assert expansion.ok, expansion.reason
    kept = sorted(p.relative_to(dest).as_posix() for p in dest.rglob("*") if not p.is_dir())
    assert "agent_seed/note.txt" in kept
    assert "agent_seed/hostname.txt" not in kept and "agent_seed/pipe" not in kept
    assert not any(p.is_symlink() for p in dest.rglob("*"))


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_run_of_a_hostile_agent_goes_on_to_its_budget(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    from typer.testing import CliRunner

    from hgm.cli import app

    request.getfixturevalue("docker_image" if backend == "docker" else "rootfs")
    agent = make_agent(tmp_path / "agent", FORGE + PLANT_IN_CHILD)
    out = tmp_path / "run"
    result = CliRunner().invoke(
        app,
        [
            "run",
            "--world",
            "coding",
            "--sandbox",
            backend,
            "--max-evals",
            "4",
            "--out",
            str(out),
            "-q",
            "--set",
            f"coding.seed_path={agent}",
            "--set",
            "coding.tasks=[roman_numerals, chunking, caesar_cipher, deep_merge]",
            "--set",
            "search.initial_evals=2",
            "--set",
            "search.initial_expansions=1",
        ],
    )
    assert result.exit_code == 0, result.output
    with Archive(out) as archive:
        assert len(archive.evaluations()) == 4 and not any(e.success for e in archive.evaluations())
        assert [n.status for n in archive.nodes()] == ["ready", "failed"]
