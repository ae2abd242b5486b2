import numpy as np
import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from hgm.tree import Tree

TASKS = ["t0", "t1", "t2", "t3"]


def chain_tree() -> Tree:
    """0 -> 1 -> 2, and 0 -> 3."""
    tree = Tree(TASKS)
    tree.add_node(0, None)
    tree.add_node(1, 0)
    tree.add_node(2, 1)
    tree.add_node(3, 0)
    return tree


def test_clade_sums_walk_up_to_the_root() -> None:
    tree = chain_tree()
    tree.finish_eval(2, "t0", True)
    tree.finish_eval(2, "t1", False)
    tree.finish_eval(3, "t0", True)
    tree.finish_eval(0, "t3", False)
    assert tree.own(2) == (1, 1)
    assert tree.own(1) == (0, 0)
    assert tree.clade(2) == (1, 1)
    assert tree.clade(1) == (1, 1)
    assert tree.clade(3) == (1, 0)
    assert tree.clade(0) == (2, 2)
    assert tree.cmp(0) == 0.5
    assert tree.cmp(3) == 1.0
    assert tree.n_evals == 4


def test_cmp_is_none_without_data() -> None:
    tree = chain_tree()
    assert tree.cmp(1) is None
    tree.finish_eval(2, "t0", False)
    assert tree.cmp(1) == 0.0


def test_descendant_results_never_change_a_nodes_own_record() -> None:
    tree = Tree(TASKS)
    tree.add_node(0, None)
    tree.finish_eval(0, "t0", True)
    tree.finish_eval(0, "t1", False)
    before = tree.results(0)
    for child in range(1, 6):
        tree.start_expand(0)
        tree.add_node(child, 0)
        tree.finish_expand(0)
        for task in TASKS:
            tree.finish_eval(child, task, True)
    assert tree.own(0) == (1, 1)
    assert tree.results(0) == before == {"t0": True, "t1": False}
    assert tree.tasks_left(0) == ["t2", "t3"]
    assert tree.clade(0) == (21, 1)


def test_tasks_left_excludes_done_and_in_flight_and_keeps_task_order() -> None:
    tree = chain_tree()
    tree.start_eval(1, "t2")
    tree.finish_eval(1, "t0", True)
    assert tree.tasks_left(1) == ["t1", "t3"]
    assert tree.in_flight(1) == ["t2"]
    assert tree.n_evals_in_flight == 1
    tree.cancel_eval(1, "t2")
    assert tree.tasks_left(1) == ["t1", "t2", "t3"]
    assert tree.n_evals_in_flight == 0
    assert list(tree.reserved) == [0, 1, 0, 0]


def test_finish_of_a_reserved_task_releases_the_reservation() -> None:
    tree = chain_tree()
    tree.start_eval(3, "t1")
    tree.finish_eval(3, "t1", False)
    assert tree.n_evals_in_flight == 0
    assert tree.n_evals == 1
    assert tree.reserved[3] == 1
    assert tree.results(3) == {"t1": False}


def test_a_task_is_never_evaluated_twice_on_a_node() -> None:
    tree = chain_tree()
    tree.start_eval(1, "t0")
    with pytest.raises(ValueError, match="already done or in flight"):
        tree.start_eval(1, "t0")
    tree.finish_eval(1, "t0", True)
    with pytest.raises(ValueError, match="already done or in flight"):
        tree.start_eval(1, "t0")
    with pytest.raises(ValueError, match="already recorded"):
        tree.finish_eval(1, "t0", False)
    tree.finish_eval(2, "t0", True)


def test_failed_nodes_count_as_nodes_but_cannot_be_used() -> None:
    tree = chain_tree()
    tree.add_node(4, 1)
    tree.mark_failed(4)
    assert tree.n_nodes == 5
    assert tree.is_failed(4)
    assert tree.tasks_left(4) == []
    assert tree.children(1) == [2, 4]
    assert list(tree.failed) == [False, False, False, False, True]
    with pytest.raises(ValueError, match="cannot be evaluated"):
        tree.start_eval(4, "t0")
    with pytest.raises(ValueError, match="cannot be expanded"):
        tree.start_expand(4)
    with pytest.raises(ValueError, match="cannot have children"):
        tree.add_node(5, 4)


