"""PLACEHOLDER until the sandbox branch lands: the Export API the coding package is written against."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class ExportLimits:
    max_files: int = 10_000
    max_file_bytes: int = 1024 * 1024
    max_total_bytes: int = 64 * 1024 * 1024


@dataclass
class Export:
    files: dict[str, bytes] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    complete: bool = True

    def text(self, name: str) -> str:
        return self.files.get(name, b"").decode("utf-8", errors="replace")
