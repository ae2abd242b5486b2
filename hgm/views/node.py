"""Everything about one node: its story, scores, evaluations, costs and artefacts."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from hgm.archive import Archive, ArchiveError, WorkRow
from hgm.report import NodeSummary, summarize
from hgm.views.costs import RoleCost, by_role
from hgm.views.story import Story, clean, read_story

SOLVED, FAILED, ERROR = "solved", "failed", "error"


@dataclass(frozen=True)
class EvalResult:
    task: str
    outcome: str
    error: str = ""


def evaluations_by_node(work: Iterable[WorkRow]) -> dict[int, list[EvalResult]]:
    """Every finished task run of every node (errors included), in the order they were scheduled."""
    out: dict[int, list[EvalResult]] = defaultdict(list)
    for w in work:
        if w.kind != "evaluate" or w.status not in ("done", "error") or w.task is None:
            continue
        task = clean(w.task, 300)
        if w.status == "error":
            out[w.node].append(EvalResult(task, ERROR, clean(w.error or "", 300)))
        else:
            out[w.node].append(EvalResult(task, SOLVED if w.success else FAILED))
    return out


def depths(nodes: Iterable[NodeSummary]) -> dict[int, int]:
    """Generation of each node (the root is 0); parents always have smaller ids."""
    out: dict[int, int] = {}
    for n in sorted(nodes, key=lambda n: n.id):
        out[n.id] = 0 if n.parent is None else out.get(n.parent, -1) + 1
    return out


def artefact_groups(paths: list[str]) -> list[tuple[str, int, int]]:
    """Artefacts summarised: (top-level name, folders under it, files), e.g. ('evals', 95 tasks, 380 files)."""
    groups: dict[str, tuple[set[str], int]] = {}
    for rel in paths:
        head, _, rest = rel.partition("/")
        folders, files = groups.get(head, (set(), 0))
        if rest:
            folders.add(rest.partition("/")[0])
        groups[head] = (folders, files + 1)
    return [(head, len(folders), files) for head, (folders, files) in sorted(groups.items())]


@dataclass(frozen=True)
class NodeDetail:
    summary: NodeSummary
    depth: int
    children: list[int]
    story: Story
    evaluations: list[EvalResult]
    costs: list[RoleCost]
    artefacts: list[str]


def node_detail(archive: Archive, node_id: int) -> NodeDetail:
    """One node, or an ArchiveError naming the command that lists the nodes."""
    summaries = summarize(archive)
    summary = next((n for n in summaries if n.id == node_id), None)
    if summary is None:
        raise ArchiveError(f"{archive.path} has no node {node_id}; `hgm tree {archive.path}` lists them")
    work = archive.work(node=node_id)
    calls = archive.llm_calls(node_id)
    own_work = [w for w in archive.work(kind="expand") if w.child == node_id] + [
        w for w in work if w.kind == "evaluate"
    ]
    folder = archive.node_dir(node_id)
    return NodeDetail(
        summary=summary,
        depth=depths(summaries)[node_id],
        children=[n.id for n in summaries if n.parent == node_id],
        story=read_story(folder),
        evaluations=evaluations_by_node(work).get(node_id, []),
        costs=by_role(calls, own_work),
        artefacts=[str(Path(p).relative_to(folder)) for p in archive.artefacts(node_id)],
    )
