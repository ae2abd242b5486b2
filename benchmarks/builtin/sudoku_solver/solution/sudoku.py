"""Parsing and solving 9x9 sudoku puzzles with bitmask candidates and fewest-candidates branching."""

ALL = 0x3FE  # bits 1..9


def parse(text):
    cells = []
    for ch in text:
        if ch.isspace() or ch in "|-+":
            continue
        if ch == ".":
            cells.append(0)
        elif ch in "0123456789":
            cells.append(int(ch))
        else:
            raise ValueError(f"unexpected character {ch!r}")
    if len(cells) != 81:
        raise ValueError(f"expected 81 cells, found {len(cells)}")
    return [cells[r * 9 : r * 9 + 9] for r in range(9)]


def _check(grid):
    if not isinstance(grid, list) or len(grid) != 9 or any(not isinstance(r, list) or len(r) != 9 for r in grid):
        raise ValueError("grid must be 9 lists of 9 ints")
    for row in grid:
        for v in row:
            if not isinstance(v, int) or isinstance(v, bool) or not 0 <= v <= 9:
                raise ValueError(f"bad cell value {v!r}")


def _box(r, c):
    return (r // 3) * 3 + c // 3


def _search(grid, limit, found):
    """Fill `grid` in place; append copies of solutions to found until limit is reached."""
    rows, cols, boxes = [0] * 9, [0] * 9, [0] * 9
    empty = []
    for r in range(9):
        for c in range(9):
            v = grid[r][c]
            if v:
                bit = 1 << v
                if rows[r] & bit or cols[c] & bit or boxes[_box(r, c)] & bit:
                    return
                rows[r] |= bit
                cols[c] |= bit
                boxes[_box(r, c)] |= bit
            else:
                empty.append((r, c))

    def recurse():
        if not empty:
            found.append([row[:] for row in grid])
            return len(found) >= limit
        best, best_mask, best_count = None, 0, 10
        for i, (r, c) in enumerate(empty):
            mask = ALL & ~(rows[r] | cols[c] | boxes[_box(r, c)])
            count = bin(mask).count("1")
            if count < best_count:
                best, best_mask, best_count = i, mask, count
                if count <= 1:
                    break
        if best_count == 0:
            return False
        r, c = empty[best]
        empty[best] = empty[-1]
        empty.pop()
        b = _box(r, c)
        for v in range(1, 10):
            bit = 1 << v
            if best_mask & bit:
                grid[r][c] = v
                rows[r] |= bit
                cols[c] |= bit
                boxes[b] |= bit
                if recurse():
                    return True
                rows[r] &= ~bit
                cols[c] &= ~bit
                boxes[b] &= ~bit
        grid[r][c] = 0
        empty.append((r, c))
        empty[best], empty[-1] = empty[-1], empty[best]
        return False

    recurse()


def solve(grid):
    _check(grid)
    found = []
    _search([row[:] for row in grid], 1, found)
    return found[0] if found else None


def count_solutions(grid, limit=2):
    _check(grid)
    found = []
    _search([row[:] for row in grid], limit, found)
    return len(found)
