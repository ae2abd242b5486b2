"""The one way bytes leave a sandbox: a tar stream made inside it, read here by a bounded parser of regular files.

Everything in the stream is hostile: names, sizes, entry types and the framing itself. The parser keeps regular
files only, confines their names, cuts long files, stops at caps, and never holds more than the caps in memory.
"""

from __future__ import annotations

import contextlib
import errno
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

MiB = 1024 * 1024
BLOCK = 512
# Longest pax or GNU long-name record read; real ones are a few hundred bytes.
MAX_META = 64 * 1024
MAX_NOTES = 100
MAX_TRAILER = 1024 * 1024
MAX_ERROR_LINES = 20
MAX_COMPONENT = 255
# Exit status of the producer when the path to export does not exist.
MISSING = 66
# Made inside the sandbox as its user: a directory is archived from inside, anything else by its own name, never
# following a final symlink. The sandbox path is absolute, so the parameter expansions always find a parent.
TAR_SCRIPT = (
    f'if [ ! -e "$1" ] && [ ! -L "$1" ]; then exit {MISSING}; fi; '
    'if [ -d "$1" ] && [ ! -L "$1" ]; then cd -- "$1" && set -- .; '
    'else cd -- "${1%/*}/" && set -- "${1##*/}"; fi; '
    'exec tar --create --file=- --format=gnu --sort=name --one-file-system --numeric-owner -- "$@"'
)

HIGH_BYTES = bytes(range(128, 256))
REGULAR = {b"0", b"\0", b"7"}
KINDS = {
    b"1": "hard link",
    b"2": "symlink",
    b"3": "character device",
    b"4": "block device",
    b"5": "directory",
    b"6": "FIFO",
}


def export_argv(path: str) -> list[str]:
    """The command, run inside a sandbox, that writes `path` (absolute there) to stdout as a tar stream."""
    return ["sh", "-c", TAR_SCRIPT, "hgm-export", path]


@dataclass(frozen=True)
class ExportLimits:
    """Caps on what one export takes out of a sandbox."""

    max_file_bytes: int = 8 * MiB  # a longer file keeps its first bytes
    max_total_bytes: int = 64 * MiB  # file content kept in all; reading stops there
    max_files: int = 20_000  # archive entries of any kind; reading stops there
    max_path_bytes: int = 1024  # entries with longer names are dropped
    max_read_bytes: int = 512 * MiB  # archive bytes read in all, skipped content included; reading stops there


@dataclass
class Export:
    """Regular files taken out of a sandbox (relative posix path -> content), with what was dropped or cut and why."""

    files: dict[str, bytes] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    complete: bool = True
    _omitted: int = field(default=0, repr=False, compare=False)

    def note(self, text: str, *, incomplete: bool = False) -> None:
        """Record why something is missing; only the first notes are kept, the rest are counted."""
        if incomplete:
            self.complete = False
        if len(self.notes) < MAX_NOTES:
            self.notes.append(text)
        else:
            self._omitted += 1
            more = f"... and {self._omitted} more notes"
            if self.notes[-1].startswith("... and "):
                self.notes[-1] = more
            else:
                self.notes.append(more)

    def text(self, name: str) -> str:
        """The file `name` decoded as UTF-8 with undecodable bytes replaced; KeyError if it was not exported."""
        return self.files[name].decode("utf-8", errors="replace")

    def write_into(self, dest: Path) -> None:
        """Write the files below `dest`, a directory the host made, creating every file and subdirectory itself.

        Nothing is followed or overwritten: an entry that would collide with one already there is skipped and noted.
        """
        top = os.open(dest, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
        # Directories open along the last file's path; sorted names let neighbours share them. Entry i is always
        # the i-th parent of the last file, even after a failure part-way down.
        stack: list[tuple[str, int]] = []
        try:
            for name in sorted(self.files):
                if not name or clean_name(name.encode(), ExportLimits(max_path_bytes=len(name.encode()))) != (name, ""):
                    self.note(f"not written {_show(name)}: not a plain relative name", incomplete=True)
                    continue
                *parents, leaf = name.split("/")
                keep = 0
                while keep < min(len(stack), len(parents)) and stack[keep][0] == parents[keep]:
                    keep += 1
                for _, fd in stack[keep:]:
                    os.close(fd)
                del stack[keep:]
                try:
                    for part in parents[keep:]:
                        stack.append((part, _subdir(stack[-1][1] if stack else top, part)))
                    _write_new(stack[-1][1] if stack else top, leaf, self.files[name])
                except OSError as exc:
                    self.note(f"not written {_show(name)}: {os.strerror(exc.errno or errno.EIO)}", incomplete=True)
        finally:
            for _, fd in stack:
                os.close(fd)
            os.close(top)


def _subdir(parent: int, name: str) -> int:
    with contextlib.suppress(FileExistsError):
        os.mkdir(name, 0o755, dir_fd=parent)
    return os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=parent)


def _write_new(parent: int, name: str, data: bytes) -> None:
    fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644, dir_fd=parent)
    with os.fdopen(fd, "wb") as out:
        out.write(data)


