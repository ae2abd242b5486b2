import sqlite3
from pathlib import Path

import pytest

from hgm.archive import Archive, ArchiveError, RunLocked


def _source(tmp_path: Path, name: str, text: str) -> Path:
    folder = tmp_path / name
    folder.mkdir()
    (folder / "agent.txt").write_text(text)
    return folder


def test_create_commit_checkout_and_diff(tmp_path: Path):
    archive = Archive.create(tmp_path / "run", {"seed": 1})
    root = archive.commit_source(0, _source(tmp_path, "a", "one\n"), None, "node 0")
    child = archive.commit_source(1, _source(tmp_path, "b", "two\n"), root, "node 1")
    out = tmp_path / "out"
    archive.checkout(child, out)
    assert (out / "agent.txt").read_text() == "two\n"
    assert "-one" in archive.diff(root, child) and "+two" in archive.diff(root, child)
    assert archive.commit_exists(child) and not archive.commit_exists("0" * 40)
    assert archive.config() == {"seed": 1}
    archive.close()
    assert Archive(tmp_path / "run").meta("hgm_version")


def test_a_checked_out_commit_is_served_again_without_git(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    archive = Archive.create(tmp_path / "run", {})
    sha = archive.commit_source(0, _source(tmp_path, "a", "one\n"), None, "node 0")
    archive.checkout(sha, tmp_path / "first")
    monkeypatch.setattr(archive, "_git", lambda: pytest.fail("git was asked for a commit it had already given"))
    archive.checkout(sha, tmp_path / "second")
    assert (tmp_path / "second" / "agent.txt").read_text() == "one\n"
    archive.close()


def test_database_is_wal(tmp_path: Path):
    Archive.create(tmp_path / "run", {}).close()
    mode = sqlite3.connect(tmp_path / "run" / "hgm.db").execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"


def test_second_writer_is_refused_with_pid(tmp_path: Path):
    first = Archive.create(tmp_path / "run", {})
    with pytest.raises(RunLocked, match=r"in use by another hgm process \(pid \d+\)"):
        Archive(tmp_path / "run", readonly=False)
    reader = Archive(tmp_path / "run")  # inspectors never need the lock
    assert reader.nodes() == []
    first.close()
    Archive(tmp_path / "run", readonly=False).close()


def test_not_a_run_dir(tmp_path: Path):
    with pytest.raises(ArchiveError, match="not an hgm run directory"):
        Archive(tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_refuses_non_empty_directory(tmp_path: Path):
    (tmp_path / "x").write_text("keep me")
    with pytest.raises(ArchiveError, match="not empty"):
        Archive.create(tmp_path, {})
    assert (tmp_path / "x").read_text() == "keep me"


def test_one_done_evaluation_per_node_and_task(tmp_path: Path):
    archive = Archive.create(tmp_path / "run", {})
    archive.start_work(0, "evaluate", 0, task="t1")
    archive.finish_evaluation(0, True, 0.0)
    archive.start_work(1, "evaluate", 0, task="t1")
    with pytest.raises(sqlite3.IntegrityError):
        archive.finish_evaluation(1, False, 0.0)
    assert [w.success for w in archive.evaluations()] == [True]


def test_artefacts_round_trip(tmp_path: Path):
    archive = Archive.create(tmp_path / "run", {})
    archive.save_artefacts(3, {"diagnosis.json": "{}", "evals/t1/log.txt": "ok"})
    names = [p.relative_to(archive.node_dir(3)).as_posix() for p in archive.artefacts(3)]
    assert names == ["diagnosis.json", "evals/t1/log.txt"]
