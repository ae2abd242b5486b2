"""Copies between host and sandbox never follow symlinks that sandboxed code could plant."""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest

from hgm.sandboxes import ManagedSandbox, SandboxError
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
        ws.copy_in(payload, "key-link")
        assert not (ws.root / "key-link").is_symlink()
        assert (ws.root / "key-link").read_text() == "overwrite\n"
    finally:
        ws.remove()
    assert (target / "key").read_text() == "secret\n"
    assert not ws.base.exists()


def test_sandboxed_symlinks_cannot_reach_host_files(open_box: OpenBox, any_backend: str, tmp_path: Path) -> None:
    box = open_box(any_backend)
    secret_dir = tmp_path / "host-only"
    secret_dir.mkdir()
    (secret_dir / "key").write_text("secret\n")
    assert box.exec(f"ln -s {secret_dir} outside && ln -s {secret_dir}/key key-link", timeout=30).returncode == 0
    got = box.export("key-link")
    assert got.files == {}
    assert got.notes == [f"dropped symlink 'key-link' -> '{secret_dir}/key': only regular files are exported"]
    payload = tmp_path / "payload"
    payload.write_text("overwrite\n")
    if any_backend == "docker":
        # Both resolve inside the container, where the host directory does not exist.
        with pytest.raises(FileNotFoundError):
            box.export("outside/key")
        with pytest.raises(SandboxError):
            box.copy_in(payload, "outside/key")
    else:
        with pytest.raises(UnsafePathError):
            box.copy_in(payload, "outside/key")
        if any_backend == "local":
            # Nothing is isolated here: sandboxed code sees the host's own paths, and so does its export.
            assert box.export("outside/key").files == {"key": b"secret\n"}
        else:
            with pytest.raises(FileNotFoundError):
                box.export("outside/key")
    assert (secret_dir / "key").read_text() == "secret\n"


def test_removing_a_workspace_twice_leaves_its_parent_alone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    parent = tmp_path / "tmp"
    parent.mkdir(mode=0o1777)
    parent.chmod(0o1777)
    monkeypatch.setattr(tempfile, "tempdir", str(parent))
    seed = tmp_path / "seed"
    seed.mkdir()
    ws = HostWorkspace(seed, "/workspace")
    assert ws.base.parent == parent
    ws.remove()
    ws.remove()
    assert not ws.base.exists()
    assert stat.S_IMODE(parent.stat().st_mode) == 0o1777
