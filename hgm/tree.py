"""The in-memory search state: nodes, their own results and incrementally maintained clade aggregates."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

_IN_FLIGHT = 0
_SUCCESS = 1
_FAILURE = 2
_INITIAL_CAPACITY = 64


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

    def mark_failed(self, node_id: int) -> None:
        """Mark a failed expansion's node: it is never evaluated or expanded but still counts in |T|."""
        self._check(node_id)
        if node_id == 0:
            raise ValueError("the root cannot be marked failed")
        if self._results[node_id] or self._expanding[node_id] or self._children[node_id]:
            raise ValueError(f"node {node_id} already has evaluations or children and cannot be marked failed")
        self._failed[node_id] = True

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
        a = node_id
        while a >= 0:
            clade[a] += 1
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
