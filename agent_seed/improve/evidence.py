"""Reading the evidence folder hgm mounts read-only: the node's evaluations and a sample of their records."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass
class TaskRecord:
    """One evaluated task as the evidence shows it."""

    task: str
    solved: bool
    statement: str
    trajectory: str
    tests: str


@dataclass
class Evidence:
    """The index (evidence.json) and the sampled task records."""

    index: dict[str, Any]
    records: list[TaskRecord]

    @property
    def prompt_chars(self) -> int | None:
        value = self.index.get("prompt_chars")
        return value if isinstance(value, int) and value > 0 else None

    @property
    def test_command(self) -> str:
        return str(self.index.get("test_command", "python3 -m unittest discover -s agent_seed/tests -t ."))


def _text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def load(root: Path) -> Evidence:
    """The evidence under `root`; a missing or damaged index reads as no evidence."""
    try:
        index = json.loads((root / "evidence.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        index = {}
    if not isinstance(index, dict):
        index = {}
    records = []
    for entry in index.get("sample", []):
        if not isinstance(entry, dict) or not isinstance(entry.get("dir"), str):
            continue
        folder = root / entry["dir"]
        records.append(
            TaskRecord(
                task=str(entry.get("task", "")),
                solved=bool(entry.get("solved")),
                statement=_text(folder / "statement.md"),
                trajectory=_text(folder / "trajectory.txt"),
                tests=_text(folder / "tests.txt"),
            )
        )
    return Evidence(index, records)


def choose(evidence: Evidence, count: int) -> list[TaskRecord]:
    """Up to `count` records, failures first, in the order hgm sampled them."""
    ordered = [r for r in evidence.records if not r.solved] + [r for r in evidence.records if r.solved]
    return ordered[: max(count, 0)]
