"""The offline demo: the whole loop (gateway, sandbox, self-modification, hidden tests) with a scripted model."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from hgm.archive import Archive
from hgm.config import RunConfig, load_config
from hgm.report import summarize

DEMO_TASKS_PER_DIFFICULTY = {"easy": 4, "medium": 3, "hard": 4}


def demo_tasks() -> list[str]:
    """A fixed mix of easy, medium and hard built-in tasks."""
    from hgm.coding.benchmarks.builtin import BuiltinBenchmark

    bench = BuiltinBenchmark()
    chosen: list[str] = []
    for difficulty, count in DEMO_TASKS_PER_DIFFICULTY.items():
        chosen += [t for t in bench.tasks() if bench.info(t).difficulty == difficulty][:count]
    return chosen


def demo_config(backend: str, max_evals: int, workers: int) -> RunConfig:
    tasks = demo_tasks()
    return load_config(
        overrides=[
            "world=coding",
            "policy=hgm",
            "seed=1",
            f"workers={workers}",
            f"budget.max_evals={max_evals}",
            f"search.initial_evals={len(tasks)}",
            "search.initial_expansions=2",
            "coding.model=scripted/demo",
            f"coding.tasks=[{', '.join(tasks)}]",
            f"coding.sandbox.backend={backend}",
            "coding.agent_timeout=300",
            "coding.selfmod_timeout=300",
        ]
    )


def explain(archive: Archive, console: Console) -> None:
    """Show what changed between the seed and the best agent, and what each scored."""
    from hgm.views.tree import lineage_tree

    nodes = summarize(archive)
    console.print(lineage_tree(nodes), soft_wrap=True)
    root = nodes[0]
    improved = [n for n in nodes if n.status == "ready" and n.id != 0 and n.mean is not None]
    console.rule("what happened")
    console.print(f"seed agent (node 0): solved {root.n_success}/{root.n_evals} tasks", highlight=False)
    failed = [n for n in nodes if n.status == "failed"]
    console.print(
        f"{len(nodes) - 1} self-modifications: {len(nodes) - 1 - len(failed)} accepted, {len(failed)} rejected",
        highlight=False,
    )
    best = next((n for n in nodes if n.best), root)
    console.print(f"best-belief agent: node {best.id}, solved {best.n_success}/{best.n_evals}", highlight=False)
    changed = max(improved, key=lambda n: (n.mean or 0, n.n_evals), default=None)
    if changed is not None and changed.commit and root.commit:
        console.rule(f"node {changed.id}: its change to the agent's code, and its score")
        console.print(archive.diff(root.commit, changed.commit), markup=False, highlight=False)
        console.print(
            f"node {changed.id}: solved {changed.n_success}/{changed.n_evals} (seed: {root.n_success}/{root.n_evals})",
            highlight=False,
        )
    console.print(
        "The model in this demo is scripted (hgm/models/demo.py): fixed rules, not a language model.",
        style="dim",
        highlight=False,
    )


def default_out() -> Path:
    import time

    return Path("runs") / f"demo-{time.strftime('%Y%m%d-%H%M%S')}"
