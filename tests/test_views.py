import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest
from story_world import StoryWorld, make_sim_run, make_story_run, story_config

from hgm.archive import Archive, ArchiveError
from hgm.engine import Engine
from hgm.posterior import beta_lower_quantiles
from hgm.report import ranked, select, summarize
from hgm.views.costs import by_node_and_role, by_role, role_of
from hgm.views.lineage import diff_nodes, parent_diffs
from hgm.views.node import artefact_groups, node_detail
from hgm.views.status import DIED, NEW, RUNNING, STOPPED, eta, run_status
from hgm.views.story import Story, clean, commit_message, story_from_artefacts, visible


@pytest.fixture(scope="module")
def story_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_story_run(tmp_path_factory.mktemp("views") / "run")


@pytest.fixture(scope="module")
def sim_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_sim_run(tmp_path_factory.mktemp("views") / "sim", max_evals=80)


def test_commit_message_tells_the_task_the_failure_and_the_proposal():
    artefacts = {
        "task.txt": "cron_schedule\n",
        "diagnosis.json": json.dumps(
            {
                "failure": "the agent stopped at its step limit",
                "root_cause": "MAX_STEPS = 60 is too low",
                "proposal": "Raise MAX_STEPS from 60 to 120. Keep the rest.",
                "files": ["agent_seed/settings.py"],
            }
        ),
    }
    assert commit_message(7, 4, artefacts) == (
        "node 7: child of node 4: Raise MAX_STEPS from 60 to 120.\n\n"
        "Task: cron_schedule\n"
        "Failure: the agent stopped at its step limit\n"
        "Root cause: MAX_STEPS = 60 is too low\n"
        "Proposal: Raise MAX_STEPS from 60 to 120. Keep the rest.\n"
        "Files: agent_seed/settings.py"
    )


def test_commit_message_of_a_simulated_child_uses_its_summary_and_without_artefacts_names_the_parent():
    summary = {"summary": "v2: summarise each edit (lineage trap, generation 2)"}
    assert commit_message(5, 1, summary) == (
        "node 5: child of node 1: v2: summarise each edit (lineage trap, generation 2)\n\n"
        "Summary: v2: summarise each edit (lineage trap, generation 2)"
    )
    assert commit_message(3, 0, {}) == "node 3: child of node 0"


def test_commit_message_survives_hostile_diagnoses():
    escape = "\x1b]52;c;ZWNobyBwd25lZA==\x07"  # a terminal escape that writes the clipboard
    for raw in ("not json", "[1, 2]", json.dumps({"proposal": 42, "files": "x"}), json.dumps({"failure": escape})):
        message = commit_message(2, 1, {"diagnosis.json": raw, "task.txt": "t\x00\x1b[2J"})
        assert message.startswith("node 2: child of node 1")
        assert "\x1b" not in message and "\x00" not in message and "\x07" not in message
    long = json.dumps({"proposal": "x" * 50_000})
    subject, _, body = commit_message(2, 1, {"diagnosis.json": long}).partition("\n\n")
    assert len(subject) < 110 and len(body) < 2_100 and body.endswith("…")


def test_story_fields_and_headline():
    story = story_from_artefacts({"diagnosis.json": json.dumps({"proposal": "Add a retry! Then more.", "files": []})})
    assert story.headline() == "Add a retry!"
    assert story.fields() == [("proposal", "Add a retry! Then more.")]
    assert not Story() and story


def test_clean_and_visible():
    assert clean("  a\x1b[31mb\x00\n c  ") == "a[31mb\n c"
    assert clean("abcdef", 4) == "abc…"
    assert visible("a\x1b[2Jb\n\tc") == "a\\x1b[2Jb\n\tc"


def test_role_of_purposes():
    assert [role_of(p) for p in ("evaluate:task-1", "diagnosis", "selfmod", None)] == [
        "agent",
        "diagnosis",
        "selfmod",
        "other",
    ]


def test_costs_by_role_for_the_run_and_per_node(story_run: Path):
    with Archive(story_run) as archive:
        run = {c.role: c for c in by_role(archive.llm_calls(), archive.work())}
        children = len(archive.nodes()) - 1
        evals = len(archive.work(kind="evaluate"))
        per_node = by_node_and_role(archive)
    assert run["diagnosis"].calls == run["selfmod"].calls == children
    assert run["agent"].calls == evals
    assert run["agent"].cost == pytest.approx(0.005 * evals)
    assert run["selfmod"].tokens == 1100 * children
    assert [c.role for c in per_node[1]] == ["agent", "diagnosis", "selfmod"]
    assert [c.label for c in per_node[1]] == ["agent (solving tasks)", "diagnosis", "self-modification"]


