"""Exports from real sandboxes: what hostile code leaves in its workspace comes out as bounded regular files only."""

from __future__ import annotations

import resource
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from hgm.sandboxes import ManagedSandbox
from hgm.sandboxes.export import ExportLimits

OpenBox = Callable[..., ManagedSandbox]
MiB = 1024 * 1024


def test_links_devices_and_fifos_are_dropped_and_noted(
    open_box: OpenBox, any_backend: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = f"sk-test-secret-{uuid.uuid4().hex}"
    monkeypatch.setenv("OPENAI_API_KEY", secret)
    host_file = tmp_path / "host-secret.txt"
    host_file.write_text(secret)
    box = open_box(any_backend)
    plant = (
        "echo mine > real.txt && mkdir -p traj && ln -s /proc/self/environ traj/trajectory.json && "
        f"ln -s {host_file} host.txt && ln -s /dev/zero zero && ln real.txt hard.txt && mkfifo pipe && "
        "ln -s /proc/self/environ environ-link"
    )
    assert box.exec(plant, timeout=30).returncode == 0
    got = box.export(".")
    # tar stores the first of two hard links (by name) as the file, the second as a link to it.
    assert got.files == {"hard.txt": b"mine\n"}
    assert sorted(got.notes) == [
        "dropped FIFO 'pipe': only regular files are exported",
        "dropped hard link 'real.txt' -> 'hard.txt': only regular files are exported",
        "dropped symlink 'environ-link' -> '/proc/self/environ': only regular files are exported",
        f"dropped symlink 'host.txt' -> '{host_file}': only regular files are exported",
        "dropped symlink 'traj/trajectory.json' -> '/proc/self/environ': only regular files are exported",
        "dropped symlink 'zero' -> '/dev/zero': only regular files are exported",
    ]
    assert got.complete is True
    single = box.export("traj/trajectory.json")
    assert single.files == {}
    assert single.notes == [
        "dropped symlink 'trajectory.json' -> '/proc/self/environ': only regular files are exported"
    ]
    assert secret not in repr(got) + repr(single)


def test_a_sparse_2gb_file_is_cut_without_growing_the_host(open_box: OpenBox, any_backend: str) -> None:
    box = open_box(any_backend, file_size_mb=4096)
    assert box.exec("truncate -s 2G huge && echo after > zz-after.txt", timeout=30).returncode == 0
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    got = box.export(".", ExportLimits(max_file_bytes=MiB, max_read_bytes=64 * MiB))
    grown_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert got.files == {"huge": bytes(MiB)}
    assert got.notes == [
        f"truncated 'huge' to {MiB} of {2 * 1024 * MiB} bytes",
        f"stopped after reading {64 * MiB} bytes of archive, the read cap",
    ]
    assert got.complete is False
    assert grown_kib < 64 * 1024
    assert box.exec("echo still-works", timeout=30).output == "still-works\n"


def test_a_hundred_thousand_files_stop_at_the_entry_cap(open_box: OpenBox, any_backend: str) -> None:
    box = open_box(any_backend)
    made = box.exec("mkdir many && cd many && seq 1 100000 | xargs touch && ls | wc -l", timeout=600)
    assert made.output == "100000\n"
    got = box.export("many", ExportLimits(max_files=5000))
    assert len(got.files) == 4999
    assert set(got.files.values()) == {b""}
    assert got.notes == ["stopped after 5000 entries, the entry cap"]
    assert got.complete is False
    assert box.exec("echo still-works", timeout=30).output == "still-works\n"


def test_names_with_newlines_or_dots_are_contained(open_box: OpenBox, any_backend: str, tmp_path: Path) -> None:
    box = open_box(any_backend)
    plant = "printf x > \"$(printf 'new\\nline')\" && printf y > ..hidden && mkdir -p a/.. && printf z > '...'"
    assert box.exec(plant, timeout=30).returncode == 0
    got = box.export(".")
    assert got.files == {"..hidden": b"y", "...": b"z"}
    assert got.notes == ["dropped 'new\\nline': name has control characters"]
    out = tmp_path / "out"
    out.mkdir()
    got.write_into(out)
    assert sorted(p.name for p in out.iterdir()) == ["...", "..hidden"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "ws0"]


def test_unreadable_files_make_an_incomplete_export(open_box: OpenBox, any_backend: str) -> None:
    box = open_box(any_backend)
    assert box.exec("echo a > ok && echo b > locked && chmod 000 locked", timeout=30).returncode == 0
    got = box.export(".")
    if any_backend == "local" and box.exec("id -u", timeout=30).output == "0\n":
        # Root reads any file, so a local sandbox run as root exports it.
        assert got.files == {"ok": b"a\n", "locked": b"b\n"}
        return
    assert got.files == {"ok": b"a\n"}
    assert any("locked: Cannot open: Permission denied" in note for note in got.notes)
    assert got.notes[-1] == "tar exited with status 2: some files are missing"
    assert got.complete is False
