import random
import unittest

from intervals import difference, gaps, intersection, normalize, total_length, union


def points(intervals):
    return {x for s, e in intervals for x in range(s, e)}


def from_points(ps):
    out = []
    for x in sorted(ps):
        if out and out[-1][1] == x:
            out[-1] = (out[-1][0], x + 1)
        else:
            out.append((x, x + 1))
    return out


def rand_intervals(rng, n):
    out = []
    for _ in range(n):
        s = rng.randint(-20, 40)
        out.append((s, s + rng.randint(-3, 8)))
    return out


class IntervalTest(unittest.TestCase):
    def test_normalize(self):
        self.assertEqual(normalize([(5, 7), (1, 3), (3, 4), (10, 10), (9, 2), (6, 8)]), [(1, 4), (5, 8)])
        self.assertEqual(normalize([]), [])
        self.assertEqual(normalize(iter([[1, 2]])), [(1, 2)])
        self.assertIsInstance(normalize([[1, 2]])[0], tuple)

    def test_operations(self):
        a = [(0, 10), (20, 30)]
        b = [(5, 25)]
        self.assertEqual(union(a, b), [(0, 30)])
        self.assertEqual(intersection(a, b), [(5, 10), (20, 25)])
        self.assertEqual(difference(a, b), [(0, 5), (25, 30)])
        self.assertEqual(difference(b, a), [(10, 20)])
        self.assertEqual(total_length(a + b), 30)
        self.assertEqual(gaps(a, -5, 35), [(-5, 0), (10, 20), (30, 35)])
        self.assertEqual(gaps([], 3, 3), [])
        self.assertEqual(gaps([(0, 100)], 10, 20), [])
        self.assertEqual(intersection([(0, 5)], [(5, 9)]), [])

    def test_random_against_points(self):
        rng = random.Random(21)
        for _ in range(400):
            a, b = rand_intervals(rng, rng.randint(0, 6)), rand_intervals(rng, rng.randint(0, 6))
            pa, pb = points(a), points(b)
            self.assertEqual(normalize(a), from_points(pa))
            self.assertEqual(union(a, b), from_points(pa | pb))
            self.assertEqual(intersection(a, b), from_points(pa & pb))
            self.assertEqual(difference(a, b), from_points(pa - pb), (a, b))
            self.assertEqual(total_length(a), len(pa))
            lo, hi = sorted((rng.randint(-25, 45), rng.randint(-25, 45)))
            self.assertEqual(gaps(a, lo, hi), from_points(set(range(lo, hi)) - pa), (a, lo, hi))

    def test_large(self):
        rng = random.Random(4)
        a = []
        for _ in range(40_000):
            s = rng.randint(0, 10**12)
            a.append((s, s + rng.randint(1, 10**6)))
        b = [(s + 10**5, e + 10**5) for s, e in a]
        self.assertEqual(total_length(union(a, b)), total_length(a) + total_length(difference(b, a)))
        self.assertEqual(total_length(intersection(a, b)) + total_length(difference(a, b)), total_length(a))


if __name__ == "__main__":
    unittest.main()
