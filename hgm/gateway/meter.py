"""Money spent through the gateway, per node and per run, against the configured budgets."""

from __future__ import annotations

import threading

from hgm.gateway.config import GatewayConfig


class Meter:
    """Thread-safe spending totals and the budget checks made before each call."""

    def __init__(
        self, config: GatewayConfig, spent_run: float = 0.0, spent_by_node: dict[int, float] | None = None
    ) -> None:
        self._config = config
        self._run = spent_run
        self._nodes = dict(spent_by_node or {})
        self._lock = threading.Lock()

    def spent(self, node_id: int | None = None) -> float:
        """USD spent by the whole run, or by one node when `node_id` is given."""
        with self._lock:
            return self._run if node_id is None else self._nodes.get(node_id, 0.0)

    def _totals(self, node_id: int | None) -> tuple[float, float]:
        with self._lock:
            return self._run, (self._nodes.get(node_id, 0.0) if node_id is not None else 0.0)

    def add(self, node_id: int | None, cost: float) -> None:
        """Count `cost` USD against the run and, when given, the node."""
        with self._lock:
            self._run += cost
            if node_id is not None:
                self._nodes[node_id] = self._nodes.get(node_id, 0.0) + cost

    def refusal(self, node_id: int | None) -> str | None:
        """Why no further call is allowed (a budget is used up), or None."""
        c = self._config
        run, node = self._totals(node_id)
        if c.max_cost_per_run is not None and run >= c.max_cost_per_run:
            return (
                f"budget_exceeded: the run has spent ${run:.4f} of its ${c.max_cost_per_run:.4f} budget "
                "(max_cost_per_run); no further model calls are made"
            )
        if node_id is not None and c.max_cost_per_node is not None and node >= c.max_cost_per_node:
            return (
                f"budget_exceeded: node {node_id} has spent ${node:.4f} of its ${c.max_cost_per_node:.4f} budget "
                "(max_cost_per_node); no further model calls are made for it"
            )
        return None

    def headroom(self, node_id: int | None) -> tuple[float, str] | None:
        """The most the next call may cost and which limit sets it, or None when nothing limits it."""
        c = self._config
        run, node = self._totals(node_id)
        limits: list[tuple[float, str]] = []
        if c.max_cost_per_call is not None:
            limits.append((c.max_cost_per_call, "max_cost_per_call"))
        if c.max_cost_per_run is not None:
            limits.append((c.max_cost_per_run - run, "the run's remaining budget"))
        if node_id is not None and c.max_cost_per_node is not None:
            limits.append((c.max_cost_per_node - node, f"node {node_id}'s remaining budget"))
        return min(limits, default=None)
