"""Bounded capture of a command's combined output."""

from __future__ import annotations


class CappedOutput:
    """Keeps the first and the last bytes of a stream and counts what was dropped in between."""

    def __init__(self, limit: int) -> None:
        self._head_size = limit // 2
        self._tail_size = limit - self._head_size
        self._head = bytearray()
        self._tail = bytearray()
        self.dropped = 0

    def write(self, data: bytes) -> None:
        """Append a chunk."""
        room = self._head_size - len(self._head)
        if room > 0:
            self._head += data[:room]
            data = data[room:]
        if not data:
            return
        self._tail += data
        excess = len(self._tail) - self._tail_size
        if excess > 0:
            del self._tail[:excess]
            self.dropped += excess

    def text(self, note: str = "") -> str:
        """The kept output as text, with a note where bytes were dropped and `note` at the end."""
        out = self._head.decode("utf-8", errors="replace")
        if self.dropped:
            out += f"\n[hgm: {self.dropped} bytes of output omitted]\n"
        out += self._tail.decode("utf-8", errors="replace")
        if note:
            out += ("" if not out or out.endswith("\n") else "\n") + f"[hgm: {note}]\n"
        return out


def timeout_note(timeout: float) -> str:
    """The note appended to the output of a command that was killed for running too long."""
    return f"timed out after {timeout:g}s; every process it started was killed"
