"""What travels with a Ray job, without a cluster: sources out as tar, artefacts back clipped."""

from __future__ import annotations

from pathlib import Path

from hgm.execution.raycluster import source_tar
from hgm.execution.remote import clip_artefacts
from hgm.sandboxes.export import ExportLimits, read_tar_stream


def test_artefacts_are_clipped_to_the_limit_and_say_so():
    clipped = clip_artefacts({"a": "x" * 30, "b": "y" * 100}, 50)
    assert clipped["a"] == "x" * 30
    assert clipped["b"].startswith("y" * 20) and "y" * 21 not in clipped["b"]
    assert "it was 100 bytes" in clipped["b"]


def test_a_source_tar_holds_regular_files_and_no_symlinks(tmp_path: Path):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "a.py").write_text("print(1)\n")
    (tmp_path / "link").symlink_to("/etc/passwd")
    got = read_tar_stream([source_tar(tmp_path)], ExportLimits())
    assert got.complete
    assert got.files == {"pkg/a.py": b"print(1)\n"}
