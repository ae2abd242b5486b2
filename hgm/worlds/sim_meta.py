"""Meta-aware simulated landscapes: each agent also carries an improver whose quality scales its children's gains.

The mechanism, stated so it can be argued with: the edit that makes a child is produced by the parent's improver,
so the mean logit(q) step of a child is `g * m`, where `m` is the parent's metaproductivity (as in `sim.py`) and
`g` the quality of the parent's improver. In classic mode the improver is hgm's fixed code: `g = 1` for every node
and every self-modification edits the task agent. In meta mode the improver is part of the agent: a
self-modification edits the improver instead with probability `edit_prob`, which multiplies `g` by
`exp(N(log_g_mean, log_g_sd))` (kept within [g_min, g_max]) and leaves the task agent as it was but for noise; an
improver edit therefore costs a generation of task progress and pays back, if at all, in descendants.
"""

from __future__ import annotations

import json
import math
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hgm.interfaces import Evaluation, Expansion, NodeRef
from hgm.policy import SearchParams, best_belief, make_policy
from hgm.tree import Tree
from hgm.worlds.sim import SOURCE_FILE, Agent, SimWorldBase, eval_success, task_ids

IMPROVER_FILE = "improver.json"
MODES = ("classic", "meta")


@dataclass(frozen=True)
class MetaLandscape:
    """One kind of agent (as `smooth`) whose children's mean step is scaled by the parent's improver quality g."""

    description: str
    edit_prob: float
    """Meta mode: chance that a self-modification edits the improver rather than the task agent."""
    log_g_mean: float
    """Mean change of log g by an improver edit (0: edits are as likely to help as to hurt)."""
    log_g_sd: float = 0.4
    """Standard deviation of that change."""
    root_q: float = 0.25
    root_m: float = 0.1
    step_sd: float = 0.15
    """Smaller than in sim.py's landscapes, so that the expected gain, which g scales, matters beside selection."""
    m_sd: float = 0.05
    fail_prob: float = 0.05
    g_min: float = 0.25
    g_max: float = 4.0


META_LANDSCAPES: dict[str, MetaLandscape] = {
    "improver-hard": MetaLandscape(
        "children gain g*m per generation; most improver edits make g worse (mean change of log g: -0.3)",
        edit_prob=0.25,
        log_g_mean=-0.3,
    ),
    "improver": MetaLandscape(
        "children gain g*m per generation; improver edits change g, as likely up as down",
        edit_prob=0.25,
        log_g_mean=0.0,
    ),
    "improver-easy": MetaLandscape(
        "children gain g*m per generation; most improver edits make g better (mean change of log g: +0.3)",
        edit_prob=0.25,
        log_g_mean=0.3,
    ),
}


def is_meta_landscape(name: str) -> bool:
    return name in META_LANDSCAPES


def get_meta_landscape(name: str) -> MetaLandscape:
    try:
        return META_LANDSCAPES[name]
    except KeyError:
        raise ValueError(
            f"selfmod.mode=meta on the simulated world needs a meta-aware landscape ({', '.join(META_LANDSCAPES)}); "
            f"{name!r} models no improver"
        ) from None


def _check_mode(mode: str) -> None:
    if mode not in MODES:
        raise ValueError(f"unknown self-modification mode {mode!r}; choose classic or meta")


@dataclass(frozen=True)
class MetaChild:
    """A child agent, its improver quality, and whether the self-modification edited the improver."""

    agent: Agent
    g: float
    improver_edit: bool


def seed(land: MetaLandscape) -> tuple[Agent, float]:
    z = math.log(land.root_q / (1.0 - land.root_q))
    return Agent(z, land.root_m, "plain", 0, ("v0: read the task, edit, run the tests, submit",)), 1.0


def child(land: MetaLandscape, mode: str, parent: Agent, g: float, seed_: int, child_id: int) -> MetaChild | str:
    """The child that expanding `parent` (improver quality g) yields, or the failure reason.

    Both modes draw the same random numbers in the same order, so classic and meta runs of a seed are paired.
    """
    rng = np.random.default_rng([seed_, 11, child_id])
    fails, edits_improver = rng.random() < land.fail_prob, rng.random() < land.edit_prob
    step, m_noise, g_change = rng.normal(0.0, land.step_sd), rng.normal(0.0, land.m_sd), rng.normal(0.0, 1.0)
    if fails:
        return "the edited agent crashed on start-up (simulated failure)"
    m = parent.m + m_noise
    if mode == "meta" and edits_improver:
        g_child = float(np.clip(g * math.exp(land.log_g_mean + land.log_g_sd * g_change), land.g_min, land.g_max))
        z, note = parent.logit_q + 0.5 * step, "edited its improver"
    else:
        g_child, z, note = g, parent.logit_q + g * parent.m + step, "edited the task agent"
    gen = parent.generation + 1
    agent = Agent(float(z), float(m), parent.lineage, gen, (*parent.notes, f"v{gen}: {note}")[-12:])
    return MetaChild(agent, g_child, mode == "meta" and edits_improver)


