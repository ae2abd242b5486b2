import random
import unittest

from toposort import CycleError, build_order, levels


def check_cycle(test, deps, cycle):
    test.assertGreaterEqual(len(cycle), 2)
    test.assertEqual(cycle[0], cycle[-1])
    test.assertEqual(len(set(cycle[:-1])), len(cycle) - 1)
    for a, b in zip(cycle, cycle[1:]):
        test.assertIn(b, deps.get(a, []), cycle)


class BuildOrderTest(unittest.TestCase):
    def test_example(self):
        deps = {"app": ["lib", "utils"], "lib": ["utils", "zlib"], "tests": ["app"], "docs": []}
        self.assertEqual(build_order(deps), ["docs", "utils", "zlib", "lib", "app", "tests"])

    def test_smallest_ready_first(self):
        deps = {"b": [], "a": ["c"], "c": []}
        self.assertEqual(build_order(deps), ["b", "c", "a"])
        self.assertEqual(build_order({}), [])
        self.assertEqual(build_order({"x": ["y", "y"]}), ["y", "x"])

    def test_cycles(self):
        for deps in ({"a": ["b"], "b": ["a"]}, {"x": ["x"]}, {"a": ["b"], "b": ["c"], "c": ["d", "a"], "d": []},
                     {"root": ["a"], "a": ["b"], "b": ["c"], "c": ["a"], "z": []}):
            with self.assertRaises(CycleError) as ctx:
                build_order(deps)
            check_cycle(self, deps, ctx.exception.cycle)
            self.assertIsInstance(ctx.exception, ValueError)
        with self.assertRaises(CycleError) as ctx:
            build_order({"x": ["x"]})
        self.assertEqual(ctx.exception.cycle, ["x", "x"])

    def test_random_dags(self):
        rng = random.Random(8)
        for _ in range(100):
            names = [f"n{i:02d}" for i in range(rng.randint(1, 30))]
            rank = names[:]
            rng.shuffle(rank)
            deps = {}
            for i, name in enumerate(rank):
                deps[name] = rng.sample(rank[:i], min(i, rng.randint(0, 3)))
            order = build_order(deps)
            self.assertEqual(sorted(order), sorted(names))
            pos = {n: i for i, n in enumerate(order)}
            for n, ds in deps.items():
                for d in ds:
                    self.assertLess(pos[d], pos[n])
            for i, n in enumerate(order):
                ready = sorted(m for m in order[i:] if all(pos[d] < i for d in deps[m]))
                self.assertEqual(n, ready[0])

    def test_large_chain_and_cycle(self):
        n = 100_000
        deps = {f"t{i}": [f"t{i - 1}"] for i in range(1, n)}
        order = build_order(deps)
        self.assertEqual(order[:2], ["t0", "t1"])
        self.assertEqual(len(order), n)
        deps["t0"] = [f"t{n - 1}"]
        with self.assertRaises(CycleError) as ctx:
            build_order(deps)
        self.assertEqual(len(ctx.exception.cycle), n + 1)


class LevelsTest(unittest.TestCase):
    def test_levels(self):
        deps = {"app": ["lib", "utils"], "lib": ["utils", "zlib"], "tests": ["app"], "docs": []}
        self.assertEqual(levels(deps), [["docs", "utils", "zlib"], ["lib"], ["app"], ["tests"]])
        self.assertEqual(levels({}), [])
        self.assertEqual(levels({"a": ["c"], "b": ["c"]}), [["c"], ["a", "b"]])
        with self.assertRaises(CycleError):
            levels({"a": ["b"], "b": ["a"]})


if __name__ == "__main__":
    unittest.main()
