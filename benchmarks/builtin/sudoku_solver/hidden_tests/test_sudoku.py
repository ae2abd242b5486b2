import copy
import unittest

from sudoku import count_solutions, parse, solve

EASY = "53..7....6..195....98....6.8...6...34..8.3..17...2...6.6....28....419..5....8..79"
HARD = [
    "8..........36......7..9.2...5...7.......457.....1...3...1....68..85...1..9....4..",
    "..............3.85..1.2.......5.7.....4...1...9.......5......73..2.1........4...9",
    "4.....8.5.3..........7......2.....6.....8.4......1.......6.3.7.5..2.....1.4......",
    "1....7.9..3..2...8..96..5....53..9...1..8...26....4...3......1..4......7..7...3..",
    "..53.....8......2..7..1.5..4....53...1..7...6..32...8..6.5....9..4....3......97..",
]
BOXED = """
5 3 . | . 7 . | . . .
6 . . | 1 9 5 | . . .
. 9 8 | . . . | . 6 .
------+-------+------
8 . . | . 6 . | . . 3
4 . . | 8 . 3 | . . 1
7 . . | . 2 . | . . 6
------+-------+------
. 6 . | . . . | 2 8 .
. . . | 4 1 9 | . . 5
. . . | . 8 . | . 7 9
"""


def valid_solution(test, puzzle, solution):
    for r in range(9):
        for c in range(9):
            if puzzle[r][c]:
                test.assertEqual(solution[r][c], puzzle[r][c])
    groups = [[(r, c) for c in range(9)] for r in range(9)] + [[(r, c) for r in range(9)] for c in range(9)]
    groups += [[(br + r, bc + c) for r in range(3) for c in range(3)] for br in (0, 3, 6) for bc in (0, 3, 6)]
    for group in groups:
        test.assertEqual(sorted(solution[r][c] for r, c in group), list(range(1, 10)))


class ParseTest(unittest.TestCase):
    def test_formats(self):
        grid = parse(EASY)
        self.assertEqual(grid[0], [5, 3, 0, 0, 7, 0, 0, 0, 0])
        self.assertEqual(parse(BOXED), grid)
        self.assertEqual(parse(EASY.replace(".", "0")), grid)

    def test_errors(self):
        for bad in (EASY[:-1], EASY + "1", EASY[:-1] + "x", EASY.replace(".", "*", 1)):
            with self.assertRaises(ValueError):
                parse(bad)


class SolveTest(unittest.TestCase):
    def test_easy(self):
        puzzle = parse(EASY)
        before = copy.deepcopy(puzzle)
        solution = solve(puzzle)
        self.assertEqual(puzzle, before)
        valid_solution(self, puzzle, solution)
        self.assertEqual(solution[0], [5, 3, 4, 6, 7, 8, 9, 1, 2])

    def test_hard(self):
        for text in HARD:
            puzzle = parse(text)
            solution = solve(puzzle)
            self.assertIsNotNone(solution, text)
            valid_solution(self, puzzle, solution)

    def test_unsolvable(self):
        conflict = parse("55" + "." * 79)
        self.assertIsNone(solve(conflict))
        # Consistent givens, but no value is left for the top-left cell.
        stuck = parse(".12345678" + "9" + "." * 71)
        self.assertIsNone(solve(stuck))
        self.assertEqual(count_solutions(stuck), 0)

    def test_counting(self):
        self.assertEqual(count_solutions(parse(EASY)), 1)
        self.assertEqual(count_solutions(parse(EASY), limit=5), 1)
        empty = [[0] * 9 for _ in range(9)]
        self.assertEqual(count_solutions(empty), 2)
        self.assertEqual(count_solutions(empty, limit=7), 7)
        valid_solution(self, empty, solve(empty))

    def test_bad_grids(self):
        for bad in ([[0] * 9] * 8, [[0] * 8 for _ in range(9)], [[10] + [0] * 8] + [[0] * 9 for _ in range(8)],
                    [[-1] + [0] * 8] + [[0] * 9 for _ in range(8)], "grid"):
            with self.assertRaises(ValueError):
                solve(bad)


if __name__ == "__main__":
    unittest.main()
