"""Everything the HTML report shows, gathered from an archive into plain JSON-ready values."""

from __future__ import annotations

import time
from collections import defaultdict
from typing import Any

import numpy as np

from hgm.archive import Archive
from hgm.posterior import beta_lower_quantiles
from hgm.report import NodeSummary, epsilon_of, ranked, summarize
from hgm.views.costs import RoleCost, by_node_and_role
from hgm.views.lineage import parent_diffs
from hgm.views.node import ERROR, SOLVED, evaluations_by_node
from hgm.views.status import RunStatus, run_status
from hgm.views.story import clean, read_story

MATRIX_NODES = 20
MATRIX_TASKS = 400
HISTORY_POINTS = 4_000


def layout(nodes: list[NodeSummary]) -> tuple[list[float], list[int]]:
    """A layered tree drawing: generation down, leaves side by side, each parent above the middle of its children."""
    children: dict[int | None, list[int]] = defaultdict(list)
    for n in nodes:
        children[n.parent].append(n.id)
    x: dict[int, float] = {}
    depth: dict[int, int] = {}
    next_leaf = 0.0
    for root in children[None]:
        depth[root] = 0
        stack: list[tuple[int, bool]] = [(root, False)]
        while stack:
            node, done = stack.pop()
            kids = children.get(node, [])
            if done:
                x[node] = (x[kids[0]] + x[kids[-1]]) / 2
            elif not kids:
                x[node], next_leaf = next_leaf, next_leaf + 1
            else:
                stack.append((node, True))
                for kid in reversed(kids):
                    depth[kid] = depth[node] + 1
                    stack.append((kid, False))
    return [x[n.id] for n in nodes], [depth[n.id] for n in nodes]


def _round(value: float | None, digits: int = 4) -> float | None:
    return None if value is None else round(value, digits)


def _costs(rows: list[RoleCost]) -> list[list[Any]]:
    return [[r.label, r.calls, r.prompt_tokens, r.completion_tokens, round(r.cost, 6)] for r in rows]


