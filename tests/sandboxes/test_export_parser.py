"""The bounded tar parser on hostile input: it keeps regular files within caps, notes why, and never raises."""

from __future__ import annotations

import io
import itertools
import os
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hgm.sandboxes.export import MAX_META, MAX_NOTES, Export, ExportLimits, clean_name, read_tar_stream

NAME_PART = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789_-.é", min_size=1, max_size=12).filter(
    lambda part: part not in (".", "..")
)
NAMES = st.lists(NAME_PART, min_size=1, max_size=4).map("/".join)


def archive(*members: tuple[tarfile.TarInfo, bytes], fmt: int = tarfile.GNU_FORMAT) -> bytes:
    """A tar archive of the given headers and contents."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as tar:
        for info, data in members:
            info.size = len(data) if info.isreg() else 0
            tar.addfile(info, io.BytesIO(data) if info.isreg() else None)
    return buf.getvalue()


def entry(name: str, data: bytes = b"", kind: bytes = tarfile.REGTYPE, link: str = "") -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, link
    return info, data


def chunked(data: bytes, size: int) -> Iterator[bytes]:
    for i in range(0, len(data), size):
        yield data[i : i + size]


@settings(max_examples=60, deadline=None)
@given(
    files=st.dictionaries(NAMES, st.binary(max_size=3000), max_size=8),
    chunk=st.integers(1, 4096),
    fmt=st.sampled_from([tarfile.GNU_FORMAT, tarfile.PAX_FORMAT, tarfile.USTAR_FORMAT]),
)
def test_regular_files_round_trip_whatever_the_chunking(files: dict[str, bytes], chunk: int, fmt: int) -> None:
    # A file and a directory of the same name cannot both exist; keep the generated tree a real one.
    files = {k: v for k, v in files.items() if not any(o.startswith(k + "/") for o in files)}
    data = archive(*(entry(name, content) for name, content in files.items()), fmt=fmt)
    got = read_tar_stream(chunked(data, chunk))
    assert got.files == files
    assert got.notes == []
    assert got.complete is True


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=6000))
def test_arbitrary_bytes_never_raise_and_stay_within_caps(data: bytes) -> None:
    limits = ExportLimits(max_file_bytes=100, max_total_bytes=300, max_files=5, max_read_bytes=5000)
    got = read_tar_stream([data], limits)
    assert sum(map(len, got.files.values())) <= 300
    assert len(got.files) <= 5
    assert all(len(v) <= 100 for v in got.files.values())
    assert all(clean_name(name.encode(), limits) == (name, "") for name in got.files)


@settings(max_examples=300, deadline=None)
@given(positions=st.lists(st.integers(0, 10**6), max_size=6), values=st.lists(st.integers(0, 255), max_size=6))
def test_damaged_archives_never_raise(positions: list[int], values: list[int]) -> None:
    good = archive(
        entry("a/long/" + "x" * 150, b"1" * 700),
        entry("b", b"2" * 10),
        entry("link", kind=tarfile.SYMTYPE, link="/etc/passwd"),
        fmt=tarfile.PAX_FORMAT,
    )
    data = bytearray(good)
    for pos, value in zip(positions, values, strict=False):
        data[pos % len(data)] = value
    limits = ExportLimits()
    got = read_tar_stream(chunked(bytes(data), 333), limits)
    assert len(got.files) <= 3
    assert all(name and clean_name(name.encode(), limits) == (name, "") for name in got.files)
    assert sum(map(len, got.files.values())) <= len(data)


def test_everything_but_regular_files_is_dropped_and_noted() -> None:
    data = archive(
        entry("./", kind=tarfile.DIRTYPE),
        entry("./keep.txt", b"kept"),
        entry("./env", kind=tarfile.SYMTYPE, link="/proc/self/environ"),
        entry("./zero", kind=tarfile.SYMTYPE, link="/dev/zero"),
        entry("./hard", kind=tarfile.LNKTYPE, link="keep.txt"),
        entry("./fifo", kind=tarfile.FIFOTYPE),
        entry("./tty", kind=tarfile.CHRTYPE),
        entry("./disk", kind=tarfile.BLKTYPE),
        entry("./sub", kind=tarfile.DIRTYPE),
    )
    got = read_tar_stream([data])
    assert got.files == {"keep.txt": b"kept"}
    assert got.notes == [
        "dropped symlink 'env' -> '/proc/self/environ': only regular files are exported",
        "dropped symlink 'zero' -> '/dev/zero': only regular files are exported",
        "dropped hard link 'hard' -> 'keep.txt': only regular files are exported",
        "dropped FIFO 'fifo': only regular files are exported",
        "dropped character device 'tty': only regular files are exported",
        "dropped block device 'disk': only regular files are exported",
    ]
    # Links and devices are never content, so leaving them out does not make an export incomplete.
    assert got.complete is True


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("/etc/passwd", "absolute name"),
        ("../escape", "name climbs out with '..'"),
        ("a/../../escape", "name climbs out with '..'"),
        ("new\nline", "name has control characters"),
        ("nul\0byte", "name has control characters"),
        ("bell\x07", "name has control characters"),
        ("x" * 300, "name has a component longer than 255 bytes"),
        ("/".join(["d"] * 600), "name longer than 1024 bytes"),
    ],
)
def test_unsafe_names_are_dropped_and_noted(name: str, why: str) -> None:
    # A PAX record carries any name byte for byte, NUL included, as a hostile producer could.
    info, data = entry("placeholder", b"payload")
    info.pax_headers = {"path": name}
    data = archive((info, data), entry("ok", b"fine"), fmt=tarfile.PAX_FORMAT)
    got = read_tar_stream([data])
    assert got.files == {"ok": b"fine"}
    assert len(got.notes) == 1
    assert got.notes[0].endswith(f": {why}")
    assert got.complete is False


def test_names_are_normalised() -> None:
    data = archive(entry("./a//b/./c", b"1"), entry("d/", b"2"))
    assert read_tar_stream([data]).files == {"a/b/c": b"1", "d": b"2"}


def test_names_that_are_not_utf8_are_dropped() -> None:
    info = tarfile.TarInfo("x")
    header = bytearray(archive((info, b"data")))
    header[0:3] = b"\xff\xfe\x00"
    header[148:156] = b"        "
    header[148:155] = f"{sum(header[:512]):06o}\0".encode()
    got = read_tar_stream([bytes(header)])
    assert got.files == {}
    assert got.notes[0].endswith(": name is not UTF-8")


def test_long_files_are_truncated_and_the_rest_is_skipped() -> None:
    data = archive(entry("big", b"a" * 5000), entry("after", b"still here"))
    got = read_tar_stream(chunked(data, 700), ExportLimits(max_file_bytes=1000))
    assert got.files == {"big": b"a" * 1000, "after": b"still here"}
    assert got.notes == ["truncated 'big' to 1000 of 5000 bytes"]
    assert got.complete is False


def test_total_cap_stops_reading() -> None:
    data = archive(*(entry(f"f{i}", b"z" * 400) for i in range(10)))
    got = read_tar_stream([data], ExportLimits(max_total_bytes=1000))
    assert got.files == {"f0": b"z" * 400, "f1": b"z" * 400, "f2": b"z" * 200}
    assert got.notes == [
        "truncated 'f2' to 200 of 400 bytes",
        "stopped after 1000 bytes of file content, the total cap",
    ]
    assert got.complete is False


def test_entry_cap_stops_reading() -> None:
    data = archive(*(entry(f"f{i}", b"") for i in range(50)))
    got = read_tar_stream([data], ExportLimits(max_files=20))
    assert len(got.files) == 20
    assert got.notes == ["stopped after 20 entries, the entry cap"]


def _endless_file(size: int) -> Iterator[bytes]:
    """A header announcing a `size`-byte file, then zeros forever; counts what was pulled in `pulled`."""
    info = tarfile.TarInfo("zero")
    info.size = size
    yield info.tobuf(format=tarfile.GNU_FORMAT)
    yield from itertools.repeat(bytes(65536))


def test_an_endless_stream_is_read_only_up_to_the_read_cap() -> None:
    pulled = 0

    def counted() -> Iterator[bytes]:
        nonlocal pulled
        for chunk in _endless_file(100 * 1024**3):
            pulled += len(chunk)
            yield chunk

    limits = ExportLimits(max_file_bytes=4096, max_read_bytes=8 * 1024 * 1024)
    got = read_tar_stream(counted(), limits)
    assert got.files == {"zero": bytes(4096)}
    assert got.notes == [
        "truncated 'zero' to 4096 of 107374182400 bytes",
        "stopped after reading 8388608 bytes of archive, the read cap",
    ]
    assert pulled <= limits.max_read_bytes + 65536


def test_oversized_and_malformed_extended_headers_stop_reading() -> None:
    huge = tarfile.TarInfo("././@LongLink")
    huge.type, huge.size = tarfile.GNUTYPE_LONGNAME, MAX_META + 1
    got = read_tar_stream([huge.tobuf(format=tarfile.USTAR_FORMAT)])
    assert got.notes == [f"stopped at an extended header of {MAX_META + 1} bytes (more than {MAX_META})"]
    bad = tarfile.TarInfo("pax")
    bad.type, bad.size = tarfile.XHDTYPE, 12
    got = read_tar_stream([bad.tobuf(format=tarfile.USTAR_FORMAT) + b"99 path=x\n\0\0".ljust(512, b"\0")])
    assert got.notes == ["stopped at a malformed extended header (bad pax record length)"]
    assert got.complete is False


def test_bad_checksum_and_early_end_are_noted() -> None:
    data = bytearray(archive(entry("a", b"1"), entry("b", b"2")))
    data[512 * 2 + 10] ^= 0xFF
    got = read_tar_stream([bytes(data)])
    assert got.files == {"a": b"1"}
    assert got.notes == ["stopped at a malformed archive header after 1024 bytes"]
    cut = archive(entry("a", b"1" * 1000))[:900]
    got = read_tar_stream([cut])
    assert got.files == {}
    assert got.notes == ["archive ended inside a file"]
    assert read_tar_stream([b""]) == Export()


def test_duplicate_names_keep_the_first() -> None:
    got = read_tar_stream([archive(entry("a", b"first"), entry("./a", b"second"))])
    assert got.files == {"a": b"first"}
    assert got.notes == ["dropped a second entry named 'a'"]


def test_notes_are_capped() -> None:
    data = archive(*(entry(f"l{i}", kind=tarfile.SYMTYPE, link="x") for i in range(MAX_NOTES + 30)))
    got = read_tar_stream([data])
    assert len(got.notes) == MAX_NOTES + 1
    assert got.notes[-1] == "... and 30 more notes"


def test_text_replaces_undecodable_bytes() -> None:
    assert Export(files={"t": b"ok \xff"}).text("t") == "ok \ufffd"
    with pytest.raises(KeyError):
        Export().text("missing")


def test_write_into_creates_everything_itself(tmp_path: Path) -> None:
    dest = tmp_path / "dest"
    dest.mkdir()
    Export(files={"a/b/c.txt": b"c", "a/d.txt": b"d", "e": b"e"}).write_into(dest)
    assert sorted(str(p.relative_to(dest)) for p in dest.rglob("*")) == ["a", "a/b", "a/b/c.txt", "a/d.txt", "e"]
    assert (dest / "a" / "b" / "c.txt").read_bytes() == b"c"


def test_write_into_follows_and_overwrites_nothing(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    dest = tmp_path / "dest"
    dest.mkdir()
    os.symlink(outside, dest / "link")
    (dest / "taken").write_text("host's")
    got = Export(files={"link/x": b"1", "taken": b"2", "f": b"3", "f/g": b"4"})
    got.write_into(dest)
    assert list(outside.iterdir()) == []
    assert (dest / "taken").read_text() == "host's"
    assert (dest / "f").read_bytes() == b"3"
    assert sorted(got.notes) == [
        "not written 'f/g': Not a directory",
        "not written 'link/x': Not a directory",
        "not written 'taken': File exists",
    ]
    assert got.complete is False
    with pytest.raises(OSError):
        got.write_into(dest / "link")


@pytest.mark.parametrize("name", ["../up", "/abs", "a/../../up", "a//b", "./a", "", "a/."])
def test_write_into_refuses_names_a_parser_would_never_make(tmp_path: Path, name: str) -> None:
    dest = tmp_path / "dest"
    dest.mkdir()
    got = Export(files={name: b"x", "ok": b"y"})
    got.write_into(dest)
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["dest", "ok"]
    assert got.notes == [f"not written {name!r}: not a plain relative name"]
