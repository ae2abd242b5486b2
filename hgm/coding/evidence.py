"""Untrusted text on its way to the archive and to prompts: clipped, and stripped of hidden test sources."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hgm.coding.benchmarks.base import Score, TestCase

EVIDENCE_LIMIT = 12_000
TEST_LINES = 40
MESSAGE_LIMIT = 300
# Lines shorter than this are too common ("pass", "})") to say anything about the source they came from.
REDACT_MIN = 12
REDACTED = "[hgm: a line of the hidden tests was removed here]"


def clip(text: str, limit: int = EVIDENCE_LIMIT) -> str:
    """`text` cut in the middle to at most about `limit` characters, saying how much was cut."""
    if len(text) <= limit:
        return text
    half = limit // 2
    return f"{text[:half]}\n[... {len(text) - limit} characters cut ...]\n{text[-half:]}"


def redact(text: str, sources: Iterable[str]) -> str:
    """`text` without any line that also appears in one of the hidden `sources`."""
    secret = {s for source in sources for line in source.splitlines() if len(s := line.strip()) >= REDACT_MIN}
    if not secret:
        return text
    return "\n".join(REDACTED if line.strip() in secret else line for line in text.splitlines())


def render_tests(tests: list[TestCase], limit: int = TEST_LINES) -> str:
    """One line per test, failures first: `name: outcome — message`, messages clipped."""
    order = sorted(tests, key=lambda t: (t.outcome == "passed", t.name))
    lines = []
    for test in order[:limit]:
        message = " ".join(test.message.split())
        if len(message) > MESSAGE_LIMIT:
            message = message[:MESSAGE_LIMIT] + " ..."
        lines.append(f"{test.name}: {test.outcome}" + (f" — {message}" if message else ""))
    if len(order) > limit:
        lines.append(f"... and {len(order) - limit} more tests")
    return "\n".join(lines)


def describe_score(score: Score) -> str:
    """What a prompt may see of a grading: the verdict, its reason and the per-test results (or the log's tail)."""
    head = f"resolved: {'yes' if score.resolved else 'no'}" + (f" ({score.reason})" if score.reason else "")
    if score.tests:
        return f"{head}\n{render_tests(score.tests)}"
    return f"{head}\n{clip(score.output, 4_000)}"
