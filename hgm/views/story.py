"""Why a node exists: the task its parent failed, the diagnosis of that failure and the change it proposed."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

FIELD_LIMIT = 2_000
READ_LIMIT = 200_000
SUBJECT_LIMIT = 72
# Agent-written text ends up in commit messages and terminals: escape sequences must not reach either.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def visible(text: str) -> str:
    """Text for a terminal: control characters (escape sequences) shown as `\\x1b`, lines and tabs kept."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def clean(text: object, limit: int = FIELD_LIMIT) -> str:
    """Untrusted text as one bounded, printable string: control characters dropped, clipped with a marker."""
    value = _CONTROL.sub("", str(text)).strip()
    return value if len(value) <= limit else value[: limit - 1].rstrip() + "…"


@dataclass(frozen=True)
class Story:
    """The reasons behind a node as the expansion recorded them; every field is agent-influenced text."""

    task: str = ""
    failure: str = ""
    root_cause: str = ""
    proposal: str = ""
    files: list[str] = field(default_factory=list)
    summary: str = ""

    def __bool__(self) -> bool:
        return any((self.task, self.failure, self.root_cause, self.proposal, self.files, self.summary))

    def headline(self) -> str:
        """One line saying what changed: the proposal's first sentence, else the world's summary."""
        text = self.proposal or self.summary
        first = re.split(r"(?<=[.!?])\s", text, maxsplit=1)[0]
        return clean(" ".join(first.split()), SUBJECT_LIMIT)

    def fields(self) -> list[tuple[str, str]]:
        """The non-empty parts, labelled, in reading order."""
        rows = [
            ("task", self.task),
            ("failure", self.failure),
            ("root cause", self.root_cause),
            ("proposal", self.proposal),
            ("files", ", ".join(self.files)),
            ("summary", self.summary),
        ]
        return [(label, value) for label, value in rows if value]


def story_from_artefacts(artefacts: Mapping[str, str]) -> Story:
    """The story in an expansion's artefacts (diagnosis.json, task.txt, or a simulated world's summary)."""
    diagnosis: object = {}
    raw = artefacts.get("diagnosis.json")
    if raw:
        try:
            diagnosis = json.loads(raw[:READ_LIMIT])
        except ValueError:
            diagnosis = {}
    if not isinstance(diagnosis, dict):
        diagnosis = {}
    files = diagnosis.get("files")
    return Story(
        task=clean(artefacts.get("task.txt", ""), 200),
        failure=clean(diagnosis.get("failure", "")),
        root_cause=clean(diagnosis.get("root_cause", "")),
        proposal=clean(diagnosis.get("proposal", "")),
        files=[clean(f, 200) for f in files[:20]] if isinstance(files, list) else [],
        summary=clean(artefacts.get("summary", "")),
    )


def read_story(node_dir: Path) -> Story:
    """The story of the node whose artefacts are in `node_dir` (files hgm wrote; read bounded)."""
    artefacts = {}
    for name in ("diagnosis.json", "task.txt", "summary"):
        path = node_dir / name
        if path.is_file() and not path.is_symlink():
            with path.open(encoding="utf-8", errors="replace") as handle:
                artefacts[name] = handle.read(READ_LIMIT)
    return story_from_artefacts(artefacts)


def commit_message(child: int, parent: int, artefacts: Mapping[str, str]) -> str:
    """The lineage commit message of a new node: what it changes as the subject, the diagnosis as the body."""
    story = story_from_artefacts(artefacts)
    headline = story.headline()
    subject = f"node {child}: child of node {parent}" + (f": {headline}" if headline else "")
    body = [f"{label[0].upper()}{label[1:]}: {value}" for label, value in story.fields()]
    return "\n\n".join([subject, "\n".join(body)]) if body else subject
