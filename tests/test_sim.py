import json
import threading
from pathlib import Path

import numpy as np
import pytest

from hgm.interfaces import NodeRef, World
from hgm.policy import SearchParams, best_belief, make_policy
from hgm.tree import Tree
from hgm.worlds.sim import (
    LANDSCAPES,
    Agent,
    SimWorld,
    child_agent,
    get_landscape,
    seed_agent,
    simulate,
    task_ids,
)

GO = threading.Event()


def test_unknown_landscape_lists_the_valid_ones() -> None:
    with pytest.raises(ValueError, match="unknown landscape 'flat'; valid landscapes: smooth, trap, builder, mixed"):
        SimWorld("flat", 0)
    with pytest.raises(ValueError, match="valid landscapes"):
        simulate("flat", "hgm", 10, 0)


def test_task_ids() -> None:
    assert SimWorld("smooth", 0, n_tasks=3).tasks() == ["t000", "t001", "t002"]
    assert task_ids(1001)[-1] == "t1000"


def test_seed_is_written_as_a_readable_source(tmp_path: Path) -> None:
    world: World = SimWorld("mixed", 3)
    q = world.write_seed(tmp_path / "root")
    data = json.loads((tmp_path / "root" / "agent.json").read_text())
    assert q == pytest.approx(0.25)
    assert data["q"] == q
    assert data["lineage"] == "plain"
    assert data["generation"] == 0


def expand_chain(world: SimWorld, root: Path, ids: list[int]) -> list[Path]:
    """Expand the root into each of `ids` (in that order); return the children's sources."""
    out = []
    for child in ids:
        dest = root.parent / f"n{child}"
        result = world.expand(NodeRef(0, None, root), child, dest, GO)
        assert result.ok, result.reason
        assert result.true_quality == pytest.approx(json.loads((dest / "agent.json").read_text())["q"])
        out.append(dest)
    return out


def test_expansion_depends_on_seed_and_child_id_but_not_on_order(tmp_path: Path) -> None:
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    for d, seed in ((a, 1), (b, 1), (c, 2)):
        SimWorld("mixed", seed).write_seed(d / "root")
    expand_chain(SimWorld("mixed", 1), a / "root", [3, 5])
    expand_chain(SimWorld("mixed", 1), b / "root", [5, 3])
    expand_chain(SimWorld("mixed", 2), c / "root", [3, 5])

    def texts(d: Path) -> list[str]:
        return [(d / n / "agent.json").read_text() for n in ("n3", "n5")]

    assert texts(a) == texts(b)
    assert texts(a) != texts(c)
    assert texts(a)[0] != texts(a)[1]


def test_child_source_changes_so_diffs_are_meaningful(tmp_path: Path) -> None:
    world = SimWorld("smooth", 0)
    world.write_seed(tmp_path / "root")
    [child] = expand_chain(world, tmp_path / "root", [1])
    parent = Agent.loads((tmp_path / "root" / "agent.json").read_text())
    kid = Agent.loads((child / "agent.json").read_text())
    assert kid.generation == 1
    assert kid.notes[: len(parent.notes)] == parent.notes
    assert len(kid.notes) == len(parent.notes) + 1


def test_evaluation_is_a_deterministic_bernoulli_draw_of_q(tmp_path: Path) -> None:
    world = SimWorld("smooth", 4, n_tasks=400, cost_per_eval=0.5)
    world.write_seed(tmp_path / "root")
    node = NodeRef(0, None, tmp_path / "root")
    results = [world.evaluate(node, t, GO) for t in world.tasks()]
    again = [world.evaluate(node, t, GO).success for t in world.tasks()]
    assert [r.success for r in results] == again
    assert all(r.cost == 0.5 and r.error == "" for r in results)
    assert np.mean(again) == pytest.approx(0.25, abs=0.07)
    with pytest.raises(ValueError, match="unknown task 'x'"):
        world.evaluate(node, "x", GO)