def test_expansions_in_flight_are_counted_per_parent() -> None:
    tree = chain_tree()
    tree.start_expand(0)
    tree.start_expand(0)
    tree.start_expand(2)
    assert tree.n_expansions_in_flight == 3
    assert list(tree.expanding) == [2, 0, 1, 0]
    tree.finish_expand(0)
    assert tree.n_expansions_in_flight == 2
    with pytest.raises(ValueError, match="no expansion in flight"):
        tree.finish_expand(1)


@pytest.mark.parametrize(
    ("node_id", "parent", "message"),
    [(1, None, "exactly the first node"), (2, 0, "densely: expected 1"), (1, 7, "unknown node 7")],
)
def test_add_node_rejects_bad_ids(node_id: int, parent: int | None, message: str) -> None:
    tree = Tree(TASKS)
    tree.add_node(0, None)
    with pytest.raises(ValueError, match=message):
        tree.add_node(node_id, parent)


def test_bad_inputs_are_reported_clearly() -> None:
    with pytest.raises(ValueError, match="at least one"):
        Tree([])
    with pytest.raises(ValueError, match="unique"):
        Tree(["a", "a"])
    tree = chain_tree()
    with pytest.raises(ValueError, match="unknown task 'nope'"):
        tree.start_eval(0, "nope")
    with pytest.raises(ValueError, match="not in flight"):
        tree.cancel_eval(0, "t0")
    with pytest.raises(ValueError, match="unknown node 9"):
        tree.own(9)
    with pytest.raises(ValueError, match="root cannot be marked failed"):
        tree.mark_failed(0)
    tree.finish_eval(3, "t0", True)
    with pytest.raises(ValueError, match="already has evaluations"):
        tree.mark_failed(3)


def test_array_views_are_read_only() -> None:
    tree = chain_tree()
    with pytest.raises(ValueError, match="read-only"):
        tree.own_s[0] = 5
    with pytest.raises(ValueError, match="read-only"):
        tree.clade_f[1] = 5


def test_arrays_grow_past_their_initial_capacity() -> None:
    tree = Tree(TASKS)
    tree.add_node(0, None)
    for i in range(1, 300):
        tree.add_node(i, i - 1)
    tree.finish_eval(299, "t3", True)
    assert tree.n_nodes == 300
    assert tree.parent(299) == 298
    assert tree.clade(0) == (1, 0)
    assert int(tree.clade_s.sum()) == 300
    assert tree.own_s.shape == (300,)