def test_simulated_costs_come_from_the_work_records(tmp_path: Path):
    run = make_sim_run(tmp_path / "run", max_evals=20, **{"sim.cost_per_eval": 0.25, "sim.cost_per_expansion": 1})
    with Archive(run) as archive:
        costs = {c.role: c.cost for c in by_role(archive.llm_calls(), archive.work())}
        children = len(archive.nodes()) - 1
        per_node = by_node_and_role(archive)
    assert costs == {"evaluate": pytest.approx(5.0), "expand": pytest.approx(children)}
    assert {c.role for c in per_node[1]} <= {"evaluate", "expand"}


@pytest.mark.parametrize("rule", ["quantile", "mean"])
def test_the_summary_agrees_with_the_engines_own_tree(tmp_path: Path, rule: str):
    """The views count from the database what the engine keeps in memory, and name the node the engine names."""
    config = story_config(90, workers=3, **{"search.best_rule": rule})
    archive = Archive.create(tmp_path / "run", config.model_dump(mode="json"))
    try:
        engine = Engine(archive, StoryWorld(archive), config)
        engine.run()
        nodes = summarize(archive)
    finally:
        archive.close()
    tree = engine.tree
    assert [n.id for n in nodes] == list(range(tree.n_nodes)) and any(n.status == "failed" for n in nodes)
    for n in nodes:
        s, f = tree.own(n.id)
        assert (n.n_success, n.n_evals) == (s, s + f)
        assert n.clade_evals == sum(tree.clade(n.id)) and n.cmp == tree.cmp(n.id)
        assert n.lower_bound == beta_lower_quantiles(np.array([s]), np.array([f]), engine.params.epsilon)[0]
    assert [n.id for n in nodes if n.best] == [engine.policy.best(tree)]


def test_eval_counts_count_only_finished_evaluations(tmp_path: Path):
    archive = Archive.create(tmp_path / "run", {})
    try:
        archive.add_root("0" * 40, None)
        for k, (task, outcome) in enumerate([("a", True), ("b", False), ("c", True), ("d", None), ("e", "error")]):
            archive.start_work(k, "evaluate", 0, task)
            if outcome == "error":
                archive.finish_evaluation(k, False, 0.0, error="sandbox died")
            elif outcome is not None:
                archive.finish_evaluation(k, bool(outcome), 0.0)
        assert archive.eval_counts() == {0: (2, 1)}
    finally:
        archive.close()


def test_select_top_depth_and_failed(story_run: Path):
    with Archive(story_run) as archive:
        nodes = summarize(archive)
    best = ranked(nodes)[0]
    assert best.best
    shown, hidden = select(nodes, top=1)
    ids = {n.id for n in shown}
    parent = {n.id: n.parent for n in nodes}
    chain, a = set(), best.id
    while a is not None:
        chain.add(a)
        a = parent[a]
    assert ids == chain
    assert hidden[0] == len(nodes) - len(chain)
    shallow, _ = select(nodes, depth=0)
    assert [n.id for n in shallow] == [0]
    without_failed, _ = select(nodes, failed=False)
    assert all(n.status != "failed" for n in without_failed)
    assert len(without_failed) == sum(1 for n in nodes if n.status != "failed")


def test_node_detail_of_a_made_and_of_a_failed_node(story_run: Path):
    with Archive(story_run) as archive:
        made = node_detail(archive, 1)
        failed = node_detail(archive, 4)
        with pytest.raises(ArchiveError, match="no node 99"):
            node_detail(archive, 99)
    assert made.story.failure == "the agent gave up on task 1"
    assert made.story.task == "beta"
    assert made.depth == 1 and made.summary.parent == 0
    assert {e.outcome for e in made.evaluations} <= {"solved", "failed"}
    assert len(made.evaluations) == made.summary.n_evals
    assert failed.summary.status == "failed" and failed.evaluations == []
    assert sorted(failed.artefacts) == ["diagnosis.json", "task.txt"]
    assert {c.role for c in failed.costs} == {"diagnosis", "selfmod"}