def test_cancelled_work_fails_with_reason_cancelled(tmp_path: Path) -> None:
    world = SimWorld("smooth", 0, latency=30.0)
    world.write_seed(tmp_path / "root")
    stop = threading.Event()
    stop.set()
    node = NodeRef(0, None, tmp_path / "root")
    expansion = world.expand(node, 1, tmp_path / "child", stop)
    evaluation = world.evaluate(node, "t000", stop)
    assert (expansion.ok, expansion.reason) == (False, "cancelled")
    assert (evaluation.success, evaluation.error) == (False, "cancelled")
    assert not (tmp_path / "child").exists()


def test_latency_waits_then_does_the_work(tmp_path: Path) -> None:
    world = SimWorld("smooth", 0, latency=0.01, cost_per_expansion=2.0)
    world.write_seed(tmp_path / "root")
    result = world.expand(NodeRef(0, None, tmp_path / "root"), 2, tmp_path / "child", threading.Event())
    assert result.ok and result.cost == 2.0 and result.artefacts["summary"].startswith("v1: ")


def test_some_expansions_fail_with_a_reason() -> None:
    land = get_landscape("smooth")
    root = seed_agent(land)
    outcomes = [child_agent(land, root, 0, i) for i in range(1, 2001)]
    failures = [o for o in outcomes if isinstance(o, str)]
    assert 0.03 < len(failures) / len(outcomes) < 0.07
    assert "failure" in failures[0]


def test_reading_something_that_is_not_an_agent_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "agent.json").write_text("{}")
    with pytest.raises(ValueError, match="is not a simulated agent's source"):
        SimWorld("smooth", 0).evaluate(NodeRef(0, None, tmp_path), "t000", GO)


def descendants(landscape: str, parent: Agent, seed: int, n: int) -> list[Agent]:
    kids = [child_agent(get_landscape(landscape), parent, seed, i) for i in range(1, n + 1)]
    return [k for k in kids if isinstance(k, Agent)]


def test_traps_score_high_but_their_children_get_worse() -> None:
    land = get_landscape("trap")
    kids = descendants("trap", seed_agent(land), 0, 400)
    traps = [k for k in kids if k.lineage == "trap"]
    plain = [k for k in kids if k.lineage == "plain"]
    assert 80 < len(traps) < 150
    assert np.mean([k.q for k in traps]) > np.mean([k.q for k in plain]) + 0.15
    trap = max(traps, key=lambda k: k.q)
    grandkids = descendants("trap", trap, 1, 200)
    assert {k.lineage for k in grandkids} == {"trap"}
    assert np.mean([k.q for k in grandkids]) < trap.q - 0.08


def test_builders_start_worse_but_their_lineage_climbs() -> None:
    land = get_landscape("builder")
    kids = descendants("builder", seed_agent(land), 0, 400)
    builders = [k for k in kids if k.lineage == "builder"]
    assert np.mean([k.q for k in builders]) < land.root_q - 0.05
    agent = builders[0]
    rng = np.random.default_rng(0)
    for generation in range(6):
        agent = descendants("builder", agent, 100 + generation, 30)[int(rng.integers(20))]
    assert agent.lineage == "builder" and agent.generation == 7
    assert agent.q > builders[0].q + 0.3


def test_simulate_is_deterministic_and_spends_the_budget() -> None:
    for policy in ("hgm", "dgm", "greedy", "random"):
        a = simulate("mixed", policy, 60, seed=5)
        b = simulate("mixed", policy, 60, seed=5)
        assert (a.best, a.best_q, a.n_nodes, a.decisions) == (b.best, b.best_q, b.n_nodes, b.decisions)
        assert a.tree.n_evals == 60
        assert a.best == best_belief(a.tree, SearchParams().epsilon)
        assert a.best is not None and a.best_q == a.true_q[a.best]
        assert [q is None for q in a.true_q] == [a.tree.is_failed(i) for i in range(a.n_nodes)]
    assert simulate("mixed", "hgm", 60, seed=6).true_q != simulate("mixed", "hgm", 60, seed=5).true_q


