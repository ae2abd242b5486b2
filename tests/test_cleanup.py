"""Removing what a run leaves behind: never more than it made, and never another process's things."""

from __future__ import annotations

from pathlib import Path

from hgm.sandboxes.hostfs import remove_tree


def test_removing_a_tree_that_is_already_gone_leaves_its_parent_alone(tmp_path: Path):
    parent = tmp_path / "x"
    parent.mkdir()
    parent.chmod(0o755)
    remove_tree(parent / "gone")
    assert parent.stat().st_mode & 0o777 == 0o755


def test_read_only_directories_inside_the_tree_are_removed_but_the_parent_keeps_its_mode(tmp_path: Path):
    parent = tmp_path / "parent"
    parent.mkdir()
    parent.chmod(0o751)
    tree = parent / "tree"
    locked = tree / "a" / "locked"
    locked.mkdir(parents=True)
    (locked / "file").write_text("x")
    locked.chmod(0o500)
    tree.chmod(0o500)
    remove_tree(tree)
    assert not tree.exists()
    assert parent.stat().st_mode & 0o777 == 0o751
