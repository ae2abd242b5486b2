import copy
import unittest

from flatten import flatten


class FlattenTest(unittest.TestCase):
    def test_full(self):
        self.assertEqual(flatten([1, [2, [3, [4]]], (5, (6,)), []]), [1, 2, 3, 4, 5, 6])
        self.assertEqual(flatten([]), [])
        self.assertEqual(flatten(((),)), [])
        self.assertEqual(flatten((1, 2)), [1, 2])

    def test_atoms_kept(self):
        data = ["ab", b"cd", {"k": [1]}, {1, 2}, None, 3.5, frozenset(), range(3)]
        self.assertEqual(flatten([data]), data)

    def test_depth(self):
        nested = [1, [2, [3, [4]]]]
        self.assertEqual(flatten(nested, depth=0), nested)
        self.assertIsNot(flatten(nested, depth=0), nested)
        self.assertEqual(flatten(nested, depth=1), [1, 2, [3, [4]]])
        self.assertEqual(flatten(nested, depth=2), [1, 2, 3, [4]])
        self.assertEqual(flatten(nested, depth=10), [1, 2, 3, 4])
        self.assertEqual(flatten([(1, (2,))], depth=1), [1, (2,)])

    def test_invalid(self):
        with self.assertRaises(ValueError):
            flatten([1], depth=-1)
        for bad in ("abc", {1: 2}, None, 5):
            with self.assertRaises(ValueError):
                flatten(bad)

    def test_input_not_modified(self):
        data = [1, [2, [3]], (4, [5])]
        before = copy.deepcopy(data)
        flatten(data)
        flatten(data, depth=1)
        self.assertEqual(data, before)

    def test_very_deep(self):
        deep = [0]
        for i in range(1, 30000):
            deep = [deep, i]
        self.assertEqual(flatten(deep), list(range(30000)))

    def test_self_reference(self):
        loop = [1, 2]
        loop.append(loop)
        with self.assertRaises(ValueError):
            flatten(loop)
        self.assertEqual(flatten(loop, depth=1)[:2], [1, 2])
        a = [1]
        b = [a]
        a.append(b)
        with self.assertRaises(ValueError):
            flatten([a])

    def test_shared_but_not_cyclic(self):
        x = [1, [2]]
        self.assertEqual(flatten([x, x, (x,)]), [1, 2, 1, 2, 1, 2])


if __name__ == "__main__":
    unittest.main()
