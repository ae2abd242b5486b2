"""A seeded synthetic model of self-improvement: hidden quality q and metaproductivity m per agent, no LLM."""

from __future__ import annotations

import heapq
import json
import math
import threading
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np

from hgm.execution.remote import Plain
from hgm.interfaces import Evaluation, Expansion, NodeRef
from hgm.policy import Decision, SearchParams, make_policy
from hgm.tree import Tree

SOURCE_FILE = "agent.json"


@dataclass(frozen=True)
class Lineage:
    """A kind of lineage a child may found: a jump in quality at founding and the founder's metaproductivity."""

    name: str
    weight: float
    """Relative chance that a newly founded lineage is of this kind."""
    jump: float
    """Change of the founder's logit(q) relative to its parent."""
    m: float
    """The founder's metaproductivity (mean logit(q) step of its children); descendants inherit it with noise."""


@dataclass(frozen=True)
class Landscape:
    """How agents improve: children step in logit(q) by N(parent m, step_sd); plain agents may found lineages."""

    description: str
    root_q: float
    """True success probability of the seed agent."""
    root_m: float
    """Metaproductivity of the seed agent."""
    step_sd: float = 0.3
    """Standard deviation of a child's logit(q) step."""
    m_sd: float = 0.05
    """Standard deviation of the noise with which a child inherits m."""
    found_prob: float = 0.0
    """Chance that a child of a plain agent founds a new lineage; founded lineages never found others."""
    lineages: tuple[Lineage, ...] = ()
    """Kinds of lineage that can be founded."""
    fail_prob: float = 0.05
    """Chance that a self-modification attempt fails outright."""


_TRAP = Lineage("trap", weight=1.0, jump=1.2, m=-0.6)
_BUILDER = Lineage("builder", weight=1.0, jump=-0.6, m=0.5)

LANDSCAPES: dict[str, Landscape] = {
    "smooth": Landscape(
        "one kind of agent; m drifts and is inherited, so good agents tend to have good children",
        root_q=0.25,
        root_m=0.1,
        m_sd=0.1,
    ),
    "trap": Landscape(
        "slowly improving agents sometimes found a trap: a big jump in q whose descendants only get worse",
        root_q=0.25,
        root_m=0.1,
        found_prob=0.3,
        lineages=(_TRAP,),
    ),
    "builder": Landscape(
        "stagnant agents sometimes found a builder lineage: worse at first, its descendants climb steadily",
        root_q=0.25,
        root_m=0.0,
        found_prob=0.2,
        lineages=(_BUILDER,),
    ),
    "mixed": Landscape(
        "stagnant agents found traps and builders alike; own score points to the traps, descendants to builders",
        root_q=0.25,
        root_m=0.0,
        found_prob=0.3,
        lineages=(_TRAP, _BUILDER),
    ),
}

_VERBS = ("retry", "summarise", "cache", "lint", "test", "split", "re-read", "diff", "grep", "log", "plan", "verify")
_OBJECTS = ("the failing test", "the traceback", "each edit", "the file tree", "tool output", "the task statement")
_MAX_NOTES = 12


@dataclass(frozen=True)
class Agent:
    """A simulated agent's source: hidden quality and metaproductivity plus generated notes."""

    logit_q: float
    m: float
    lineage: str
    generation: int
    notes: tuple[str, ...] = field(default=())

    @property
    def q(self) -> float:
        """True success probability."""
        return 1.0 / (1.0 + math.exp(-self.logit_q))

    def dumps(self) -> str:
        """The agent.json text."""
        d = asdict(self)
        d["q"] = self.q
        d["notes"] = list(self.notes)
        return json.dumps(d, indent=2) + "\n"

    @classmethod
    def loads(cls, text: str) -> Agent:
        """Parse agent.json text."""
        d = json.loads(text)
        return cls(d["logit_q"], d["m"], d["lineage"], d["generation"], tuple(d["notes"]))


def get_landscape(name: str) -> Landscape:
    """The landscape called `name`, or a ValueError listing the valid names."""
    try:
        return LANDSCAPES[name]
    except KeyError:
        raise ValueError(f"unknown landscape {name!r}; valid landscapes: {', '.join(LANDSCAPES)}") from None


def seed_agent(landscape: Landscape) -> Agent:
    """The root agent."""
    z = math.log(landscape.root_q / (1.0 - landscape.root_q))
    return Agent(z, landscape.root_m, "plain", 0, ("v0: read the task, edit, run the tests, submit",))


