"""Secrets reach sandboxed code as files only: never in a host process's command line or environment."""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from hgm.interfaces import ExecResult
from hgm.sandboxes import ManagedSandbox

OpenBox = Callable[..., ManagedSandbox]


def _host_processes_holding(needle: bytes) -> list[str]:
    """Every host process whose command line or environment contains `needle` (as far as this user may read)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        for part in ("cmdline", "environ"):
            try:
                data = (entry / part).read_bytes()
            except OSError:
                continue
            if needle in data:
                found.append(f"{entry.name} {part}")
    return found


def _wait_for_process(marker: str, stop: threading.Event) -> bool:
    """Whether a process whose command line contains `marker` appears before `stop` is set."""
    while not stop.wait(0.05):
        for entry in Path("/proc").iterdir():
            try:
                if entry.name.isdigit() and marker.encode() in (entry / "cmdline").read_bytes():
                    return True
            except OSError:
                continue
    return False


def test_secrets_are_files_only_the_sandbox_user_reads(open_box: OpenBox, any_backend: str) -> None:
    token = f"tok-{uuid.uuid4().hex}"
    box = open_box(any_backend, secrets={"token": token, "other.key": "second"})
    result = box.exec(
        f"cat {box.secrets_dir}/token; echo; cat {box.secrets_dir}/other.key; echo; "
        f"stat -c '%a %u' {box.secrets_dir}/token {box.secrets_dir}; id -u",
        timeout=30,
    )
    lines = result.output.splitlines()
    uid = lines[-1]
    assert lines[:2] == [token, "second"]
    assert lines[2] == f"400 {uid}"
    mode, owner = lines[3].split()
    assert owner == uid
    assert int(mode, 8) & 0o077 == 0
    assert token not in box.exec("env; cat /proc/self/cmdline", timeout=30).output


def test_no_host_process_shows_a_secret_while_sandboxed_code_runs(open_box: OpenBox, any_backend: str) -> None:
    token = f"tok-{uuid.uuid4().hex}"
    visible = f"env-{uuid.uuid4().hex}"
    box = open_box(any_backend, secrets={"token": token}, env={"HGM_NOT_SECRET": visible})
    marker = f"hgm-wait-{uuid.uuid4().hex[:8]}"
    done: list[ExecResult] = []
    stop = threading.Event()
    # The command holds the secret open in a running process and waits until the test lets it go.
    command = f"exec 3< {box.secrets_dir}/token; until [ -e release ]; do sleep 0.05; done; : {marker}"
    runner = threading.Thread(target=lambda: done.append(box.exec(command, timeout=300)))
    runner.start()
    timer = threading.Timer(240, stop.set)
    timer.start()
    try:
        assert _wait_for_process(marker, stop), "the sandboxed command never started"
        assert _host_processes_holding(token.encode()) == []
        # Plain environment values are visible to the sandbox's own processes, but never on a command line.
        seen = _host_processes_holding(visible.encode())
        assert [p for p in seen if p.endswith("cmdline")] == []
        if os.geteuid() == 0:
            # Root reads every process, so the scan sees the sandboxed ones: a secret there would have been found.
            assert [p for p in seen if p.endswith("environ")] != []
    finally:
        release = Path(box.workdir) / "release" if any_backend == "local" else None
        if release is not None:
            release.touch()
        else:
            flag = Path(f"/tmp/release-{os.getpid()}")
            flag.touch()
            box.copy_in(flag, "release")
            flag.unlink()
        runner.join()
        timer.cancel()
    assert done[0].returncode == 0
    assert done[0].timed_out is False


@pytest.mark.parametrize("name", ["../escape", "a/b", "", ".hidden", "x" * 65, "new\nline"])
def test_secret_names_must_be_plain_file_names(open_box: OpenBox, name: str) -> None:
    with pytest.raises(ValueError, match="is not a plain file name"):
        open_box("local", secrets={name: "v"})


def test_a_mount_may_not_cover_the_secrets(open_box: OpenBox, isolated_backend: str, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="would cover the secrets directory /run/hgm/secrets"):
        open_box(isolated_backend, mounts={str(tmp_path): "/run/hgm"}, secrets={"token": "v"})