def test_artefact_groups_summarise_per_task_folders():
    paths = ["diagnosis.json", "evals/a/log", "evals/a/out", "evals/b/log", "task.txt"]
    assert artefact_groups(paths) == [("diagnosis.json", 0, 1), ("evals", 2, 3), ("task.txt", 0, 1)]


def test_diffs_between_nodes_and_against_parents(story_run: Path):
    with Archive(story_run) as archive:
        assert "+VERSION = 5" in diff_nodes(archive, 0, 5)
        assert "agent.py" in diff_nodes(archive, 0, 5, stat=True)
        with pytest.raises(ArchiveError, match="failed self-modification"):
            diff_nodes(archive, 0, 4)
        with pytest.raises(ArchiveError, match="no node 42"):
            diff_nodes(archive, 42, 0)
        commits = {n.id: n.commit_sha for n in archive.nodes() if n.commit_sha and n.parent is not None}
        diffs = parent_diffs(archive, commits.values())
        clipped = parent_diffs(archive, [commits[5]], limit=40)
    assert set(diffs) == set(commits.values())
    assert "-VERSION = 3\n+VERSION = 5" in diffs[commits[5]]
    assert "clipped" in clipped[commits[5]] and len(clipped[commits[5]]) < 200


def test_parent_diffs_match_git_diff_of_each_node(sim_run: Path):
    with Archive(sim_run) as archive:
        nodes = {n.id: n for n in archive.nodes()}
        commits = [n.commit_sha for n in nodes.values() if n.commit_sha and n.parent is not None]
        diffs = parent_diffs(archive, commits)
        for n in list(nodes.values())[1:6]:
            if n.commit_sha and n.parent is not None:
                expected = archive.diff(nodes[n.parent].commit_sha, n.commit_sha)
                assert diffs[n.commit_sha].strip() == expected.strip()


def test_eta_takes_the_budget_that_ends_first():
    assert eta(0, 100, 60, 0, None, None) is None
    only_evals = eta(25, 100, 60, 0, None, None)
    assert only_evals is not None and (only_evals.seconds, only_evals.budget) == (180, "evaluations")
    by_time = eta(25, 100, 60, 0, None, 100)
    assert by_time is not None and (by_time.seconds, by_time.budget) == (40, "time")
    by_cost = eta(25, 100, 60, 1.0, 1.5, None)
    assert by_cost is not None and (by_cost.seconds, by_cost.budget) == (30, "cost")


def test_status_of_a_finished_run(story_run: Path):
    with Archive(story_run) as archive:
        status = run_status(archive)
        evals = len(archive.evaluations())
    assert status.state == STOPPED and status.stop_reason == "evaluation budget spent"
    assert (status.evals_done, status.max_evals) == (evals, 24)
    assert status.nodes == 8 and status.failed_nodes == 1
    assert status.eta is None and status.in_flight == []
    assert status.elapsed > 0
    assert {c.role for c in status.costs} == {"agent", "diagnosis", "selfmod"}
    assert status.spent == pytest.approx(sum(c.cost for c in status.costs))


def _copy_with_events(src: Path, dest: Path, events: list[tuple[str, dict]]) -> Path:
    subprocess.run(["cp", "-a", str(src), str(dest)], check=True)
    with Archive(dest, readonly=False) as archive:
        for kind, data in events:
            archive.event(kind, **data)
    return dest


def test_status_tells_running_from_died(story_run: Path, tmp_path: Path):
    dead = subprocess.Popen(["true"])
    dead.wait()
    died = _copy_with_events(story_run, tmp_path / "died", [("start", {"pid": dead.pid, "evals": 0, "nodes": 1})])
    running = _copy_with_events(story_run, tmp_path / "live", [("start", {"pid": os.getpid(), "evals": 0, "nodes": 1})])
    with Archive(died) as archive:
        assert run_status(archive).state == DIED
    with Archive(running) as archive:
        status = run_status(archive)
    assert status.state == RUNNING and status.pid == os.getpid()
    assert status.eta is not None


def test_status_of_a_run_not_started(tmp_path: Path):
    archive = Archive.create(tmp_path / "new", {"budget": {"max_evals": 10}})
    try:
        status = run_status(archive)
    finally:
        archive.close()
    assert status.state == NEW and status.evals_done == 0 and status.eta is None