def child_agent(landscape: Landscape, parent: Agent, seed: int, child_id: int) -> Agent | str:
    """The child that expanding `parent` into node `child_id` yields, or the failure reason."""
    rng = np.random.default_rng([seed, 1, child_id])
    if rng.random() < landscape.fail_prob:
        return "the edited agent crashed on start-up (simulated failure)"
    if parent.lineage == "plain" and landscape.lineages and rng.random() < landscape.found_prob:
        weights = np.array([k.weight for k in landscape.lineages])
        kind = landscape.lineages[int(rng.choice(len(weights), p=weights / weights.sum()))]
        z = parent.logit_q + kind.jump + rng.normal(0.0, landscape.step_sd)
        m, lineage = kind.m + rng.normal(0.0, landscape.m_sd), kind.name
    else:
        z = parent.logit_q + rng.normal(parent.m, landscape.step_sd)
        m, lineage = parent.m + rng.normal(0.0, landscape.m_sd), parent.lineage
    gen = parent.generation + 1
    note = f"v{gen}: {_VERBS[rng.integers(len(_VERBS))]} {_OBJECTS[rng.integers(len(_OBJECTS))]}"
    notes = (*parent.notes, note)[-_MAX_NOTES:]
    return Agent(float(z), float(m), lineage, gen, notes)


def eval_success(agent: Agent, seed: int, node_id: int, task_index: int) -> bool:
    """Whether the agent of `node_id` solves task number `task_index`: a Bernoulli draw of its q."""
    return bool(np.random.default_rng([seed, 2, node_id, task_index]).random() < agent.q)


def task_ids(n_tasks: int) -> list[str]:
    """Task ids t000, t001, ... (wider when there are more than 1000)."""
    width = max(3, len(str(n_tasks - 1)))
    return [f"t{i:0{width}d}" for i in range(n_tasks)]


class SimWorldBase:
    """What the simulated worlds share: the seed, latency and costs they were given, and their task ids."""

    def __init__(
        self, seed: int, n_tasks: int, latency: float, cost_per_eval: float, cost_per_expansion: float
    ) -> None:
        self.seed = seed
        self.latency = latency
        self.cost_per_eval = cost_per_eval
        self.cost_per_expansion = cost_per_expansion
        self._tasks = task_ids(n_tasks)
        self._task_index = {t: i for i, t in enumerate(self._tasks)}

    def tasks(self) -> list[str]:
        """The task ids."""
        return list(self._tasks)


class SimWorld(SimWorldBase):
    """The simulated world behind the engine's World protocol; deterministic given the seed and the node ids."""

    def __init__(
        self,
        landscape: str,
        seed: int,
        n_tasks: int = 200,
        latency: float = 0.0,
        cost_per_eval: float = 0.0,
        cost_per_expansion: float = 0.0,
    ) -> None:
        if n_tasks < 1:
            raise ValueError(f"n_tasks must be >= 1, got {n_tasks}")
        _check_seed(seed)
        if latency < 0:
            raise ValueError(f"latency must be >= 0 seconds, got {latency}")
        self.landscape_name = landscape
        self.landscape = get_landscape(landscape)
        super().__init__(seed, n_tasks, latency, cost_per_eval, cost_per_expansion)

    def write_seed(self, dest: Path) -> float | None:
        """Write the root agent into `dest`; return its true q."""
        agent = seed_agent(self.landscape)
        _write(dest, agent)
        return agent.q

    def expand(self, parent: NodeRef, child_id: int, dest: Path, cancel: threading.Event) -> Expansion:
        """Derive node `child_id` from the parent's agent.json and write it into `dest`."""
        if cancel.wait(self.latency):
            return Expansion(ok=False, reason="cancelled")
        result = child_agent(self.landscape, _read(parent.source), self.seed, child_id)
        if isinstance(result, str):
            return Expansion(ok=False, reason=result, cost=self.cost_per_expansion)
        _write(dest, result)
        summary = f"{result.notes[-1]} (lineage {result.lineage}, generation {result.generation})"
        return Expansion(ok=True, cost=self.cost_per_expansion, artefacts={"summary": summary}, true_quality=result.q)

    def evaluate(self, node: NodeRef, task: str, cancel: threading.Event) -> Evaluation:
        """Run the node's agent on `task`: a Bernoulli draw of its q."""
        if task not in self._task_index:
            raise ValueError(f"unknown task {task!r} (tasks are {self._tasks[0]}..{self._tasks[-1]})")
        if cancel.wait(self.latency):
            return Evaluation(success=False, error="cancelled")
        ok = eval_success(_read(node.source), self.seed, node.id, self._task_index[task])
        log = f"{task}: {'solved' if ok else 'not solved'}"
        return Evaluation(success=ok, cost=self.cost_per_eval, artefacts={"log": log})

    def portable(self) -> Plain:
        """What a Ray node needs to run this world's work: the world itself (it is pure)."""
        return Plain(self)

    def close(self) -> None:
        """Nothing to release."""


