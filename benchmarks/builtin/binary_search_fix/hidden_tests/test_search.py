import math
import random
import unittest

from search import count_between, find_first, find_last, insertion_point


class Probe:
    """A read-only sorted sequence that counts element reads."""

    def __init__(self, items):
        self._items = list(items)
        self.reads = 0

    def __len__(self):
        return len(self._items)

    def __getitem__(self, i):
        if not isinstance(i, int) or not 0 <= i < len(self._items):
            raise IndexError(i)
        self.reads += 1
        return self._items[i]


def first(items, t):
    return items.index(t) if t in items else -1


def last(items, t):
    return len(items) - 1 - items[::-1].index(t) if t in items else -1


class SearchTest(unittest.TestCase):
    def test_examples(self):
        data = Probe([1, 2, 2, 2, 5, 7, 7])
        self.assertEqual(find_first(data, 2), 1)
        self.assertEqual(find_last(data, 2), 3)
        self.assertEqual(find_first(data, 7), 5)
        self.assertEqual(find_last(data, 7), 6)
        self.assertEqual(find_last(data, 1), 0)
        self.assertEqual(find_first(data, 3), -1)
        self.assertEqual(find_last(data, 8), -1)
        self.assertEqual(find_last(data, 0), -1)
        self.assertEqual(count_between(data, 2, 5), 4)
        self.assertEqual(count_between(data, 7, 7), 2)
        self.assertEqual(count_between(data, 6, 3), 0)
        self.assertEqual(insertion_point(data, 2), 1)

    def test_empty(self):
        empty = Probe([])
        self.assertEqual((find_first(empty, 1), find_last(empty, 1), count_between(empty, 0, 9)), (-1, -1, 0))

    def test_random_against_reference(self):
        rng = random.Random(11)
        for _ in range(400):
            items = sorted(rng.randint(0, 12) for _ in range(rng.randint(0, 25)))
            t, a, b = rng.randint(-1, 13), rng.randint(-1, 13), rng.randint(-1, 13)
            self.assertEqual(find_first(Probe(items), t), first(items, t), (items, t))
            self.assertEqual(find_last(Probe(items), t), last(items, t), (items, t))
            self.assertEqual(count_between(Probe(items), a, b), sum(a <= x <= b for x in items), (items, a, b))

    def test_logarithmic_reads(self):
        n = 1 << 16
        budget = 4 * int(math.log2(n)) + 8
        for items in ([7] * n, list(range(n)), [0] * (n // 2) + [1] * (n // 2)):
            for target in (0, 1, 7, n // 3, n + 5):
                for fn in (find_first, find_last, insertion_point):
                    probe = Probe(items)
                    fn(probe, target)
                    self.assertLessEqual(probe.reads, budget, fn.__name__)
                probe = Probe(items)
                count_between(probe, target - 3, target)
                self.assertLessEqual(probe.reads, 2 * budget)


if __name__ == "__main__":
    unittest.main()
