"""Model calls, tokens and USD by role (agent, diagnosis, self-modification), per node and per run."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from hgm.archive import Archive, WorkRow

ROLES = {"agent": "agent (solving tasks)", "diagnosis": "diagnosis", "selfmod": "self-modification"}
# Worlds without model calls (the simulated one) still put a cost on each piece of work.
WORK_ROLES = {"evaluate": "evaluations", "expand": "expansions"}


def role_of(purpose: str | None) -> str:
    """The role a gateway purpose belongs to: `evaluate:<task>` is the agent at work."""
    if not purpose:
        return "other"
    return "agent" if purpose.startswith("evaluate:") else purpose


@dataclass
class RoleCost:
    role: str
    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost: float = 0.0
    errors: int = 0

    @property
    def label(self) -> str:
        return ROLES.get(self.role, WORK_ROLES.get(self.role, self.role))

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


def _add(table: dict[str, RoleCost], role: str, call: dict[str, Any]) -> None:
    row = table.setdefault(role, RoleCost(role))
    row.calls += 1
    row.prompt_tokens += int(call.get("prompt_tokens") or 0)
    row.completion_tokens += int(call.get("completion_tokens") or 0)
    row.cost += float(call.get("cost") or 0.0)
    row.errors += 1 if call.get("error") else 0


def _ordered(table: dict[str, RoleCost]) -> list[RoleCost]:
    order = [*ROLES, *WORK_ROLES]
    return sorted(table.values(), key=lambda r: (order.index(r.role) if r.role in order else len(order), r.role))


def by_role(calls: Iterable[dict[str, Any]], work: Iterable[WorkRow] = ()) -> list[RoleCost]:
    """Totals by role from model calls; without any calls, from the cost each piece of work recorded."""
    table: dict[str, RoleCost] = {}
    for call in calls:
        _add(table, role_of(call.get("purpose")), call)
    if not table:
        for row in work:
            if row.cost:
                entry = table.setdefault(row.kind, RoleCost(row.kind))
                entry.cost += row.cost
    return _ordered(table)


def by_node_and_role(archive: Archive) -> dict[int, list[RoleCost]]:
    """Per node: a node's diagnosis and self-modification (billed to the child) and its agent's task runs."""
    calls = archive.llm_calls()
    if calls:
        tables: dict[int, dict[str, RoleCost]] = {}
        for call in calls:
            if call.get("node") is not None:
                _add(tables.setdefault(int(call["node"]), {}), role_of(call.get("purpose")), call)
        return {node: _ordered(table) for node, table in tables.items()}
    out: dict[int, dict[str, RoleCost]] = {}
    for row in archive.work():
        node = row.child if row.kind == "expand" else row.node
        if node is not None and row.cost:
            entry = out.setdefault(node, {}).setdefault(row.kind, RoleCost(row.kind))
            entry.cost += row.cost
    return {node: _ordered(table) for node, table in out.items()}
