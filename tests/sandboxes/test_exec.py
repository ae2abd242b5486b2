"""Commands, environment, timeouts and file copies, the same on every backend."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from hgm.sandboxes import ManagedSandbox
from hgm.sandboxes.paths import OutsideWorkspaceError

OpenBox = Callable[..., ManagedSandbox]


def test_output_and_return_code(open_box: OpenBox, any_backend: str) -> None:
    box = open_box(any_backend)
    result = box.exec("echo out; echo err >&2; exit 3", timeout=30)
    assert result.output == "out\nerr\n"
    assert result.returncode == 3
    assert result.timed_out is False
    assert box.exec("pwd", timeout=30).output.strip() == box.workdir


def test_env_is_minimal_plus_given(open_box: OpenBox, any_backend: str) -> None:
    box = open_box(any_backend, env={"HGM_TOKEN": "node-7"})
    seen = dict(
        line.split("=", 1)
        for line in box.exec("env", timeout=30, env={"EXTRA": "1"}).output.splitlines()
        if "=" in line
    )
    assert seen["HGM_TOKEN"] == "node-7"
    assert seen["EXTRA"] == "1"
    assert seen["LANG"] == "C.UTF-8"
    assert set(seen) <= {"HGM_TOKEN", "EXTRA", "PATH", "HOME", "LANG", "PWD", "SHLVL", "HOSTNAME", "_"}


def test_workspace_starts_as_copy_and_copies_round_trip(open_box: OpenBox, any_backend: str, tmp_path: Path) -> None:
    seed = tmp_path / "seed"
    (seed / "pkg").mkdir(parents=True)
    (seed / "pkg" / "mod.py").write_text("X = 1\n")
    (seed / "README").write_text("hello\n")
    os.symlink("pkg/mod.py", seed / "link")
    box = open_box(any_backend, seed)
    assert box.exec("cat README pkg/mod.py link", timeout=30).output == "hello\nX = 1\nX = 1\n"
    assert box.exec("echo 'X = 2' > pkg/mod.py && mkdir -p new/deep && echo n > new/deep/f", timeout=30).returncode == 0
    assert (seed / "pkg" / "mod.py").read_text() == "X = 1\n"

    got = box.export(".")
    assert got.files == {"README": b"hello\n", "pkg/mod.py": b"X = 2\n", "new/deep/f": b"n\n"}
    assert got.notes == ["dropped symlink 'link' -> 'pkg/mod.py': only regular files are exported"]
    assert got.complete is True
    out = tmp_path / "out"
    out.mkdir()
    got.write_into(out)
    assert (out / "pkg" / "mod.py").read_text() == "X = 2\n"
    assert (out / "new" / "deep" / "f").read_text() == "n\n"

    extra = tmp_path / "extra.txt"
    extra.write_text("data\n")
    box.copy_in(extra, "a/b/extra.txt")
    box.copy_in(seed / "pkg", "pkg2")
    assert box.exec("cat a/b/extra.txt pkg2/mod.py && echo more >> a/b/extra.txt", timeout=30).output == "data\nX = 1\n"
    assert box.export(f"{box.workdir}/a/b/extra.txt").text("extra.txt") == "data\nmore\n"
    assert box.export("a").files == {"b/extra.txt": b"data\nmore\n"}


def test_copies_refuse_paths_outside_the_workspace(open_box: OpenBox, any_backend: str, tmp_path: Path) -> None:
    box = open_box(any_backend)
    (tmp_path / "f").write_text("x")
    with pytest.raises(OutsideWorkspaceError):
        box.copy_in(tmp_path / "f", "../f")
    with pytest.raises(OutsideWorkspaceError):
        box.export("/etc/passwd")
    with pytest.raises(FileNotFoundError, match="'missing.txt' from the sandbox: it does not exist"):
        box.export("missing.txt")


def _host_processes_with(marker: str) -> list[str]:
    found = []
    for entry in Path("/proc").iterdir():
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if entry.name.isdigit() and marker in cmdline:
            found.append(cmdline)
    return found


def _wait_until_gone(marker: str) -> list[str]:
    for _ in range(100):
        left = _host_processes_with(marker)
        if not left:
            return left
        time.sleep(0.05)
    return left


def test_timeout_kills_the_whole_tree(open_box: OpenBox, any_backend: str) -> None:
    box = open_box(any_backend)
    marker = f"hgm-loop-{any_backend}-{os.getpid()}"
    result = box.exec(f"sh -c 'sleep 300; : {marker}' & while true; do :; done; : {marker}", timeout=1)
    assert result.timed_out is True
    assert result.returncode == -9
    assert "timed out after 1s" in result.output
    assert _wait_until_gone(marker) == []
    assert box.exec("echo alive", timeout=30).output == "alive\n"


def test_background_processes_end_with_their_command(open_box: OpenBox, any_backend: str) -> None:
    box = open_box(any_backend)
    marker = f"hgm-bg-{any_backend}-{os.getpid()}"
    result = box.exec(f"sh -c 'sleep 300; : {marker}' > /dev/null 2>&1 & echo started", timeout=30)
    assert result.output == "started\n"
    assert result.timed_out is False
    assert _wait_until_gone(marker) == []


def test_long_output_is_truncated_with_a_note(open_box: OpenBox, any_backend: str) -> None:
    box = open_box(any_backend, max_output=10_000)
    result = box.exec("python3 -c \"print('a' * 50000); print('END')\"", timeout=30)
    assert result.returncode == 0
    assert result.output.startswith("aaaa")
    assert result.output.endswith("END\n")
    assert "bytes of output omitted" in result.output
    assert len(result.output) < 10_200


def test_missing_workspace_is_an_error(open_box: OpenBox, any_backend: str, tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="is not a directory"):
        open_box(any_backend, tmp_path / "does-not-exist")


def test_sandboxes_work_side_by_side(open_box: OpenBox, any_backend: str) -> None:
    boxes = [open_box(any_backend) for _ in range(3)]
    outputs: dict[int, str] = {}

    def run(i: int) -> None:
        outputs[i] = boxes[i].exec(f"echo {i} > mine && sleep 0.5 && cat mine", timeout=60).output

    threads = [threading.Thread(target=run, args=(i,)) for i in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outputs == {0: "0\n", 1: "1\n", 2: "2\n"}


def test_command_that_closes_its_output_still_runs_to_the_end(open_box: OpenBox, any_backend: str) -> None:
    box = open_box(any_backend)
    result = box.exec("echo before; exec >&- 2>&-; sleep 1; touch finished", timeout=30)
    assert result.output == "before\n"
    assert result.returncode == 0
    assert box.exec("ls finished", timeout=30).output == "finished\n"
