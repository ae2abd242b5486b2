import random
import unittest

from lru import LRUCache


class LRUTest(unittest.TestCase):
    def test_basic_eviction(self):
        c = LRUCache(2)
        self.assertIsNone(c.put("a", 1))
        self.assertIsNone(c.put("b", 2))
        self.assertEqual(c.get("a"), 1)
        self.assertEqual(c.put("c", 3), ("b", 2))
        self.assertEqual(c.keys(), ["a", "c"])
        self.assertIsNone(c.get("b"))
        self.assertEqual(c.get("b", "none"), "none")
        self.assertEqual(len(c), 2)

    def test_update_refreshes(self):
        c = LRUCache(2)
        c.put("a", 1)
        c.put("b", 2)
        self.assertIsNone(c.put("a", 10))
        self.assertEqual(c.put("c", 3), ("b", 2))
        self.assertEqual(c.get("a"), 10)

    def test_contains_is_not_a_use(self):
        c = LRUCache(2)
        c.put("a", 1)
        c.put("b", 2)
        self.assertIn("a", c)
        self.assertNotIn("z", c)
        self.assertEqual(c.put("c", 3), ("a", 1))

    def test_pop_resize_stats(self):
        c = LRUCache(3)
        for k in "abc":
            c.put(k, k.upper())
        c.get("a")
        c.get("q")
        self.assertEqual(c.pop("b"), "B")
        with self.assertRaises(KeyError):
            c.pop("b")
        c.put("d", "D")
        self.assertEqual(c.keys(), ["c", "a", "d"])
        self.assertEqual(c.resize(1), [("c", "C"), ("a", "A")])
        self.assertEqual(c.keys(), ["d"])
        self.assertEqual(c.resize(5), [])
        self.assertEqual(c.stats(), {"hits": 1, "misses": 1, "evictions": 2})
        c.put("e", 1)
        self.assertEqual(len(c), 2)

    def test_invalid_capacity(self):
        for bad in (0, -1, 1.5, "3", None):
            with self.assertRaises(ValueError):
                LRUCache(bad)
        with self.assertRaises(ValueError):
            LRUCache(2).resize(0)

    def test_none_values_and_falsy_keys(self):
        c = LRUCache(2)
        c.put(0, None)
        self.assertIn(0, c)
        self.assertIsNone(c.get(0, "default"))
        self.assertEqual(c.stats()["hits"], 1)

    def test_random_against_model(self):
        rng = random.Random(9)
        c = LRUCache(5)
        model = []
        values = {}
        for _ in range(3000):
            k = rng.randint(0, 9)
            if rng.random() < 0.5:
                v = rng.random()
                if k in model:
                    model.remove(k)
                model.append(k)
                values[k] = v
                expected = None
                if len(model) > 5:
                    old = model.pop(0)
                    expected = (old, values.pop(old))
                self.assertEqual(c.put(k, v), expected)
            else:
                got = c.get(k)
                if k in model:
                    model.remove(k)
                    model.append(k)
                    self.assertEqual(got, values[k])
                else:
                    self.assertIsNone(got)
            self.assertEqual(c.keys(), model)

    def test_large_is_fast(self):
        c = LRUCache(100_000)
        for i in range(200_000):
            c.put(i, i)
        for i in range(100_000, 200_000, 7):
            self.assertEqual(c.get(i), i)
        self.assertEqual(len(c), 100_000)
        self.assertEqual(c.stats()["evictions"], 100_000)


if __name__ == "__main__":
    unittest.main()
