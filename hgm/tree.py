"""The in-memory search state: nodes, their own results and incrementally maintained clade aggregates."""

from __future__ import annotations

import bisect
from collections.abc import Sequence

import numpy as np

_IN_FLIGHT = 0
_SUCCESS = 1
_FAILURE = 2
_INITIAL_CAPACITY = 64


class NodeGroups:
    """Some of the tree's nodes, grouped by a pair of counts (s, f) and kept up to date by the tree.

    Members of a group are exchangeable for Thompson sampling, so a policy can draw once per group. Groups are read in
    (s, f) order and members in id order, so what a policy draws depends on the tree's state, never on its history.
    """

    def __init__(self) -> None:
        self._key_of: dict[int, tuple[int, int]] = {}
        self._slot_of: dict[tuple[int, int], int] = {}
        self._members: list[list[int]] = []
        self._free: list[int] = []
        self._s = np.zeros(_INITIAL_CAPACITY, dtype=np.int64)
        self._f = np.zeros(_INITIAL_CAPACITY, dtype=np.int64)
        self._k = np.zeros(_INITIAL_CAPACITY, dtype=np.int64)

    def __len__(self) -> int:
        return len(self._key_of)

    def put(self, node: int, s: int, f: int) -> None:
        """Place `node` in the group (s, f), leaving its old group if it had one."""
        key = (s, f)
        old = self._key_of.get(node)
        if old == key:
            return
        if old is not None:
            self._leave(node, old)
        slot = self._slot_of.get(key)
        if slot is None:
            slot = self._open_slot(key)
        bisect.insort(self._members[slot], node)
        self._k[slot] += 1
        self._key_of[node] = key

    def discard(self, node: int) -> None:
        """Take `node` out of its group, if it is in one."""
        old = self._key_of.pop(node, None)
        if old is not None:
            self._leave(node, old)

    def table(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(slots, s, f, sizes) of the non-empty groups, in (s, f) order; pass a slot to `member`."""
        slots = np.flatnonzero(self._k[: len(self._members)])
        s, f = self._s[slots], self._f[slots]
        order = np.argsort((s << 32) | f)  # keys are unique
        slots = slots[order]
        return slots, s[order], f[order], self._k[slots]

    def member(self, slot: int, i: int) -> int:
        """The `i`-th smallest node id of a group."""
        return self._members[slot][i]

    def as_dict(self) -> dict[tuple[int, int], list[int]]:
        """Every non-empty group, (s, f) to its sorted member ids."""
        return {key: list(self._members[slot]) for key, slot in self._slot_of.items()}

    def _leave(self, node: int, key: tuple[int, int]) -> None:
        slot = self._slot_of[key]
        members = self._members[slot]
        del members[bisect.bisect_left(members, node)]
        self._k[slot] -= 1
        if not members:
            del self._slot_of[key]
            self._free.append(slot)

    def _open_slot(self, key: tuple[int, int]) -> int:
        if self._free:
            slot = self._free.pop()
        else:
            slot = len(self._members)
            self._members.append([])
            if slot == self._k.size:
                for name in ("_s", "_f", "_k"):
                    old = getattr(self, name)
                    setattr(self, name, np.concatenate([old, np.zeros_like(old)]))
        self._s[slot], self._f[slot] = key
        self._slot_of[key] = slot
        return slot


class Tree:
    """Nodes, per-task results and clade sums kept in numpy arrays; not thread-safe (the engine serialises calls)."""

    def __init__(self, tasks: Sequence[str]) -> None:
        if not tasks:
            raise ValueError("a search tree needs at least one benchmark task")
        if len(set(tasks)) != len(tasks):
            raise ValueError("task ids must be unique")
        self._tasks = tuple(tasks)
        self._task_index = {t: i for i, t in enumerate(self._tasks)}
        self._task_array = np.array(self._tasks, dtype=object)
        self._n = 0
        self._cap = _INITIAL_CAPACITY
        self._parent = np.full(self._cap, -1, dtype=np.int64)
        self._s = np.zeros(self._cap, dtype=np.int64)
        self._f = np.zeros(self._cap, dtype=np.int64)
        self._cs = np.zeros(self._cap, dtype=np.int64)
        self._cf = np.zeros(self._cap, dtype=np.int64)
        self._reserved = np.zeros(self._cap, dtype=np.int64)
        self._n_children = np.zeros(self._cap, dtype=np.int64)
        self._expanding = np.zeros(self._cap, dtype=np.int64)
        self._failed = np.zeros(self._cap, dtype=bool)
        self._children: list[list[int]] = []
        self._results: list[dict[int, int]] = []
        self._taken: list[np.ndarray] = []
        self._n_evals = 0
        self._n_evals_in_flight = 0
        self._n_expansions_in_flight = 0
        self._n_failed = 0
        self._eval_groups = NodeGroups()
        self._parent_groups = NodeGroups()

    # ---- write side -------------------------------------------------------------------------------------------

    def add_node(self, node_id: int, parent: int | None) -> None:
        """Append a node; ids are dense in creation order and only node 0 (the root) has no parent."""
        if node_id != self._n:
            raise ValueError(f"node ids must be added densely: expected {self._n}, got {node_id}")
        if (parent is None) != (node_id == 0):
            raise ValueError("exactly the first node (id 0) is the root and has no parent")
        if parent is not None:
            self._check(parent)
            if self._failed[parent]:
                raise ValueError(f"node {parent} is a failed expansion and cannot have children")
        if self._n == self._cap:
            self._grow()
        self._parent[node_id] = -1 if parent is None else parent
        self._children.append([])
        self._results.append({})
        self._taken.append(np.zeros(len(self._tasks), dtype=bool))
        if parent is not None:
            self._children[parent].append(node_id)
            self._n_children[parent] += 1
        self._n += 1
        self._eval_groups.put(node_id, 0, 0)

    def mark_failed(self, node_id: int) -> None:
        """Mark a failed expansion's node: it is never evaluated or expanded but still counts in |T|."""
        self._check(node_id)
        if node_id == 0:
            raise ValueError("the root cannot be marked failed")
        if self._results[node_id] or self._expanding[node_id] or self._children[node_id]:
            raise ValueError(f"node {node_id} already has evaluations or children and cannot be marked failed")
        self._failed[node_id] = True
        self._n_failed += 1
        self._eval_groups.discard(node_id)

    def start_eval(self, node_id: int, task: str) -> None:
        """Reserve `task` on `node_id` so that it is no longer left for that node."""
        ti = self._task(task)
        self._check_evaluable(node_id)
        if ti in self._results[node_id]:
            raise ValueError(f"task {task!r} is already done or in flight on node {node_id}")
        self._results[node_id][ti] = _IN_FLIGHT
        self._taken[node_id][ti] = True
        self._reserved[node_id] += 1
        self._n_evals_in_flight += 1
        self._regroup_eval(node_id)

    def finish_eval(self, node_id: int, task: str, success: bool) -> None:
        """Record a result (reserved or not, so resume can replay results) and add it to every ancestor's clade."""
        ti = self._task(task)
        self._check_evaluable(node_id)
        state = self._results[node_id].get(ti)
        if state is not None and state != _IN_FLIGHT:
            raise ValueError(f"task {task!r} was already recorded on node {node_id}")
        if state == _IN_FLIGHT:
            self._n_evals_in_flight -= 1
        else:
            self._reserved[node_id] += 1
            self._taken[node_id][ti] = True
        self._results[node_id][ti] = _SUCCESS if success else _FAILURE
        own, clade = (self._s, self._cs) if success else (self._f, self._cf)
        own[node_id] += 1
        self._regroup_eval(node_id)
        a = node_id
        while a >= 0:
            clade[a] += 1
            if self._s[a]:  # ancestors of an evaluated node are never failed
                self._parent_groups.put(a, int(self._cs[a]), int(self._cf[a]))
            a = int(self._parent[a])
        self._n_evals += 1

    def cancel_eval(self, node_id: int, task: str) -> None:
        """Release a reservation whose work was interrupted."""
        ti = self._task(task)
        self._check(node_id)
        if self._results[node_id].get(ti) != _IN_FLIGHT:
            raise ValueError(f"task {task!r} is not in flight on node {node_id}")
        del self._results[node_id][ti]
        self._taken[node_id][ti] = False
        self._reserved[node_id] -= 1
        self._n_evals_in_flight -= 1
        self._regroup_eval(node_id)

    def start_expand(self, parent: int) -> None:
        """Count an expansion of `parent` as in flight."""
        self._check(parent)
        if self._failed[parent]:
            raise ValueError(f"node {parent} is a failed expansion and cannot be expanded")
        self._expanding[parent] += 1
        self._n_expansions_in_flight += 1

    def finish_expand(self, parent: int) -> None:
        """End an in-flight expansion of `parent` (its child, if any, is added with `add_node`)."""
        self._check(parent)
        if self._expanding[parent] == 0:
            raise ValueError(f"node {parent} has no expansion in flight")
        self._expanding[parent] -= 1
        self._n_expansions_in_flight -= 1

    # ---- read side --------------------------------------------------------------------------------------------

    @property
    def tasks(self) -> tuple[str, ...]:
        """The benchmark's task ids in their fixed order."""
        return self._tasks

    @property
    def n_tasks(self) -> int:
        """How many tasks each node can be evaluated on."""
        return len(self._tasks)

    @property
    def n_nodes(self) -> int:
        """Nodes in the tree, the root and failed expansions included."""
        return self._n

    @property
    def n_failed(self) -> int:
        """Failed expansions' nodes."""
        return self._n_failed

    @property
    def n_evals(self) -> int:
        """Completed evaluations over all nodes."""
        return self._n_evals

    @property
    def n_evals_in_flight(self) -> int:
        """Evaluations reserved but not finished."""
        return self._n_evals_in_flight

    @property
    def n_expansions_in_flight(self) -> int:
        """Expansions started but not finished."""
        return self._n_expansions_in_flight

    def own(self, node_id: int) -> tuple[int, int]:
        """The node's own (successes, failures)."""
        self._check(node_id)
        return int(self._s[node_id]), int(self._f[node_id])

    def clade(self, node_id: int) -> tuple[int, int]:
        """(successes, failures) summed over the node and all its descendants."""
        self._check(node_id)
        return int(self._cs[node_id]), int(self._cf[node_id])

    def cmp(self, node_id: int) -> float | None:
        """Clade-metaproductivity estimate S/(S+F), or None before any result in the clade."""
        s, f = self.clade(node_id)
        return s / (s + f) if s + f else None

    def children(self, node_id: int) -> list[int]:
        """Direct children in creation order, failed ones included."""
        self._check(node_id)
        return list(self._children[node_id])

    def parent(self, node_id: int) -> int | None:
        """The node's parent, None for the root."""
        self._check(node_id)
        p = int(self._parent[node_id])
        return None if p < 0 else p

    def is_failed(self, node_id: int) -> bool:
        """Whether the node is a failed expansion."""
        self._check(node_id)
        return bool(self._failed[node_id])

    def tasks_left(self, node_id: int) -> list[str]:
        """Tasks neither done nor in flight on the node, in the tree's task order (none for a failed node)."""
        self._check(node_id)
        if self._failed[node_id]:
            return []
        return self._task_array[~self._taken[node_id]].tolist()

    def results(self, node_id: int) -> dict[str, bool]:
        """A copy of the node's own completed results, task id to success."""
        self._check(node_id)
        return {self._tasks[i]: r == _SUCCESS for i, r in self._results[node_id].items() if r != _IN_FLIGHT}

    def in_flight(self, node_id: int) -> list[str]:
        """Tasks currently reserved on the node, in task order."""
        self._check(node_id)
        return sorted((self._tasks[i] for i, r in self._results[node_id].items() if r == _IN_FLIGHT), key=self._key)

    @property
    def eval_groups(self) -> NodeGroups:
        """Nodes with tasks left (failed ones excluded), grouped by their own (successes, failures)."""
        return self._eval_groups

    @property
    def parent_groups(self) -> NodeGroups:
        """Non-failed nodes with at least one own success, grouped by their clade (successes, failures)."""
        return self._parent_groups

    # Read-only array views of length n_nodes, for vectorised policies.

    @property
    def own_s(self) -> np.ndarray:
        """Own successes per node."""
        return self._view(self._s)

    @property
    def own_f(self) -> np.ndarray:
        """Own failures per node."""
        return self._view(self._f)

    @property
    def clade_s(self) -> np.ndarray:
        """Clade successes per node."""
        return self._view(self._cs)

    @property
    def clade_f(self) -> np.ndarray:
        """Clade failures per node."""
        return self._view(self._cf)

    @property
    def reserved(self) -> np.ndarray:
        """Tasks done or in flight per node."""
        return self._view(self._reserved)

    @property
    def n_children(self) -> np.ndarray:
        """Children per node, failed ones included."""
        return self._view(self._n_children)

    @property
    def expanding(self) -> np.ndarray:
        """Expansions in flight per node."""
        return self._view(self._expanding)

    @property
    def failed(self) -> np.ndarray:
        """Whether each node is a failed expansion."""
        return self._view(self._failed)

    # ---- helpers ----------------------------------------------------------------------------------------------

    def _view(self, a: np.ndarray) -> np.ndarray:
        v = a[: self._n]
        v.flags.writeable = False
        return v

    def _key(self, task: str) -> int:
        return self._task_index[task]

    def _grow(self) -> None:
        self._cap *= 2
        for name in ("_parent", "_s", "_f", "_cs", "_cf", "_reserved", "_n_children", "_expanding", "_failed"):
            old = getattr(self, name)
            new = np.full(self._cap, -1, dtype=old.dtype) if name == "_parent" else np.zeros(self._cap, old.dtype)
            new[: len(old)] = old
            setattr(self, name, new)

    def _regroup_eval(self, node_id: int) -> None:
        if self._reserved[node_id] < len(self._tasks) and not self._failed[node_id]:
            self._eval_groups.put(node_id, int(self._s[node_id]), int(self._f[node_id]))
        else:
            self._eval_groups.discard(node_id)

    def _check(self, node_id: int) -> None:
        if not 0 <= node_id < self._n:
            raise ValueError(f"unknown node {node_id} (the tree has {self._n} nodes)")

    def _check_evaluable(self, node_id: int) -> None:
        self._check(node_id)
        if self._failed[node_id]:
            raise ValueError(f"node {node_id} is a failed expansion and cannot be evaluated")

    def _task(self, task: str) -> int:
        try:
            return self._task_index[task]
        except KeyError:
            raise ValueError(f"unknown task {task!r}") from None
