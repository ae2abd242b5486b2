"""The lineage tree as terminal lines (`hgm tree`, the demo's closing summary).

Apart from the live display (hgm/display.py) so that `hgm tree` loads neither the engine nor rich's live and table
machinery.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from rich.console import Console, ConsoleOptions
from rich.segment import Segment
from rich.style import Style

from hgm.views.story import clean

if TYPE_CHECKING:
    from hgm.report import NodeSummary

Pieces = list[tuple[str, str]]
"""One line as (text, style) pieces; style is a rich style definition, "" for none."""


class StyledLines:
    """Lines of styled pieces, rendered straight to rich segments and never wrapped or cut (print with soft_wrap).

    A rich Text per line costs about a third of a millisecond to lay out (spans, wrapping); a lineage of thousands of
    nodes drawn as segments prints ten times faster, so `hgm tree` answers at once.
    """

    def __init__(self, lines: list[Pieces]) -> None:
        self.lines = lines

    def __len__(self) -> int:
        return len(self.lines)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> Iterator[Segment]:
        styles: dict[str, Style | None] = {"": None}
        for pieces in self.lines:
            for text, definition in pieces:
                style = styles.get(definition)
                if style is None and definition not in styles:
                    style = styles[definition] = console.get_style(definition)
                yield Segment(text, style)
            yield Segment.line()


def node_pieces(n: NodeSummary, hidden: int = 0) -> Pieces:
    """One node of the tree: id, solved/evaluated, own mean, clade estimate, status; failures say why."""
    mean = f"{n.mean:.2f}" if n.mean is not None else "  - "
    cmp = f"{n.cmp:.2f}" if n.cmp is not None else "  - "
    style = "green" if n.best else "red" if n.status == "failed" else ""
    pieces = [
        (str(n.id), f"bold {style}".strip()),
        (f"  {n.n_success}/{n.n_evals}  own {mean}  cmp {cmp}  {n.status}", style),
    ]
    if n.true_quality is not None:
        pieces.append((f"  q={n.true_quality:.2f}", "dim"))
    if n.improver_changed:
        pieces.append(("  ⚙ improver changed", "magenta"))
    if n.status == "failed" and n.reason:
        pieces.append((f"  ({clean(' '.join(n.reason.split()), 200)})", "dim"))
    if n.best:
        pieces.append(("  ★ best", "bold green"))
    if hidden:
        pieces.append((f"  … {hidden} hidden below", "dim"))
    return pieces


def lineage_tree(nodes: list[NodeSummary], hidden: dict[int, int] | None = None) -> StyledLines:
    """The lineage as guide-drawn lines, a header and one line per node; printed with soft_wrap they are never cut,
    so piped output greps well."""
    hidden = hidden or {}
    shown = {n.id for n in nodes}
    by_parent: dict[int | None, list[NodeSummary]] = {}
    for n in nodes:
        parent = n.parent if n.parent in shown else None
        by_parent.setdefault(parent, []).append(n)
    lines: list[Pieces] = [[("lineage  (id  solved/evaluated  own mean  clade estimate  status)", "bold")]]
    roots = by_parent.get(None, [])
    stack: list[tuple[str, bool, NodeSummary]] = [
        ("", i == len(roots) - 1, n) for i, n in reversed(list(enumerate(roots)))
    ]
    while stack:
        prefix, last, n = stack.pop()
        lines.append([(prefix + ("└── " if last else "├── "), "dim"), *node_pieces(n, hidden.get(n.id, 0))])
        children = by_parent.get(n.id, [])
        inner = prefix + ("    " if last else "│   ")
        stack.extend((inner, i == len(children) - 1, c) for i, c in reversed(list(enumerate(children))))
    return StyledLines(lines)
