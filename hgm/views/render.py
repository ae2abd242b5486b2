"""Terminal renderings of a node (`hgm show`) and of a run's state (`hgm status`)."""

from __future__ import annotations

import time
from collections.abc import Iterable

from rich.console import Group, RenderableType
from rich.rule import Rule
from rich.table import Table
from rich.text import Text

from hgm.display import duration, rate
from hgm.views.costs import RoleCost
from hgm.views.node import ERROR, FAILED, SOLVED, NodeDetail, artefact_groups
from hgm.views.status import DIED, NEW, RUNNING, STOPPING, RunStatus
from hgm.views.story import clean

LIST_LIMIT = 12


def _grid() -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold", no_wrap=True)
    table.add_column()
    return table


def _section(title: str) -> Rule:
    return Rule(Text(title, style="bold"), align="left", style="dim")


def _fraction(s: int, n: int) -> str:
    return f"{s}/{n} solved ({s / n:.2f})" if n else "not evaluated"


def _usd(value: float) -> str:
    return f"${value:.4f}" if value < 100 else f"${value:,.2f}"


def cost_table(costs: list[RoleCost]) -> Table:
    table = Table("role", "calls", "prompt tokens", "completion tokens", "USD", box=None, pad_edge=False)
    for column in table.columns[1:]:
        column.justify = "right"
    for c in costs:
        calls = f"{c.calls:,}" + (f" ({c.errors} failed)" if c.errors else "") if c.calls else "-"
        prompt = f"{c.prompt_tokens:,}" if c.calls else "-"
        completion = f"{c.completion_tokens:,}" if c.calls else "-"
        table.add_row(c.label, calls, prompt, completion, _usd(c.cost))
    if len(costs) > 1:
        table.add_row(
            Text("total", style="bold"),
            f"{sum(c.calls for c in costs):,}",
            f"{sum(c.prompt_tokens for c in costs):,}",
            f"{sum(c.completion_tokens for c in costs):,}",
            _usd(sum(c.cost for c in costs)),
        )
    return table


def _names(items: Iterable[str], show_all: bool) -> Text:
    items = list(items)
    shown = items if show_all else items[:LIST_LIMIT]
    text = Text(", ".join(shown))
    if len(shown) < len(items):
        text.append(f", … {len(items) - len(shown)} more (--all lists them)", style="dim")
    return text


def node_view(detail: NodeDetail, node_dir: str, show_all: bool = False) -> Group:
    """A node, most telling first: why it exists, how it scores, what it cost, what it did."""
    n = detail.summary
    parts: list[RenderableType] = []
    head = Text(f"node {n.id}", style="bold")
    head.append(f" · child of node {n.parent}" if n.parent is not None else " · the seed agent")
    head.append(f" · generation {detail.depth} · {n.status}")
    if n.best:
        head.append(" · ★ best belief", style="bold green")
    parts.append(head)

    if n.status == "failed" or detail.story:
        parts.append(_section("why it failed" if n.status == "failed" else "why it was made"))
        why = _grid()
        if n.status == "failed" and n.reason:
            why.add_row("reason", Text(clean(n.reason), style="red"))
        for label, value in detail.story.fields():
            why.add_row(label, Text(value))
        parts.append(why)

    parts.append(_section("score"))
    score = _grid()
    score.add_row("own", _fraction(n.n_success, n.n_evals))
    if n.n_evals:
        score.add_row("lower bound", f"{n.lower_bound:.3f} (of the success rate; ranks the best-belief agent)")
    if n.cmp is not None:
        score.add_row("clade (CMP)", f"{n.cmp:.2f} over {n.clade_evals} evaluations of it and its descendants")
    if n.true_quality is not None:
        score.add_row("true quality", f"{n.true_quality:.3f} (simulated world)")
    score.add_row("children", ", ".join(map(str, detail.children)) or "none")
    if n.improver_changed is not None:
        score.add_row(
            "improver",
            "changed: it improves itself differently from its parent"
            if n.improver_changed
            else "the same as its parent's",
        )
    parts.append(score)

    if any(c.cost or c.calls for c in detail.costs):
        parts.append(_section("cost by role"))
        parts.append(cost_table(detail.costs))

    outcomes = {o: [e for e in detail.evaluations if e.outcome == o] for o in (SOLVED, FAILED, ERROR)}
    counts = ", ".join(f"{len(v)} {k}" for k, v in outcomes.items() if v)
    parts.append(_section(f"evaluations ({len(detail.evaluations)}{': ' + counts if counts else ''})"))
    if detail.evaluations:
        evals = _grid()
        for outcome in (SOLVED, FAILED):
            if outcomes[outcome]:
                evals.add_row(outcome, _names((e.task for e in outcomes[outcome]), show_all))
        errors = outcomes[ERROR] if show_all else outcomes[ERROR][:LIST_LIMIT]
        for e in errors:
            evals.add_row(Text("error", style="red"), Text(f"{e.task}: {e.error}"))
        if len(errors) < len(outcomes[ERROR]):
            evals.add_row("", Text(f"… {len(outcomes[ERROR]) - len(errors)} more errors (--all)", style="dim"))
        parts.append(evals)

    parts.append(_section(f"artefacts ({len(detail.artefacts)} files in {node_dir})"))
    if show_all:
        parts.extend(Text(path) for path in detail.artefacts)
    else:
        groups = artefact_groups(detail.artefacts)
        files = [name for name, inner, _ in groups if not inner]
        if files:
            parts.append(_names(files, True))
        for name, inner, count in groups:
            if inner:
                parts.append(Text(f"{name}/: {inner} folders, {count} files"))
        if detail.artefacts:
            parts.append(Text("--all lists every file", style="dim"))
    return Group(*parts)