def _check_seed(seed: int) -> None:
    if seed < 0:
        raise ValueError(f"the seed must be a non-negative integer, got {seed}")


def _write(dest: Path, agent: Agent) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    (dest / SOURCE_FILE).write_text(agent.dumps())


def _read(source: Path) -> Agent:
    path = source / SOURCE_FILE
    try:
        return Agent.loads(path.read_text())
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise ValueError(f"{path} is not a simulated agent's source: {e}") from e


# ---- fast serial driver -----------------------------------------------------------------------------------------


@dataclass
class SimResult:
    """Outcome of one simulated search."""

    best: int | None
    """The best-belief node."""
    best_q: float | None
    """Its true q."""
    n_nodes: int
    """Nodes created, the root and failed expansions included."""
    tree: Tree
    """The final search state."""
    true_q: list[float | None]
    """True q per node (None for failed expansions)."""
    agents: list[Agent | None]
    """Each node's simulated agent (None for failed expansions)."""
    decisions: int
    """Policy decisions made."""
    charged: int
    """Evaluations paid from the budget (the reference policy's pre-run root evaluations are not)."""


def simulate(
    landscape: str,
    policy: str,
    budget: int,
    seed: int,
    params: SearchParams = SearchParams(),
    n_tasks: int = 200,
    workers: int = 1,
    expand_time: float = 2.0,
) -> SimResult:
    """Run a whole search in memory with the same tree, policy and random streams as SimWorld.

    With `workers` > 1 the search is asynchronous: up to that many jobs run at once on a simulated clock, an
    evaluation taking Gamma(2)-distributed time of mean 1 and an expansion of mean `expand_time`, and each job's
    result lands when its time is up, so the policy decides while other work is still running. A child's id is
    given when its expansion finishes. With one worker every job finishes before the next decision.
    """
    if budget < 1:
        raise ValueError(f"the evaluation budget must be >= 1, got {budget}")
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    _check_seed(seed)
    land = get_landscape(landscape)
    pol = make_policy(policy, replace(params, workers=workers))
    tasks = task_ids(n_tasks)
    index = {t: i for i, t in enumerate(tasks)}
    tree = Tree(tasks)
    agents: list[Agent | None] = [seed_agent(land)]
    tree.add_node(0, None)
    # Every decision either spends budget or adds a node (which raises |T| until evaluation is chosen again).
    max_decisions = 50 * (budget + n_tasks) + 1000
    k = 0
    clock = 0.0
    running: list[tuple[float, int, Decision]] = []
    while True:
        while len(running) < workers:
            d = pol.decide(tree, budget, np.random.default_rng([seed, 0, k]))
            if d is None:
                break
            k += 1
            if k > max_decisions:
                raise RuntimeError(f"policy {policy!r} made {k} decisions on a budget of {budget}; it cannot converge")
            if d.kind == "expand":
                tree.start_expand(d.node)
                mean = expand_time
            else:
                assert d.task is not None
                tree.start_eval(d.node, d.task)
                mean = 1.0
            duration = np.random.default_rng([seed, 3, k]).gamma(2.0, mean / 2.0) if workers > 1 else 0.0
            heapq.heappush(running, (clock + duration, k, d))
        if not running:
            break
        clock, _, d = heapq.heappop(running)
        if d.kind == "expand":
            tree.finish_expand(d.node)
            child_id = tree.n_nodes
            parent = agents[d.node]
            assert parent is not None
            child = child_agent(land, parent, seed, child_id)
            tree.add_node(child_id, d.node)
            if isinstance(child, str):
                tree.mark_failed(child_id)
                agents.append(None)
            else:
                agents.append(child)
        else:
            assert d.task is not None
            agent = agents[d.node]
            assert agent is not None
            tree.finish_eval(d.node, d.task, eval_success(agent, seed, d.node, index[d.task]))
    best = pol.best(tree)
    qs = [a.q if a is not None else None for a in agents]
    return SimResult(best, None if best is None else qs[best], tree.n_nodes, tree, qs, agents, k, pol.charged(tree))