def _show(name: str | bytes) -> str:
    """A name as it may appear in a note: quoted, escaped, clipped."""
    text = repr(name if isinstance(name, str) else name.decode("utf-8", errors="replace"))
    return text if len(text) <= 160 else text[:157] + "..."


class _Stop(Exception):
    """Reading ends here; the message says why."""


class _Source:
    """Exact reads from a stream of chunks, counting every byte against a budget."""

    def __init__(self, chunks: Iterable[bytes], budget: int) -> None:
        self._chunks: Iterator[bytes] = iter(chunks)
        self._buf = b""
        self._pos = 0
        self.consumed = 0
        self._budget = budget

    def _fill(self) -> bool:
        for chunk in self._chunks:
            if chunk:
                self._buf, self._pos = bytes(chunk), 0
                return True
        return False

    def take(self, n: int) -> bytes | None:
        """Exactly `n` bytes, or None if the stream ends first."""
        parts: list[bytes] = []
        need = n
        while need:
            if self._pos >= len(self._buf) and not self._fill():
                return None
            piece = self._buf[self._pos : self._pos + need]
            self._pos += len(piece)
            need -= len(piece)
            parts.append(piece)
            self._count(len(piece))
        return b"".join(parts)

    def skip(self, n: int) -> bool:
        """Discard `n` bytes; False if the stream ends first."""
        while n:
            if self._pos >= len(self._buf) and not self._fill():
                return False
            step = min(n, len(self._buf) - self._pos)
            self._pos += step
            n -= step
            self._count(step)
        return True

    def skip_to_end(self, most: int) -> bool:
        """Discard the rest of the stream; False if more than `most` bytes remain (the rest stays unread)."""
        while True:
            left = len(self._buf) - self._pos
            if left > most:
                return False
            most -= left
            self._count(left)
            self._pos = len(self._buf)
            if not self._fill():
                return True

    def _count(self, n: int) -> None:
        self.consumed += n
        if self.consumed > self._budget:
            raise _Stop(f"stopped after reading {self._budget} bytes of archive, the read cap")


def _number(field_: bytes) -> int:
    """A numeric header field: octal text, or GNU base-256 for large values; raise ValueError if malformed."""
    if field_[0] & 0x80:
        if field_[0] & 0x40:
            raise ValueError("negative number")
        return int.from_bytes(bytes([field_[0] & 0x3F]) + field_[1:], "big")
    text = field_.split(b"\0", 1)[0].strip(b" ")
    return int(text, 8) if text else 0


def _checksum_ok(header: bytes) -> bool:
    try:
        stored = _number(header[148:156])
    except ValueError:
        return False
    blanked = header[:148] + b" " * 8 + header[156:]
    unsigned = sum(blanked)
    # Some old tars summed signed bytes.
    high = len(blanked) - len(blanked.translate(None, HIGH_BYTES))
    return stored in (unsigned, unsigned - 256 * high)


def _pax_records(data: bytes) -> dict[str, bytes]:
    """`length key=value\\n` records; raise ValueError if malformed."""
    records: dict[str, bytes] = {}
    pos = 0
    while pos < len(data):
        space = data.index(b" ", pos)
        length = int(data[pos:space])
        end = pos + length
        if length <= 0 or end > len(data) or data[end - 1 : end] != b"\n":
            raise ValueError("bad pax record length")
        key, sep, value = data[space + 1 : end - 1].partition(b"=")
        if not sep:
            raise ValueError("pax record without '='")
        records[key.decode("utf-8", errors="replace")] = value
        pos = end
    return records


def clean_name(raw: bytes, limits: ExportLimits) -> tuple[str | None, str]:
    """The confined relative posix name for an archive name, or None and why it is refused ("" for the root)."""
    if len(raw) > limits.max_path_bytes:
        return None, f"name longer than {limits.max_path_bytes} bytes"
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None, "name is not UTF-8"
    if any(ord(c) < 32 or ord(c) == 127 for c in text):
        return None, "name has control characters"
    if text.startswith("/"):
        return None, "absolute name"
    parts = [p for p in text.split("/") if p not in ("", ".")]
    if ".." in parts:
        return None, "name climbs out with '..'"
    if any(len(p.encode()) > MAX_COMPONENT for p in parts):
        return None, f"name has a component longer than {MAX_COMPONENT} bytes"
    return "/".join(parts), ""


def read_tar_stream(chunks: Iterable[bytes], limits: ExportLimits | None = None) -> Export:
    """Parse a tar stream into an Export of its regular files, within `limits`; never raises for bad input."""
    limits = limits or ExportLimits()
    out = Export()
    source = _Source(chunks, limits.max_read_bytes)
    try:
        _read_entries(source, limits, out)
    except _Stop as stop:
        out.note(str(stop), incomplete=True)
    return out