def history(archive: Archive, nodes: list[NodeSummary], epsilon: float) -> dict[str, list[Any]]:
    """The best-belief agent and the run's cumulative cost after each evaluation, in the order results came in."""
    work = sorted((w for w in archive.work() if w.finished is not None), key=lambda w: (w.finished or 0, w.k))
    evals = [w for w in work if w.kind == "evaluate" and w.status == "done"]
    size = max((n.id for n in nodes), default=0) + 1
    s = np.zeros(size, dtype=np.int64)
    f = np.zeros(size, dtype=np.int64)
    lower = np.full(size, -np.inf)
    true_q = np.full(size, np.nan)
    created = np.full(size, np.inf)
    for n in nodes:
        if n.true_quality is not None:
            true_q[n.id] = n.true_quality
    for row in archive.nodes():
        if row.id < size:  # a live run may have made nodes since `nodes` was read
            created[row.id] = row.created
    out: dict[str, list[Any]] = {k: [] for k in ("evals", "node", "lower", "mean", "q", "best_q", "cost")}
    simulated = not np.isnan(true_q).all()
    cost, w_i = 0.0, 0
    step = max(1, len(evals) // HISTORY_POINTS)
    for i, ev in enumerate(evals, 1):
        while w_i < len(work) and (work[w_i].finished or 0) <= (ev.finished or 0):
            cost += work[w_i].cost
            w_i += 1
        node = ev.node
        if node >= size:  # evaluated after `nodes` was read, in a live run
            continue
        if ev.success:
            s[node] += 1
        else:
            f[node] += 1
        lower[node] = float(beta_lower_quantiles(s[node : node + 1], f[node : node + 1], epsilon)[0])
        if i % step and i != len(evals):
            continue
        best = int(np.argmax(lower))  # first maximum: ties go to the lowest id, as in best_belief
        out["evals"].append(i)
        out["node"].append(best)
        out["lower"].append(round(float(lower[best]), 4))
        out["mean"].append(round(float(s[best] / (s[best] + f[best])), 4))
        out["cost"].append(round(cost, 6))
        if simulated:
            born = created <= (ev.finished or 0)
            out["q"].append(_round(None if np.isnan(true_q[best]) else float(true_q[best])))
            out["best_q"].append(_round(float(np.nanmax(np.where(born, true_q, np.nan))) if born.any() else None))
    return out


def solve_matrix(nodes: list[NodeSummary], evaluations: dict[int, list[Any]]) -> dict[str, Any]:
    """Top nodes (best first) against the tasks they were evaluated on: 1 solved, 0 failed, -1 error."""
    top = ranked(nodes)[:MATRIX_NODES]
    cells: dict[int, dict[str, int]] = {}
    solves: dict[str, int] = defaultdict(int)
    for n in top:
        row = cells.setdefault(n.id, {})
        for e in evaluations.get(n.id, []):
            value = 1 if e.outcome == SOLVED else -1 if e.outcome == ERROR else 0
            if e.task not in row or value == 1:
                row[e.task] = value
            solves[e.task] += value == 1
    tasks = sorted(solves, key=lambda t: (-solves[t], t))[:MATRIX_TASKS]
    return {
        "nodes": [n.id for n in top],
        "tasks": tasks,
        "z": [[cells[n.id].get(t) for t in tasks] for n in top],
        "more_tasks": max(len(solves) - len(tasks), 0),
    }


def _run(archive: Archive, status: RunStatus, best: NodeSummary | None) -> dict[str, Any]:
    config = archive.config()
    return {
        "path": str(archive.path),
        "name": archive.path.name,
        "world": status.world,
        "policy": status.policy,
        "state": status.state,
        "pid": status.pid,
        "stop_reason": clean(status.stop_reason, 500),
        "evals": status.evals_done,
        "max_evals": status.max_evals,
        "eval_errors": status.eval_errors,
        "nodes": status.nodes,
        "failed": status.failed_nodes,
        "spent": round(status.spent, 6),
        "max_cost": status.max_cost,
        "elapsed": round(status.elapsed, 1),
        "max_time": status.max_time,
        "best": best.id if best else None,
        "epsilon": epsilon_of(archive),
        "seed": config.get("seed"),
        "model": config.get("coding", {}).get("model") if status.world == "coding" else None,
        "costs": _costs(status.costs),
        "generated": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
    }


def report_data(archive: Archive) -> dict[str, Any]:
    """The report's data: run facts, nodes (columns), per-node details, curves and the solve matrix."""
    nodes = summarize(archive)
    epsilon = epsilon_of(archive)
    best = next((n for n in nodes if n.best), None)
    xs, ys = layout(nodes)
    evaluations = evaluations_by_node(archive.work(kind="evaluate"))
    costs = by_node_and_role(archive)
    commits = {n.id: n.commit for n in nodes if n.commit and n.parent is not None}
    diffs = parent_diffs(archive, commits.values())
    details = {}
    for n in nodes:
        details[str(n.id)] = {
            "story": read_story(archive.node_dir(n.id)).fields(),
            "reason": clean(n.reason or "", 1000),
            "evals": [[e.task, e.outcome, e.error] for e in evaluations.get(n.id, [])],
            "costs": _costs(costs.get(n.id, [])),
            "diff": diffs.get(commits.get(n.id) or "", ""),
            "commit": n.commit or "",
        }
    columns = {
        "id": [n.id for n in nodes],
        "parent": [n.parent for n in nodes],
        "failed": [n.status == "failed" for n in nodes],
        "s": [n.n_success for n in nodes],
        "n": [n.n_evals for n in nodes],
        "mean": [_round(n.mean) for n in nodes],
        "cmp": [_round(n.cmp) for n in nodes],
        "clade_n": [n.clade_evals for n in nodes],
        "lower": [_round(n.lower_bound) if n.n_evals else None for n in nodes],
        "q": [_round(n.true_quality) for n in nodes],
        "improver": [bool(n.improver_changed) for n in nodes],
        "x": xs,
        "y": ys,
    }
    return {
        "run": _run(archive, run_status(archive), best),
        "nodes": columns,
        "details": details,
        "history": history(archive, nodes, epsilon),
        "matrix": solve_matrix(nodes, evaluations),
    }
