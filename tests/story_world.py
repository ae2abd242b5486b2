"""A small deterministic world whose expansions leave what the coding world leaves: a diagnosis, the task that
triggered it, model calls by role, a source diff. With `hostile=True` every agent-written string tries to inject
script into the HTML report."""

from __future__ import annotations

import json
import shutil
import threading
from pathlib import Path

from hgm.archive import Archive
from hgm.config import RunConfig, load_config
from hgm.engine import Engine
from hgm.interfaces import Evaluation, Expansion, NodeRef

PLAIN_TASKS = ["alpha", "beta", "gamma", "delta", "epsilon"]
HOSTILE_TASKS = [
    "<img src=x onerror=\"window.__pwned='task'\">",
    "</script><script>window.__pwned='task2'</script>",
    "<b>bold</b> & <a href=\"javascript:window.__pwned='link'\">link</a>",
    "plain\u2028task",
    "gamma",
]
HOSTILE_FAILURE = "</script><script>window.__pwned='diagnosis'</script> the agent never ran the tests"
HOSTILE_PROPOSAL = "<img src=x onerror=\"window.__pwned='proposal'\"> Run the tests before submitting."
HOSTILE_SOURCE = "# </script><script>window.__pwned='diff'</script> <!-- <img src=x onerror=alert(1)>\n"
HOSTILE_REASON = "<svg onload=\"window.__pwned='reason'\">the child deleted its tests</svg>"


class StoryWorld:
    """Node n, task i: solved unless (n + i) % 3 == 0; every fourth child fails to be made."""

    def __init__(self, archive: Archive, hostile: bool = False) -> None:
        self.archive = archive
        self.hostile = hostile
        self._tasks = HOSTILE_TASKS if hostile else PLAIN_TASKS

    def tasks(self) -> list[str]:
        return list(self._tasks)

    def write_seed(self, dest: Path) -> float | None:
        (dest / "agent.py").write_text("VERSION = 0\n")
        return None

    def failure(self, child: int) -> str:
        return HOSTILE_FAILURE if self.hostile else f"the agent gave up on task {child}"

    def proposal(self, child: int) -> str:
        return HOSTILE_PROPOSAL if self.hostile else f"Raise VERSION to {child} so that the agent tries harder."

    def _call(self, node: int, purpose: str, cost: float) -> None:
        self.archive.record_llm_call(
            node_id=node,
            purpose=purpose,
            model="story/model",
            prompt_tokens=1000,
            completion_tokens=100,
            cost=cost,
            latency=0.01,
            error=None,
        )

    def expand(self, parent: NodeRef, child_id: int, dest: Path, cancel: threading.Event) -> Expansion:
        task = self._tasks[child_id % len(self._tasks)]
        diagnosis = {
            "failure": self.failure(child_id),
            "root_cause": f"node {parent.id} stops too early",
            "proposal": self.proposal(child_id),
            "files": ["agent.py"],
        }
        artefacts = {"task.txt": task, "diagnosis.json": json.dumps(diagnosis)}
        self._call(child_id, "diagnosis", 0.01)
        self._call(child_id, "selfmod", 0.02)
        if child_id % 4 == 0:
            reason = HOSTILE_REASON if self.hostile else "the child deleted its tests"
            return Expansion(ok=False, reason=reason, cost=0.03, artefacts=artefacts)
        shutil.copytree(parent.source, dest, dirs_exist_ok=True)
        extra = HOSTILE_SOURCE if self.hostile else ""
        (dest / "agent.py").write_text(f"{extra}VERSION = {child_id}\n")
        return Expansion(ok=True, cost=0.03, artefacts=artefacts)

    def evaluate(self, node: NodeRef, task: str, cancel: threading.Event) -> Evaluation:
        self._call(node.id, f"evaluate:{task}", 0.005)
        return Evaluation(success=(node.id + self._tasks.index(task)) % 3 != 0, cost=0.005)

    def close(self) -> None:
        pass


def story_config(max_evals: int, **extra: object) -> RunConfig:
    overrides = [
        "world=sim",
        f"budget.max_evals={max_evals}",
        "seed=3",
        "search.initial_evals=3",
        "search.initial_expansions=2",
        # The story's tree was written for these search settings; pinning them keeps it when defaults move.
        "search.cooling=true",
        "search.count_failed=true",
        "search.epsilon=0.01",
    ]
    return load_config(overrides=overrides + [f"{k}={v}" for k, v in extra.items()])


def make_story_run(out: Path, max_evals: int = 24, hostile: bool = False) -> Path:
    """A finished run of the story world in `out`."""
    config = story_config(max_evals)
    archive = Archive.create(out, config.model_dump(mode="json"))
    try:
        Engine(archive, StoryWorld(archive, hostile), config).run()
    finally:
        archive.close()
    return out


def make_sim_run(out: Path, max_evals: int = 60, **extra: object) -> Path:
    """A finished run of the simulated world in `out`."""
    from hgm.worlds.sim import SimWorld

    config = story_config(max_evals, **extra)
    archive = Archive.create(out, config.model_dump(mode="json"))
    try:
        sim = config.sim
        world = SimWorld(sim.landscape, config.seed, sim.n_tasks, 0.0, sim.cost_per_eval, sim.cost_per_expansion)
        Engine(archive, world, config).run()
    finally:
        archive.close()
    return out
