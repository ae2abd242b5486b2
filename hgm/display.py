"""Rich renderings: the live run panel and the lineage tree."""

from __future__ import annotations

from rich.table import Table
from rich.tree import Tree as RichTree

from hgm.engine import Snapshot
from hgm.report import NodeSummary


def _duration(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m{secs:02d}s" if hours else f"{minutes}m{secs:02d}s"


def status_table(snap: Snapshot) -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold")
    table.add_column()
    table.add_row("evaluations", f"{snap.evals_done} / {snap.eval_budget}")
    table.add_row("nodes", f"{snap.nodes} ({snap.failed_nodes} failed)")
    if snap.best is None:
        table.add_row("best belief", "-")
    else:
        s, f = snap.best_own
        table.add_row("best belief", f"node {snap.best}: {s}/{s + f} solved ({s / max(s + f, 1):.0%})")
    cost = f"${snap.spent:.4f}" + (f" / ${snap.max_cost:.2f}" if snap.max_cost is not None else "")
    table.add_row("cost", cost)
    table.add_row("elapsed", _duration(snap.elapsed))
    table.add_row("running", "\n".join(snap.running) if snap.running else "-")
    if snap.stop_reason:
        table.add_row("stopping", snap.stop_reason)
    return table


def _label(n: NodeSummary) -> str:
    mean = f"{n.mean:.2f}" if n.mean is not None else "  - "
    cmp = f"{n.cmp:.2f}" if n.cmp is not None else "  - "
    text = f"[bold]{n.id}[/bold]  {n.n_success}/{n.n_evals}  own {mean}  cmp {cmp}  {n.status}"
    if n.status == "failed" and n.reason:
        text = f"[red]{text}[/red] [dim]({n.reason[:60]})[/dim]"
    if n.true_quality is not None:
        text += f"  [dim]q={n.true_quality:.2f}[/dim]"
    if n.best:
        text = f"[green]{text}  ★ best[/green]"
    return text


def lineage_tree(nodes: list[NodeSummary]) -> RichTree:
    by_parent: dict[int | None, list[NodeSummary]] = {}
    for n in nodes:
        by_parent.setdefault(n.parent, []).append(n)
    roots = by_parent.get(None, [])
    top = RichTree("[bold]lineage[/bold]  (id  solved/evaluated  own mean  clade estimate  status)")
    stack = [(top, n) for n in reversed(roots)]
    while stack:
        branch, n = stack.pop()
        child_branch = branch.add(_label(n))
        stack.extend((child_branch, c) for c in reversed(by_parent.get(n.id, [])))
    return top
