"""Rich renderings of a run in progress: the live panel, and plain progress lines for pipes and logs."""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.live import Live
from rich.table import Table
from rich.text import Text

from hgm.views.status import eta
from hgm.views.story import clean

if TYPE_CHECKING:
    from hgm.config import RunConfig
    from hgm.engine import Snapshot


def duration(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    if days:
        return f"{days}d{hours:02d}h{minutes:02d}m"
    return f"{hours}h{minutes:02d}m{secs:02d}s" if hours else f"{minutes}m{secs:02d}s"


def rate(evals: int, elapsed: float) -> str:
    """Evaluations per hour or per minute, whichever reads better."""
    if evals <= 0 or elapsed <= 0:
        return "-"
    per_hour = evals * 3600 / elapsed
    return f"{per_hour / 60:.1f} evals/min" if per_hour >= 60 else f"{per_hour:.1f} evals/h"


def _eta(snap: Snapshot, max_time: float | None) -> str:
    estimate = eta(snap.evals_done, snap.eval_budget, snap.elapsed, snap.spent, snap.max_cost, max_time)
    if estimate is None:
        return "-"
    return f"{duration(estimate.seconds)} ({estimate.budget} budget)"


def _stopping(snap: Snapshot, grace: float | None) -> str:
    within = f" (up to {grace:g}s)" if grace is not None else ""
    if not snap.running:
        return snap.stop_reason
    return f"{snap.stop_reason}; letting {len(snap.running)} job(s) in flight finish{within}; Ctrl-C again cancels them"


def status_table(snap: Snapshot, max_time: float | None = None, grace: float | None = None) -> Table:
    """The live panel: progress, budgets, rate and ETA, the best agent so far, and the work in flight."""
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold")
    table.add_column()
    share = f" ({snap.evals_done / snap.eval_budget:.0%})" if snap.eval_budget else ""
    table.add_row("evaluations", f"{snap.evals_done} / {snap.eval_budget}{share}")
    table.add_row("nodes", f"{snap.nodes} ({snap.failed_nodes} failed)")
    if snap.best is None:
        table.add_row("best belief", "-")
    else:
        s, f = snap.best_own
        table.add_row("best belief", f"node {snap.best}: {s}/{s + f} solved ({s / max(s + f, 1):.0%})")
    cost = f"${snap.spent:.4f}" + (f" / ${snap.max_cost:.2f}" if snap.max_cost is not None else "")
    table.add_row("cost", cost)
    table.add_row("elapsed", duration(snap.elapsed) + (f" / {duration(max_time)}" if max_time is not None else ""))
    table.add_row("rate", rate(snap.evals_done, snap.elapsed))
    table.add_row("ETA", "-" if snap.stop_reason else _eta(snap, max_time))
    table.add_row("running", Text(clean("\n".join(snap.running), 5000)) if snap.running else "-")
    if snap.stop_reason:
        table.add_row("stopping", Text(_stopping(snap, grace), style="yellow"))
    return table


def progress_line(snap: Snapshot, max_time: float | None = None) -> str:
    """The run's state on one line, for output that is not a terminal."""
    best = "-"
    if snap.best is not None:
        s, f = snap.best_own
        best = f"node {snap.best} ({s}/{s + f})"
    cost = f"${snap.spent:.4f}" + (f"/${snap.max_cost:.2f}" if snap.max_cost is not None else "")
    elapsed = duration(snap.elapsed) + (f"/{duration(max_time)}" if max_time is not None else "")
    return (
        f"{time.strftime('%H:%M:%S')} evals {snap.evals_done}/{snap.eval_budget} nodes {snap.nodes} "
        f"({snap.failed_nodes} failed) best {best} cost {cost} elapsed {elapsed} "
        f"rate {rate(snap.evals_done, snap.elapsed)} ETA {_eta(snap, max_time)} running {len(snap.running)}"
    )


class ProgressLines:
    """Prints a progress line when something changed and `every` seconds passed, and each new stop reason at once."""

    def __init__(
        self,
        console: Console,
        max_time: float | None = None,
        grace: float | None = None,
        every: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
        reasons: bool = True,
    ) -> None:
        self.console = console
        self.reasons = reasons
        self.max_time = max_time
        self.grace = grace
        self.every = every
        self.clock = clock
        self._last_at: float | None = None
        self._last_key: tuple[int, int] | None = None
        self._reason = ""

    def __call__(self, snap: Snapshot) -> None:
        if self.reasons and snap.stop_reason and snap.stop_reason != self._reason:
            self._reason = snap.stop_reason
            self._print(f"stopping: {_stopping(snap, self.grace)}")
        key = (snap.evals_done, snap.nodes)
        now = self.clock()
        due = self._last_at is None or now - self._last_at >= self.every
        if key != self._last_key and due:
            self._last_at, self._last_key = now, key
            self._print(progress_line(snap, self.max_time))

    def _print(self, line: str) -> None:
        self.console.print(line, highlight=False, markup=False, soft_wrap=True)
        self.console.file.flush()


def progress(
    console: Console, config: RunConfig, *, reasons: bool = True
) -> tuple[AbstractContextManager[Any], Callable[[Snapshot], None]]:
    """What shows a run's progress on `console`: a live panel on a terminal, else plain lines every 30 seconds.

    Without `reasons` the plain lines leave out why the engine stops (`hgm bench` says what happened itself).
    """
    max_time, grace = config.budget.max_time, config.shutdown_grace
    if not console.is_terminal:
        return nullcontext(), ProgressLines(console, max_time, grace, reasons=reasons)
    live = Live(console=console, refresh_per_second=4, transient=False)

    def on_tick(snap: Snapshot) -> None:
        live.update(status_table(snap, max_time, grace))

    return live, on_tick
