"""Copies between host and sandbox never follow symlinks that sandboxed code could plant."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from hgm.sandboxes import ManagedSandbox
from hgm.sandboxes.hostfs import HostWorkspace, UnsafePathError
from hgm.sandboxes.output import CappedOutput
from hgm.sandboxes.paths import OutsideWorkspaceError, workspace_relative

OpenBox = Callable[..., ManagedSandbox]


def test_workspace_relative_normalises_and_refuses_escapes() -> None:
    assert workspace_relative("/workspace", "a/./b/../c") == "a/c"
    assert workspace_relative("/workspace", "/workspace/x") == "x"
    assert workspace_relative("/workspace", ".") == "."
    with pytest.raises(OutsideWorkspaceError):
        workspace_relative("/workspace", "a/../../etc")
    with pytest.raises(OutsideWorkspaceError):
        workspace_relative("/workspace", "/workspaces/x")


def test_capped_output_keeps_head_and_tail() -> None:
    out = CappedOutput(10)
    for chunk in (b"abc", b"defgh", b"ijklmnop", b"qrs"):
        out.write(chunk)
    assert out.dropped == 9
    assert out.text() == "abcde\n[hgm: 9 bytes of output omitted]\nopqrs"
    assert out.text("stopped") == "abcde\n[hgm: 9 bytes of output omitted]\nopqrs\n[hgm: stopped]\n"


def test_capped_output_under_the_limit_is_unchanged() -> None:
    out = CappedOutput(100)
    out.write("héllo\n".encode())
    assert out.text() == "héllo\n"
    assert out.dropped == 0


def test_planted_symlinks_are_not_followed(tmp_path: Path) -> None:
    seed = tmp_path / "seed"
    seed.mkdir()
    target = tmp_path / "host-secret"
    target.mkdir()
    (target / "key").write_text("secret\n")
    ws = HostWorkspace(seed, "/workspace")
    try:
        os.symlink(target, ws.root / "escape")
        os.symlink(target / "key", ws.root / "key-link")
        payload = tmp_path / "payload"
        payload.write_text("overwrite\n")
        with pytest.raises(UnsafePathError):
            ws.copy_in(payload, "escape/key")
        with pytest.raises(UnsafePathError):
            ws.copy_out("escape/key", tmp_path / "stolen")
        ws.copy_in(payload, "key-link")
        ws.copy_out("key-link", tmp_path / "copied")
        ws.copy_out(".", tmp_path / "all")
    finally:
        ws.remove()
    assert (target / "key").read_text() == "secret\n"
    assert not (tmp_path / "stolen").exists()
    assert (tmp_path / "copied").read_text() == "overwrite\n"
    assert os.readlink(tmp_path / "all" / "escape") == str(target)
    assert not ws.base.exists()


def test_sandboxed_symlinks_cannot_reach_host_files(open_box: OpenBox, any_backend: str, tmp_path: Path) -> None:
    box = open_box(any_backend)
    secret_dir = tmp_path / "host-only"
    secret_dir.mkdir()
    (secret_dir / "key").write_text("secret\n")
    assert box.exec(f"ln -s {secret_dir} outside && ln -s {secret_dir}/key key-link", timeout=30).returncode == 0
    box.copy_out("key-link", tmp_path / "out-link")
    assert os.readlink(tmp_path / "out-link") == f"{secret_dir}/key"
    payload = tmp_path / "payload"
    payload.write_text("overwrite\n")
    if any_backend == "docker":
        # The link resolves inside the container, where the host directory does not exist.
        with pytest.raises(FileNotFoundError):
            box.copy_out("outside/key", tmp_path / "stolen")
        box.copy_in(payload, "outside/key")
    else:
        with pytest.raises(UnsafePathError):
            box.copy_out("outside/key", tmp_path / "stolen")
        with pytest.raises(UnsafePathError):
            box.copy_in(payload, "outside/key")
    assert (secret_dir / "key").read_text() == "secret\n"
    assert not (tmp_path / "stolen").exists()
