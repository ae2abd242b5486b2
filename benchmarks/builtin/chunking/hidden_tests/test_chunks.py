import itertools
import unittest

from chunks import chunked, windows


class CountingIterator:
    def __init__(self):
        self.taken = 0

    def __iter__(self):
        return self

    def __next__(self):
        self.taken += 1
        return self.taken


class ChunkedTest(unittest.TestCase):
    def test_examples(self):
        self.assertEqual(list(chunked(range(7), 3)), [[0, 1, 2], [3, 4, 5], [6]])
        self.assertEqual(list(chunked(range(6), 3)), [[0, 1, 2], [3, 4, 5]])
        self.assertEqual(list(chunked([], 2)), [])
        self.assertEqual(list(chunked("abc", 1)), [["a"], ["b"], ["c"]])
        self.assertEqual(list(chunked("abc", 10)), [["a", "b", "c"]])

    def test_lazy_and_infinite(self):
        source = CountingIterator()
        it = chunked(source, 4)
        self.assertEqual(source.taken, 0)
        self.assertEqual(next(it), [1, 2, 3, 4])
        self.assertEqual(source.taken, 4)
        self.assertEqual(next(it), [5, 6, 7, 8])
        self.assertEqual(list(itertools.islice(chunked(itertools.count(), 2), 3)), [[0, 1], [2, 3], [4, 5]])

    def test_bad_size_raises_immediately(self):
        for bad in (0, -2, 1.5, None, "2"):
            with self.assertRaises(ValueError, msg=repr(bad)):
                chunked([1, 2, 3], bad)


class WindowsTest(unittest.TestCase):
    def test_examples(self):
        self.assertEqual(windows("abcde", 3, 2), [("a", "b", "c"), ("c", "d", "e")])
        self.assertEqual(windows([1, 2, 3, 4], 2), [(1, 2), (2, 3), (3, 4)])
        self.assertEqual(windows([1, 2, 3, 4], 2, 3), [(1, 2)])
        self.assertEqual(windows([1, 2], 3), [])
        self.assertEqual(windows(iter(range(5)), 5), [(0, 1, 2, 3, 4)])
        self.assertEqual(windows(range(6), 1, 2), [(0,), (2,), (4,)])

    def test_invalid(self):
        for size, step in ((0, 1), (2, 0), (-1, 1), (2, -1), (1.0, 1)):
            with self.assertRaises(ValueError):
                windows([1, 2, 3], size, step)


if __name__ == "__main__":
    unittest.main()