def test_simulate_rejects_an_empty_budget_and_negative_seeds() -> None:
    with pytest.raises(ValueError, match="budget must be >= 1"):
        simulate("smooth", "hgm", 0, 0)
    with pytest.raises(ValueError, match="seed must be a non-negative integer"):
        simulate("smooth", "hgm", 10, -1)
    with pytest.raises(ValueError, match="seed must be a non-negative integer"):
        SimWorld("smooth", -3)


def test_simulate_matches_a_serial_run_of_the_world_through_files(tmp_path: Path) -> None:
    """The same decisions, children and verdicts as driving SimWorld one job at a time from its files."""
    seed, budget, params = 11, 80, SearchParams()
    world = SimWorld("mixed", seed)
    policy = make_policy("hgm", params)
    tree = Tree(world.tasks())
    tree.add_node(0, None)
    sources = [tmp_path / "0"]
    world.write_seed(sources[0])
    k = 0
    while (d := policy.decide(tree, budget, np.random.default_rng([seed, 0, k]))) is not None:
        k += 1
        ref = NodeRef(d.node, tree.parent(d.node), sources[d.node])
        if d.kind == "expand":
            child = tree.n_nodes
            tree.start_expand(d.node)
            result = world.expand(ref, child, tmp_path / str(child), GO)
            tree.finish_expand(d.node)
            tree.add_node(child, d.node)
            if not result.ok:
                tree.mark_failed(child)
            sources.append(tmp_path / str(child))
        else:
            assert d.task is not None
            tree.start_eval(d.node, d.task)
            tree.finish_eval(d.node, d.task, world.evaluate(ref, d.task, GO).success)
    sim = simulate("mixed", "hgm", budget, seed, params)
    assert sim.decisions == k
    assert sim.n_nodes == tree.n_nodes
    assert [sim.tree.results(i) for i in range(sim.n_nodes)] == [tree.results(i) for i in range(tree.n_nodes)]
    assert sim.best == best_belief(tree, params.epsilon)
    assert sim.n_nodes > 5


def test_every_landscape_runs_with_every_policy() -> None:
    for landscape in LANDSCAPES:
        for policy in ("hgm", "dgm", "greedy", "random"):
            result = simulate(landscape, policy, 40, seed=1)
            assert result.tree.n_evals == 40
            assert result.best_q is not None and 0.0 < result.best_q < 1.0


def test_asynchronous_simulation_is_deterministic_and_spends_the_budget() -> None:
    for policy in ("hgm", "reference", "dgm"):
        a = simulate("builder", policy, 80, seed=3, workers=6)
        b = simulate("builder", policy, 80, seed=3, workers=6)
        assert (a.best, a.n_nodes, a.decisions) == (b.best, b.n_nodes, b.decisions)
        assert a.charged == 80
        # Only the reference's pre-run root evaluations are free.
        assert a.tree.n_evals == (85 if policy == "reference" else 80)
        assert a.tree.n_evals_in_flight == 0 and a.tree.n_expansions_in_flight == 0


def test_with_several_workers_decisions_see_work_in_flight() -> None:
    serial = simulate("mixed", "hgm", 200, seed=2)
    parallel = simulate("mixed", "hgm", 200, seed=2, workers=8)
    # Same seed and policy, but decisions made while results are outstanding build a different tree.
    assert [serial.tree.results(i) for i in range(3)] != [parallel.tree.results(i) for i in range(3)]
    with pytest.raises(ValueError, match="workers must be >= 1"):
        simulate("mixed", "hgm", 10, 0, workers=0)


def test_simulate_reports_each_policys_own_pick() -> None:
    ref = simulate("smooth", "reference", 120, seed=4)
    assert ref.best is not None and ref.best != 0  # the reference never names the root once a child is evaluated
    assert ref.tree.own(ref.best)[0] > 0
    dgm = simulate("smooth", "dgm", 120, seed=4)
    means = [s / (s + f) if s + f else -1.0 for s, f in (dgm.tree.own(i) for i in range(dgm.n_nodes))]
    assert dgm.best is not None and means[dgm.best] == max(means)
