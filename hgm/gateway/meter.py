"""Money spent through the gateway, per node and per run: a call's worst case is held before it runs, then settled."""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass

from hgm.gateway.config import GatewayConfig
from hgm.gateway.errors import GatewayError


@dataclass(frozen=True)
class Hold:
    """Money set aside for one call in flight."""

    node_id: int | None
    amount: float


@dataclass
class _Account:
    spent: float = 0.0
    held: float = 0.0
    holds: int = 0


class Meter:
    """Thread-safe spending totals; a call may start only if its worst-case cost fits every budget."""

    def __init__(
        self, config: GatewayConfig, spent_run: float = 0.0, spent_by_node: dict[int, float] | None = None
    ) -> None:
        self._config = config
        self._run = _Account(spent_run)
        self._nodes = {node: _Account(cost) for node, cost in (spent_by_node or {}).items()}
        self._lock = threading.Lock()

    def spent(self, node_id: int | None = None) -> float:
        """USD spent by the whole run, or by one node when `node_id` is given."""
        with self._lock:
            account = self._run if node_id is None else self._nodes.get(node_id)
            return account.spent if account else 0.0

    def reserve(
        self, node_id: int | None, prompt_cost: float, token_cost: float, wanted: int | None
    ) -> tuple[Hold, int | None]:
        """Hold the worst case of a call (`prompt_cost` + `token_cost` per completion token) against every budget.

        Returns the hold and the completion tokens the call may use (fewer than `wanted` when a budget is short;
        None when nothing limits them); raises GatewayError(429) when no answer fits.
        """
        c = self._config
        with self._lock:
            node = self._nodes.setdefault(node_id, _Account()) if node_id is not None else None
            limits: list[tuple[float, str]] = []
            if c.max_cost_per_call is not None:
                limits.append((c.max_cost_per_call, "max_cost_per_call"))
            if c.max_cost_per_run is not None:
                self._check(self._run, c.max_cost_per_run, "the run has", "max_cost_per_run", "")
                limits.append((c.max_cost_per_run - self._run.spent - self._run.held, "the run's remaining budget"))
            if node is not None and c.max_cost_per_node is not None:
                self._check(node, c.max_cost_per_node, f"node {node_id} has", "max_cost_per_node", " for it")
                limits.append((c.max_cost_per_node - node.spent - node.held, f"node {node_id}'s remaining budget"))
            tokens = wanted
            if limits and token_cost > 0:
                budget, why = min(limits)
                left = budget - prompt_cost
                # The epsilon keeps float error from costing a whole token when a budget fits exactly.
                affordable = math.floor(left / token_cost + 1e-9) if left > 0 else 0
                if affordable < 1:
                    raise GatewayError(
                        429,
                        "budget_exceeded",
                        f"budget_exceeded: this call's prompt (${prompt_cost:.6f}) leaves no room for an answer "
                        f"within {why} (${budget:.6f}); shorten the conversation",
                        kind="budget_exceeded",
                    )
                tokens = min(wanted, affordable) if wanted is not None else affordable
            amount = prompt_cost + token_cost * (tokens or 0)
            for account in (self._run, node):
                if account is not None:
                    account.held += amount
                    account.holds += 1
            return Hold(node_id, amount), tokens

    def settle(self, hold: Hold, cost: float) -> None:
        """Release `hold` and count what the call really cost."""
        with self._lock:
            node = self._nodes.get(hold.node_id) if hold.node_id is not None else None
            for account in (self._run, node):
                if account is not None:
                    account.spent += cost
                    account.holds -= 1
                    # Exact zero once nothing is held, so float residue never piles up over a long run.
                    account.held = account.held - hold.amount if account.holds else 0.0

    @staticmethod
    def _check(account: _Account, limit: float, who: str, name: str, tail: str) -> None:
        if account.spent >= limit:
            message = (
                f"{who} spent ${account.spent:.4f} of its ${limit:.4f} budget ({name}); "
                f"no further model calls are made{tail}"
            )
        elif account.spent + account.held >= limit:
            message = (
                f"{who} spent ${account.spent:.4f} and holds ${account.held:.4f} for calls in flight, of its "
                f"${limit:.4f} budget ({name}); try again when those calls finish"
            )
        else:
            return
        raise GatewayError(429, "budget_exceeded", f"budget_exceeded: {message}", kind="budget_exceeded")
