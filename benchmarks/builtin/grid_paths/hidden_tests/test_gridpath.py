import random
import unittest

from gridpath import shortest_path

COST = {".": 1, "~": 3, **{str(d): d for d in range(1, 10)}}


def check_path(test, grid, start, goal, cost, path, keys=False):
    test.assertEqual(path[0], tuple(start))
    test.assertEqual(path[-1], tuple(goal))
    total, held = 0, set()
    for (r1, c1), (r2, c2) in zip(path, path[1:]):
        test.assertEqual(abs(r1 - r2) + abs(c1 - c2), 1)
        ch = grid[r2][c2]
        if ch in COST:
            total += COST[ch]
        elif keys and ch.islower():
            held.add(ch)
            total += 1
        elif keys and ch.isupper():
            test.assertIn(ch.lower(), held, path)
            total += 1
        else:
            test.fail(f"path enters {ch!r}")
    test.assertEqual(total, cost)


def bellman_ford(grid, start):
    rows, cols = len(grid), len(grid[0])
    dist = {start: 0}
    changed = True
    while changed:
        changed = False
        for (r, c), d in list(dist.items()):
            for nr, nc in ((r - 1, c), (r + 1, c), (r, c - 1), (r, c + 1)):
                if 0 <= nr < rows and 0 <= nc < cols and grid[nr][nc] in COST:
                    nd = d + COST[grid[nr][nc]]
                    if nd < dist.get((nr, nc), 10**9):
                        dist[(nr, nc)] = nd
                        changed = True
    return dist


class GridTest(unittest.TestCase):
    def test_example(self):
        grid = ["..~..", ".#~#.", ".#9#.", "....."]
        cost, path = shortest_path(grid, (0, 0), (0, 4))
        self.assertEqual(cost, 6)
        check_path(self, grid, (0, 0), (0, 4), cost, path)
        self.assertEqual(shortest_path(grid, (2, 2), (2, 2)), (0, [(2, 2)]))
        cost, path = shortest_path(grid, (0, 2), (3, 2))
        self.assertEqual(cost, 7)
        check_path(self, grid, (0, 2), (3, 2), cost, path)

    def test_unreachable_and_errors(self):
        grid = [".#.", ".#.", ".#."]
        self.assertIsNone(shortest_path(grid, (0, 0), (0, 2)))
        for start, goal in (((0, 1), (0, 0)), ((5, 0), (0, 0)), ((0, 0), (-1, 0)), ((0, 0), (0, 3))):
            with self.assertRaises(ValueError):
                shortest_path(grid, start, goal)
        for bad in ([], [""], ["..", "."]):
            with self.assertRaises(ValueError):
                shortest_path(bad, (0, 0), (0, 0))

    def test_random_against_bellman_ford(self):
        rng = random.Random(10)
        for _ in range(60):
            rows, cols = rng.randint(1, 9), rng.randint(1, 9)
            grid = ["".join(rng.choice("...~~#25") for _ in range(cols)) for _ in range(rows)]
            cells = [(r, c) for r in range(rows) for c in range(cols) if grid[r][c] != "#"]
            if len(cells) < 2:
                continue
            start, goal = rng.sample(cells, 2)
            dist = bellman_ford(grid, start)
            result = shortest_path(grid, start, goal)
            if goal in dist:
                self.assertEqual(result[0], dist[goal])
                check_path(self, grid, start, goal, *result)
            else:
                self.assertIsNone(result)

    def test_letters_are_walls_without_keys(self):
        grid = [".a.", "#A#", "..."]
        self.assertIsNone(shortest_path(grid, (0, 0), (2, 0)))

    def test_keys_and_doors(self):
        grid = [
            ".a#..",
            "b.A..",
            "####B",
            ".....",
        ]
        self.assertIsNone(shortest_path(grid, (0, 0), (3, 4)))
        cost, path = shortest_path(grid, (0, 0), (3, 4), keys=True)
        self.assertEqual(cost, 9)
        check_path(self, grid, (0, 0), (3, 4), cost, path, keys=True)
        grid = [".A.b", "####", "a..."]
        self.assertIsNone(shortest_path(grid, (0, 0), (0, 3), keys=True))
        grid = ["aA.", "#..", "..."]
        cost, path = shortest_path(grid, (2, 0), (0, 2), keys=True)
        self.assertEqual(cost, 4)
        grid = ["bA..", "#A#.", "a..."]
        cost, path = shortest_path(grid, (2, 1), (0, 2), keys=True)
        check_path(self, grid, (2, 1), (0, 2), cost, path, keys=True)
        self.assertEqual(cost, 5)

    def test_large(self):
        rng = random.Random(2)
        n = 300
        grid = ["".join(rng.choice("....~~#3") for _ in range(n)) for _ in range(n)]
        grid[0] = "." + grid[0][1:]
        grid[-1] = grid[-1][:-1] + "."
        result = shortest_path(grid, (0, 0), (n - 1, n - 1))
        if result is not None:
            check_path(self, grid, (0, 0), (n - 1, n - 1), *result)
        keyed = [row.replace("3", "a", 1) for row in grid]
        shortest_path(keyed, (0, 0), (n - 1, n - 1), keys=True)


if __name__ == "__main__":
    unittest.main()
