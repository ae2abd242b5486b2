import random
import unittest

from trie import Autocomplete


class AutocompleteTest(unittest.TestCase):
    def setUp(self):
        self.t = Autocomplete()
        for word, n in [("car", 5), ("cart", 2), ("carbon", 2), ("cat", 7), ("dog", 1), ("Car", 3)]:
            self.t.add(word, n)

    def test_counts(self):
        self.assertEqual(len(self.t), 6)
        self.assertEqual(self.t.count("car"), 5)
        self.assertEqual(self.t.count("ca"), 0)
        self.assertIn("cart", self.t)
        self.assertNotIn("ca", self.t)
        self.assertEqual(self.t.count_prefix("ca"), 4)
        self.assertEqual(self.t.count_prefix("car"), 3)
        self.assertEqual(self.t.count_prefix(""), 6)
        self.assertEqual(self.t.count_prefix("x"), 0)
        self.t.add("car")
        self.assertEqual((self.t.count("car"), len(self.t)), (6, 6))

    def test_complete(self):
        self.assertEqual(self.t.complete("ca"), ["cat", "car", "carbon", "cart"])
        self.assertEqual(self.t.complete("ca", limit=2), ["cat", "car"])
        self.assertEqual(self.t.complete("car"), ["car", "carbon", "cart"])
        self.assertEqual(self.t.complete(""), ["cat", "car", "Car", "carbon", "cart", "dog"])
        self.assertEqual(self.t.complete("z"), [])

    def test_remove_and_nodes(self):
        empty = Autocomplete()
        self.assertEqual(empty.node_count(), 1)
        empty.add("abc")
        self.assertEqual(empty.node_count(), 4)
        empty.add("abd")
        self.assertEqual(empty.node_count(), 5)
        self.assertTrue(empty.remove("abc"))
        self.assertEqual(empty.node_count(), 4)
        self.assertFalse(empty.remove("abc"))
        self.assertFalse(empty.remove("ab"))
        self.assertTrue(empty.remove("abd"))
        self.assertEqual(empty.node_count(), 1)
        self.assertEqual(len(empty), 0)

    def test_remove_keeps_neighbours(self):
        self.assertTrue(self.t.remove("car"))
        self.assertEqual(self.t.complete("car"), ["carbon", "cart"])
        self.assertEqual(self.t.count_prefix("car"), 2)
        self.assertTrue(self.t.remove("carbon"))
        self.assertEqual(self.t.complete("ca"), ["cat", "cart"])
        self.t.add("car")
        self.assertEqual(self.t.count("car"), 1)

    def test_invalid(self):
        for args in (("",), ("x", 0), ("x", -2), (None,), ("x", 1.5)):
            with self.assertRaises(ValueError):
                self.t.add(*args)

    def test_random_against_dict(self):
        rng = random.Random(5)
        t, model = Autocomplete(), {}
        for _ in range(3000):
            word = "".join(rng.choice("abc") for _ in range(rng.randint(1, 5)))
            if rng.random() < 0.7:
                n = rng.randint(1, 3)
                t.add(word, n)
                model[word] = model.get(word, 0) + n
            else:
                self.assertEqual(t.remove(word), word in model)
                model.pop(word, None)
            prefix = word[: rng.randint(0, 3)]
            self.assertEqual(t.count_prefix(prefix), sum(w.startswith(prefix) for w in model))
            expected = sorted((w for w in model if w.startswith(prefix)), key=lambda w: (-model[w], w))[:5]
            self.assertEqual(t.complete(prefix, 5), expected)
        nodes = {w[:i] for w in model for i in range(len(w) + 1)}
        self.assertEqual(t.node_count(), len(nodes) if model else 1)

    def test_count_prefix_uses_counters(self):
        t = Autocomplete()
        for i in range(60000):
            t.add("p" + format(i, "x"))
        for _ in range(2000):
            self.assertEqual(t.count_prefix("p"), 60000)


if __name__ == "__main__":
    unittest.main()
