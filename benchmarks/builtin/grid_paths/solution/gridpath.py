"""Cheapest paths on a grid map with terrain costs, keys and doors."""

import heapq

_COST = {".": 1, "~": 3, **{str(d): d for d in range(1, 10)}}


def _enter_cost(ch, keys, held):
    if ch in _COST:
        return _COST[ch], held
    if keys and "a" <= ch <= "f":
        return 1, held | (1 << (ord(ch) - ord("a")))
    if keys and "A" <= ch <= "F" and held & (1 << (ord(ch) - ord("A"))):
        return 1, held
    return None, held


def shortest_path(grid, start, goal, keys=False):
    if not grid or not grid[0] or len({len(row) for row in grid}) != 1:
        raise ValueError("the map must be a non-empty list of equal-length rows")
    rows, cols = len(grid), len(grid[0])
    for r, c in (start, goal):
        if not (0 <= r < rows and 0 <= c < cols) or grid[r][c] == "#":
            raise ValueError(f"{(r, c)} is outside the map or on a wall")
    start, goal = tuple(start), tuple(goal)
    held0 = 0
    begin = (start, held0)
    best = {begin: 0}
    parent = {begin: None}
    heap = [(0, start, held0)]
    while heap:
        cost, cell, held = heapq.heappop(heap)
        if cost > best.get((cell, held), float("inf")):
            continue
        if cell == goal:
            path, state = [], (cell, held)
            while state is not None:
                path.append(state[0])
                state = parent[state]
            return cost, path[::-1]
        r, c = cell
        for nr, nc in ((r - 1, c), (r + 1, c), (r, c - 1), (r, c + 1)):
            if not (0 <= nr < rows and 0 <= nc < cols):
                continue
            step, new_held = _enter_cost(grid[nr][nc], keys, held)
            if step is None:
                continue
            state = ((nr, nc), new_held)
            if cost + step < best.get(state, float("inf")):
                best[state] = cost + step
                parent[state] = (cell, held)
                heapq.heappush(heap, (cost + step, (nr, nc), new_held))
    return None