def _budget(used: str, limit: str | None, left: str | None) -> str:
    if limit is None:
        return f"{used} (no limit)"
    return f"{used} / {limit}" + (f" ({left} left)" if left else "")


def status_view(status: RunStatus, best: str) -> Group:
    """A run at a glance: is it running, why it stopped, what it used and has left, and what it cost."""
    table = _grid()
    table.add_row("run", f"{status.path} (world {status.world}, policy {status.policy})")
    if status.state == RUNNING:
        state = Text(f"running (pid {status.pid})", style="green")
    elif status.state == STOPPING:
        state = Text(f"stopping (pid {status.pid}): {status.stop_reason}", style="yellow")
    elif status.state == DIED:
        state = Text(
            f"not running: the process (pid {status.pid}) ended without recording a stop (killed or crashed); "
            f"`hgm resume {status.path}` continues the run",
            style="red",
        )
    elif status.state == NEW:
        state = Text("not started yet", style="yellow")
    else:
        state = Text(f"stopped: {status.stop_reason}")
    table.add_row("state", state)
    share = f" ({status.evals_done / status.max_evals:.0%})" if status.max_evals else ""
    errors = f", {status.eval_errors} infrastructure errors" if status.eval_errors else ""
    table.add_row("evaluations", f"{status.evals_done} / {status.max_evals}{share}{errors}")
    table.add_row("nodes", f"{status.nodes} ({status.failed_nodes} failed)")
    table.add_row("best belief", best)
    cost_left = _usd(max(status.max_cost - status.spent, 0)) if status.max_cost is not None else None
    limit = _usd(status.max_cost) if status.max_cost is not None else None
    table.add_row("cost", _budget(_usd(status.spent), limit, cost_left))
    time_left = duration(max(status.max_time - status.elapsed, 0)) if status.max_time is not None else None
    time_limit = duration(status.max_time) if status.max_time is not None else None
    table.add_row("time", _budget(duration(status.elapsed), time_limit, time_left))
    table.add_row("rate", rate(status.evals_done, status.elapsed))
    estimate = status.eta
    if estimate is not None:
        table.add_row("ETA", f"{duration(estimate.seconds)} (when the {estimate.budget} budget runs out)")
    if status.last_activity is not None:
        table.add_row("last result", f"{duration(time.time() - status.last_activity)} ago")
    if status.in_flight:
        table.add_row("in flight", Text("\n".join(status.in_flight)))
    parts: list[RenderableType] = [table]
    if status.costs:
        parts += [_section("cost by role"), cost_table(status.costs)]
    return Group(*parts)
