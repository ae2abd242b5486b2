"""Read-only views of a run (tree, node details, best agent); safe while the run is in progress."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from hgm.archive import Archive, ArchiveError
from hgm.policy import best_belief, beta_lower_quantiles
from hgm.tree import Tree


@dataclass(frozen=True)
class NodeSummary:
    id: int
    parent: int | None
    status: str
    n_evals: int
    n_success: int
    mean: float | None
    cmp: float | None
    clade_evals: int
    lower_bound: float
    commit: str | None
    reason: str | None
    true_quality: float | None
    best: bool


def load_tree(archive: Archive) -> Tree:
    """The clade statistics of every recorded node, from completed work only."""
    tasks = sorted({row.task for row in archive.work(kind="evaluate") if row.task is not None})
    tree = Tree(tasks or ["(none)"])
    for row in archive.nodes():
        # Nodes can land out of id order while expansions run concurrently; a gap is filled by a placeholder.
        while tree.n_nodes < row.id:
            tree.add_node(tree.n_nodes, 0)
            tree.mark_failed(tree.n_nodes - 1)
        tree.add_node(row.id, row.parent)
        if row.status == "failed":
            tree.mark_failed(row.id)
    for ev in archive.evaluations():
        assert ev.task is not None and ev.success is not None
        tree.start_eval(ev.node, ev.task)
        tree.finish_eval(ev.node, ev.task, ev.success)
    return tree


def epsilon_of(archive: Archive) -> float:
    return float(archive.config().get("search", {}).get("epsilon", 0.01))


def summarize(archive: Archive) -> list[NodeSummary]:
    tree = load_tree(archive)
    epsilon = epsilon_of(archive)
    best = best_belief(tree, epsilon)
    out = []
    for row in archive.nodes():
        s, f = tree.own(row.id)
        cs, cf = tree.clade(row.id)
        out.append(
            NodeSummary(
                id=row.id,
                parent=row.parent,
                status=row.status,
                n_evals=s + f,
                n_success=s,
                mean=s / (s + f) if s + f else None,
                cmp=tree.cmp(row.id),
                clade_evals=cs + cf,
                lower_bound=float(beta_lower_quantiles(np.array([s]), np.array([f]), epsilon)[0]),
                commit=row.commit_sha,
                reason=row.reason,
                true_quality=row.true_q,
                best=row.id == best,
            )
        )
    return out


def tree_json(archive: Archive) -> str:
    return json.dumps([asdict(n) for n in summarize(archive)], indent=2)


def tree_dot(archive: Archive) -> str:
    lines = ["digraph hgm {", "  node [shape=box, fontname=monospace];"]
    for n in summarize(archive):
        mean = f"{n.mean:.2f}" if n.mean is not None else "-"
        cmp = f"{n.cmp:.2f}" if n.cmp is not None else "-"
        style = ", style=bold, color=blue" if n.best else ", style=dashed, color=red" if n.status == "failed" else ""
        lines.append(f'  n{n.id} [label="{n.id}\\n{n.n_success}/{n.n_evals} own {mean}\\ncmp {cmp}"{style}];')
        if n.parent is not None:
            lines.append(f"  n{n.parent} -> n{n.id};")
    lines.append("}")
    return "\n".join(lines)


def best_summary(archive: Archive) -> NodeSummary:
    for n in summarize(archive):
        if n.best:
            return n
    raise ArchiveError(f"{archive.path} has no evaluated node yet; wait for the run to evaluate its root")


def export(archive: Archive, node: NodeSummary, dest: Path) -> None:
    """Write a node's agent source into an empty or new directory."""
    if dest.exists() and any(dest.iterdir()):
        raise ArchiveError(f"{dest} exists and is not empty; choose an empty or new directory")
    if node.commit is None:
        raise ArchiveError(f"node {node.id} has no source to export")
    archive.checkout(node.commit, dest)