class TreeMachine(RuleBasedStateMachine):
    """Random interleavings of every write operation, checked against a plain reference model."""

    def __init__(self) -> None:
        super().__init__()
        self.tree = Tree(TASKS)
        self.tree.add_node(0, None)
        self.parents: list[int | None] = [None]
        self.failed: set[int] = set()
        self.done: dict[tuple[int, str], bool] = {}
        self.flying: set[tuple[int, str]] = set()
        self.expanding: list[int] = []

    def _live(self) -> list[int]:
        return [i for i in range(len(self.parents)) if i not in self.failed]

    @rule(data=st.data())
    def expand(self, data: st.DataObject) -> None:
        parent = data.draw(st.sampled_from(self._live()))
        self.tree.start_expand(parent)
        self.expanding.append(parent)

    @precondition(lambda self: self.expanding)
    @rule(data=st.data(), fail=st.booleans())
    def finish_expand(self, data: st.DataObject, fail: bool) -> None:
        parent = self.expanding.pop(data.draw(st.integers(0, len(self.expanding) - 1)))
        child = len(self.parents)
        self.tree.finish_expand(parent)
        self.tree.add_node(child, parent)
        self.parents.append(parent)
        if fail:
            self.tree.mark_failed(child)
            self.failed.add(child)

    @rule(data=st.data(), task=st.sampled_from(TASKS))
    def start_eval(self, data: st.DataObject, task: str) -> None:
        node = data.draw(st.sampled_from(self._live()))
        if (node, task) in self.done or (node, task) in self.flying:
            with pytest.raises(ValueError):
                self.tree.start_eval(node, task)
        else:
            self.tree.start_eval(node, task)
            self.flying.add((node, task))

    @precondition(lambda self: self.flying)
    @rule(data=st.data(), success=st.booleans(), cancel=st.booleans())
    def finish_or_cancel(self, data: st.DataObject, success: bool, cancel: bool) -> None:
        key = data.draw(st.sampled_from(sorted(self.flying)))
        self.flying.discard(key)
        if cancel:
            self.tree.cancel_eval(*key)
        else:
            self.tree.finish_eval(*key, success)
            self.done[key] = success

    @rule(data=st.data(), task=st.sampled_from(TASKS), success=st.booleans())
    def replay_result(self, data: st.DataObject, task: str, success: bool) -> None:
        node = data.draw(st.sampled_from(self._live()))
        if (node, task) in self.done or (node, task) in self.flying:
            return
        self.tree.finish_eval(node, task, success)  # a result recorded without a reservation, as on resume
        self.done[(node, task)] = success

    @invariant()
    def groups_equal_a_grouping_from_scratch(self) -> None:
        t = self.tree
        eval_groups: dict[tuple[int, int], list[int]] = {}
        parent_groups: dict[tuple[int, int], list[int]] = {}
        for node in self._live():
            if t.tasks_left(node):
                eval_groups.setdefault(t.own(node), []).append(node)
            if t.own(node)[0] > 0:
                parent_groups.setdefault(t.clade(node), []).append(node)
        assert t.eval_groups.as_dict() == eval_groups
        assert t.parent_groups.as_dict() == parent_groups
        assert len(t.eval_groups) == sum(map(len, eval_groups.values()))
        for groups, expected in ((t.eval_groups, eval_groups), (t.parent_groups, parent_groups)):
            slots, s, f, k = groups.table()
            keys = list(zip(s.tolist(), f.tolist(), strict=True))
            assert keys == sorted(expected)
            assert k.tolist() == [len(expected[key]) for key in keys]
            assert [[groups.member(int(sl), i) for i in range(int(n))] for sl, n in zip(slots, k, strict=True)] == [
                expected[key] for key in keys
            ]

    @invariant()
    def own_counts_equal_what_was_recorded(self) -> None:
        for node in range(len(self.parents)):
            mine = {t: ok for (n, t), ok in self.done.items() if n == node}
            assert self.tree.results(node) == mine
            assert self.tree.own(node) == (sum(mine.values()), len(mine) - sum(mine.values()))

    @invariant()
    def clade_is_own_plus_childrens_clades(self) -> None:
        for node in range(len(self.parents)):
            s, f = self.tree.own(node)
            for child in self.tree.children(node):
                cs, cf = self.tree.clade(child)
                s, f = s + cs, f + cf
            assert self.tree.clade(node) == (s, f)

    @invariant()
    def totals_and_reservations_agree(self) -> None:
        t = self.tree
        assert t.n_nodes == len(self.parents)
        assert t.n_evals == len(self.done) == sum(t.clade(0))
        assert t.n_evals == int(t.own_s.sum() + t.own_f.sum())
        assert t.n_evals_in_flight == len(self.flying)
        assert t.n_expansions_in_flight == len(self.expanding)
        for node in self._live():
            taken = {task for (n, task) in [*self.done, *self.flying] if n == node}
            assert t.tasks_left(node) == [task for task in TASKS if task not in taken]
            assert t.reserved[node] == len(taken)
        assert np.array_equal(
            t.n_children, np.bincount([p for p in self.parents if p is not None], minlength=t.n_nodes)
        )


TestTreeMachine = TreeMachine.TestCase
TestTreeMachine.settings = settings(max_examples=60, stateful_step_count=40, deadline=None)
