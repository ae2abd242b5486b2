"""Where a run stands: running or stopped and why, budgets used and left, rate, ETA, cost by role."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field

from hgm.archive import Archive
from hgm.views.costs import RoleCost, by_role
from hgm.views.story import clean

RUNNING, STOPPING, STOPPED, DIED, NEW = "running", "stopping", "stopped", "died", "not started"


@dataclass(frozen=True)
class Eta:
    seconds: float
    budget: str


def eta(
    evals_done: int,
    max_evals: int,
    elapsed: float,
    spent: float,
    max_cost: float | None,
    max_time: float | None,
) -> Eta | None:
    """When the first budget runs out at the average pace so far; None before there is a pace to go by."""
    if evals_done <= 0 or elapsed <= 0:
        return None
    candidates = [Eta(max(max_evals - evals_done, 0) * elapsed / evals_done, "evaluations")]
    if max_time is not None:
        candidates.append(Eta(max(max_time - elapsed, 0.0), "time"))
    if max_cost is not None and spent > 0:
        candidates.append(Eta(max(max_cost - spent, 0.0) * elapsed / spent, "cost"))
    return min(candidates, key=lambda e: e.seconds)


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@dataclass(frozen=True)
class RunStatus:
    path: str
    world: str
    policy: str
    state: str
    pid: int | None
    stop_reason: str
    started: float | None
    last_activity: float | None
    evals_done: int
    max_evals: int
    nodes: int
    failed_nodes: int
    in_flight: list[str]
    spent: float
    max_cost: float | None
    elapsed: float
    max_time: float | None
    eval_errors: int
    costs: list[RoleCost] = field(default_factory=list)

    @property
    def eta(self) -> Eta | None:
        if self.state not in (RUNNING, STOPPING):
            return None
        return eta(self.evals_done, self.max_evals, self.elapsed, self.spent, self.max_cost, self.max_time)


def _state(archive: Archive) -> tuple[str, int | None, str, float | None]:
    """(state, pid of the last process, why it stopped, when it last started) from the event record."""
    state, pid, reason, started = NEW, None, "", None
    for ts, kind, data in archive.events():
        if kind == "start":
            state, pid, reason, started = DIED, data.get("pid"), "", ts
        elif kind == "stop_requested" and state == DIED:
            state, reason = STOPPING, str(data.get("reason", ""))
        elif kind == "stop":
            state, reason = STOPPED, str(data.get("reason", "")) or "done"
    if state in (DIED, STOPPING) and isinstance(pid, int) and pid_alive(pid):
        state = RUNNING if state == DIED else STOPPING
    elif state == STOPPING:
        state = DIED
    return state, pid if isinstance(pid, int) else None, reason, started


def run_status(archive: Archive) -> RunStatus:
    config = archive.config()
    budget = config.get("budget", {})
    state, pid, reason, started = _state(archive)
    work = archive.work()
    nodes = archive.nodes()
    finished = [w.finished for w in work if w.finished is not None]
    live = state in (RUNNING, STOPPING)
    in_flight = [
        f"expand {w.node} -> {w.child}" if w.kind == "expand" else f"evaluate {w.node} on {clean(w.task or '', 200)}"
        for w in work
        if w.status == "running" and live
    ]
    return RunStatus(
        path=str(archive.path),
        world=str(config.get("world", "?")),
        policy=str(config.get("policy", "?")),
        state=state,
        pid=pid,
        stop_reason=reason,
        started=started,
        last_activity=max(finished) if finished else None,
        evals_done=sum(1 for w in work if w.kind == "evaluate" and w.status == "done"),
        max_evals=int(budget.get("max_evals", 0)),
        nodes=len(nodes),
        failed_nodes=sum(1 for n in nodes if n.status == "failed"),
        in_flight=in_flight,
        spent=sum(w.cost for w in work),
        max_cost=budget.get("max_cost"),
        elapsed=_elapsed(archive, state, started, max(finished, default=None)),
        max_time=budget.get("max_time"),
        eval_errors=sum(1 for w in work if w.kind == "evaluate" and w.status == "error"),
        costs=by_role(archive.llm_calls(), work),
    )


def _elapsed(archive: Archive, state: str, started: float | None, last_result: float | None) -> float:
    recorded = float(archive.meta("elapsed") or 0)
    if state not in (RUNNING, STOPPING) or started is None:
        return recorded
    # The engine records its elapsed time with each result; since the last one (or its start) the clock ran on.
    since = max(started, last_result or started)
    return recorded + max(time.time() - since, 0.0)
