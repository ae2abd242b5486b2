"""Ordering targets so that dependencies come first."""

import heapq


class CycleError(ValueError):
    def __init__(self, cycle):
        super().__init__("dependency cycle: " + " -> ".join(cycle))
        self.cycle = cycle


def _graph(deps):
    nodes = set(deps)
    for targets in deps.values():
        nodes.update(targets)
    needs = {n: set(deps.get(n, ())) for n in nodes}
    users = {n: [] for n in nodes}
    for node, targets in needs.items():
        for t in targets:
            users[t].append(node)
    return needs, users


def _find_cycle(needs, remaining):
    # Every remaining node has an unbuilt dependency: walk until a node repeats.
    node = min(remaining)
    path, index = [], {}
    while node not in index:
        index[node] = len(path)
        path.append(node)
        node = min(d for d in needs[node] if d in remaining)
    return path[index[node]:] + [node]


def build_order(deps):
    needs, users = _graph(deps)
    waiting = {n: len(d) for n, d in needs.items()}
    ready = [n for n, k in waiting.items() if k == 0]
    heapq.heapify(ready)
    order = []
    while ready:
        node = heapq.heappop(ready)
        order.append(node)
        for user in users[node]:
            waiting[user] -= 1
            if waiting[user] == 0:
                heapq.heappush(ready, user)
    if len(order) < len(needs):
        done = set(order)
        raise CycleError(_find_cycle(needs, {n for n in needs if n not in done}))
    return order


def levels(deps):
    needs, _ = _graph(deps)
    depth = {}
    for node in build_order(deps):
        depth[node] = 1 + max((depth[d] for d in needs[node]), default=-1)
    result = [[] for _ in range(max(depth.values(), default=-1) + 1)]
    for node in sorted(depth):
        result[depth[node]].append(node)
    return result