def _read_entries(source: _Source, limits: ExportLimits, out: Export) -> None:
    kept = 0
    entries = 0
    long_name: bytes | None = None
    long_link: bytes | None = None
    pax: dict[str, bytes] = {}
    while True:
        header = source.take(BLOCK)
        if header is None:
            if entries or long_name is not None or pax:
                # A stream that stops between entries without the end marker lost whatever came after.
                out.note("archive ended without its end marker", incomplete=True)
            return
        if header == bytes(BLOCK):
            # Producers pad the archive after its end marker; reading that lets them finish and report errors.
            if not source.skip_to_end(MAX_TRAILER):
                out.note("ignored data after the end of the archive")
            return
        if not _checksum_ok(header):
            raise _Stop(f"stopped at a malformed archive header after {source.consumed - BLOCK} bytes")
        try:
            size = _number(header[124:136])
        except ValueError as exc:
            raise _Stop(f"stopped at a malformed size field ({exc})") from None
        kind = header[156:157]
        if kind in (b"x", b"L", b"K", b"g"):
            if size > MAX_META:
                raise _Stop(f"stopped at an extended header of {size} bytes (more than {MAX_META})")
            data = source.take(_padded(size))
            if data is None:
                raise _Stop("archive ended inside an extended header")
            data = data[:size]
            if kind == b"x":
                try:
                    pax = _pax_records(data)
                except ValueError as exc:
                    raise _Stop(f"stopped at a malformed extended header ({exc})") from None
            elif kind == b"L":
                long_name = data.split(b"\0", 1)[0]
            elif kind == b"K":
                long_link = data.split(b"\0", 1)[0]
            continue
        entries += 1
        if entries > limits.max_files:
            raise _Stop(f"stopped after {limits.max_files} entries, the entry cap")
        name = _entry_name(header, long_name, pax)
        link = pax.get("linkpath", long_link if long_link is not None else header[157:257].split(b"\0", 1)[0])
        if "size" in pax:
            try:
                size = int(pax["size"])
            except ValueError:
                raise _Stop("stopped at a malformed pax size") from None
        long_name = long_link = None
        pax = {}
        if size < 0:
            raise _Stop("stopped at a negative size")
        rel, why = clean_name(name, limits)
        if kind not in REGULAR:
            if rel != "" and kind != b"5":
                what = KINDS.get(kind, f"entry of type {kind!r}")
                # A hard link names another archive member; a symlink's target is shown as it is.
                target = {b"1": f" -> {_show(_unprefixed(link))}", b"2": f" -> {_show(link)}"}.get(kind, "")
                out.note(f"dropped {what} {_show(rel or name)}{target}: only regular files are exported")
            if not source.skip(_padded(size)):
                raise _Stop("archive ended inside an entry")
            continue
        if rel is None or rel == "":
            out.note(f"dropped {_show(_unprefixed(name))}: {why or 'empty name'}", incomplete=True)
        elif rel in out.files:
            out.note(f"dropped a second entry named {_show(rel)}", incomplete=True)
        else:
            if size and kept >= limits.max_total_bytes:
                raise _Stop(f"stopped after {limits.max_total_bytes} bytes of file content, the total cap")
            want = min(size, limits.max_file_bytes, limits.max_total_bytes - kept)
            data = source.take(want)
            if data is None:
                raise _Stop("archive ended inside a file")
            out.files[rel] = data
            kept += want
            if want < size:
                out.note(f"truncated {_show(rel)} to {want} of {size} bytes", incomplete=True)
                if kept >= limits.max_total_bytes:
                    raise _Stop(f"stopped after {limits.max_total_bytes} bytes of file content, the total cap")
            if not source.skip(_padded(size) - want):
                raise _Stop("archive ended inside a file")
            continue
        if not source.skip(_padded(size)):
            raise _Stop("archive ended inside an entry")


def _entry_name(header: bytes, long_name: bytes | None, pax: dict[str, bytes]) -> bytes:
    if "path" in pax:
        return pax["path"]
    if long_name is not None:
        return long_name
    name = header[0:100].split(b"\0", 1)[0]
    if header[257:263] == b"ustar\x00":
        prefix = header[345:500].split(b"\0", 1)[0]
        if prefix:
            return prefix + b"/" + name
    return name


def _unprefixed(name: bytes) -> bytes:
    while name.startswith(b"./"):
        name = name[2:]
    return name


def _padded(size: int) -> int:
    return -(-size // BLOCK) * BLOCK


def finish_export(got: Export, src: str, returncode: int | None, errors: str, *, stopped: bool) -> Export:
    """Add what the producer reported to `got`; raise FileNotFoundError if `src` does not exist in the sandbox.

    `stopped` says the host ended the producer (at a cap or its time limit), so its exit status tells nothing.
    """
    if returncode == MISSING:
        raise FileNotFoundError(f"cannot export {src!r} from the sandbox: it does not exist")
    lines = [line for line in errors.splitlines() if line.strip()]
    for line in lines[:MAX_ERROR_LINES]:
        got.note(_printable(line)[:300])
    if len(lines) > MAX_ERROR_LINES:
        got.note(f"... and {len(lines) - MAX_ERROR_LINES} more lines from tar")
    if not stopped and returncode:
        got.note(f"tar exited with status {returncode}: some files are missing", incomplete=True)
    return got


def _printable(text: str) -> str:
    return "".join(c if c.isprintable() else "?" for c in text)