def _write(dest: Path, agent: Agent, g: float) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    (dest / SOURCE_FILE).write_text(agent.dumps())
    (dest / IMPROVER_FILE).write_text(json.dumps({"g": g}) + "\n")


def _read(source: Path) -> tuple[Agent, float]:
    try:
        agent = Agent.loads((source / SOURCE_FILE).read_text())
        g = float(json.loads((source / IMPROVER_FILE).read_text())["g"])
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise ValueError(f"{source} is not a meta-aware simulated agent's source: {e}") from e
    return agent, g


class MetaSimWorld(SimWorldBase):
    """The simulated world on a meta-aware landscape, in classic or meta self-modification mode."""

    def __init__(
        self,
        landscape: str,
        mode: str,
        seed: int,
        n_tasks: int = 200,
        latency: float = 0.0,
        cost_per_eval: float = 0.0,
        cost_per_expansion: float = 0.0,
    ) -> None:
        _check_mode(mode)
        if n_tasks < 1 or seed < 0 or latency < 0:
            raise ValueError("n_tasks must be >= 1, the seed and latency >= 0")
        self.landscape = get_meta_landscape(landscape)
        self.mode = mode
        super().__init__(seed, n_tasks, latency, cost_per_eval, cost_per_expansion)

    def write_seed(self, dest: Path) -> float | None:
        agent, g = seed(self.landscape)
        _write(dest, agent, g)
        return agent.q

    def expand(self, parent: NodeRef, child_id: int, dest: Path, cancel: threading.Event) -> Expansion:
        if cancel.wait(self.latency):
            return Expansion(ok=False, reason="cancelled")
        agent, g = _read(parent.source)
        result = child(self.landscape, self.mode, agent, g, self.seed, child_id)
        if isinstance(result, str):
            return Expansion(ok=False, reason=result, cost=self.cost_per_expansion)
        _write(dest, result.agent, result.g)
        artefacts = {"summary": f"{result.agent.notes[-1]} (generation {result.agent.generation})"}
        if self.mode == "meta":
            artefacts["improver.json"] = json.dumps({"changed": result.improver_edit, "g": round(result.g, 4)})
        return Expansion(ok=True, cost=self.cost_per_expansion, artefacts=artefacts, true_quality=result.agent.q)

    def evaluate(self, node: NodeRef, task: str, cancel: threading.Event) -> Evaluation:
        if task not in self._task_index:
            raise ValueError(f"unknown task {task!r}")
        if cancel.wait(self.latency):
            return Evaluation(success=False, error="cancelled")
        ok = eval_success(_read(node.source)[0], self.seed, node.id, self._task_index[task])
        return Evaluation(success=ok, cost=self.cost_per_eval, artefacts={"log": f"{task}: {ok}"})

    def close(self) -> None:
        """Nothing to release."""


@dataclass
class MetaSimResult:
    best: int | None
    best_q: float | None
    n_nodes: int
    improver_edits: int
    """Successful expansions that edited the improver."""
    best_g: float | None
    """Improver quality of the best-belief node."""


def simulate_meta(
    landscape: str,
    mode: str,
    policy: str,
    budget: int,
    seed_: int,
    params: SearchParams = SearchParams(),
    n_tasks: int = 200,
) -> MetaSimResult:
    """A whole search, serially and in memory, with the random streams MetaSimWorld uses."""
    _check_mode(mode)
    if budget < 1 or seed_ < 0:
        raise ValueError("the budget must be >= 1 and the seed >= 0")
    land = get_meta_landscape(landscape)
    pol = make_policy(policy, params)
    tasks = task_ids(n_tasks)
    index = {t: i for i, t in enumerate(tasks)}
    tree = Tree(tasks)
    nodes: list[tuple[Agent, float] | None] = [seed(land)]
    tree.add_node(0, None)
    edits, k, max_decisions = 0, 0, 50 * (budget + n_tasks) + 1000
    while (d := pol.decide(tree, budget, np.random.default_rng([seed_, 0, k]))) is not None:
        k += 1
        if k > max_decisions:
            raise RuntimeError(f"policy {policy!r} made {k} decisions on a budget of {budget}; it does not converge")
        if d.kind == "expand":
            tree.start_expand(d.node)
            child_id = tree.n_nodes
            parent = nodes[d.node]
            assert parent is not None
            made = child(land, mode, parent[0], parent[1], seed_, child_id)
            tree.add_node(child_id, d.node)
            if isinstance(made, str):
                tree.mark_failed(child_id)
                nodes.append(None)
            else:
                nodes.append((made.agent, made.g))
                edits += made.improver_edit
            tree.finish_expand(d.node)
        else:
            assert d.task is not None
            node = nodes[d.node]
            assert node is not None
            tree.start_eval(d.node, d.task)
            tree.finish_eval(d.node, d.task, eval_success(node[0], seed_, d.node, index[d.task]))
    best = best_belief(tree, params.epsilon)
    chosen = nodes[best] if best is not None else None
    return MetaSimResult(
        best,
        chosen[0].q if chosen else None,
        tree.n_nodes,
        edits,
        chosen[1] if chosen else None,
    )
