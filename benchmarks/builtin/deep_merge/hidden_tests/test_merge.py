import copy
import unittest

import merge
from merge import DELETE, deep_merge


class MergeTest(unittest.TestCase):
    def test_recursive(self):
        base = {"db": {"host": "a", "port": 1, "opts": {"x": 1}}, "debug": False}
        over = {"db": {"port": 2, "opts": {"y": 2}}, "name": "n"}
        self.assertEqual(
            deep_merge(base, over),
            {"db": {"host": "a", "port": 2, "opts": {"x": 1, "y": 2}}, "debug": False, "name": "n"},
        )

    def test_override_wins_for_non_dicts(self):
        self.assertEqual(deep_merge({"a": [1, 2]}, {"a": [3]}), {"a": [3]})
        self.assertEqual(deep_merge({"a": {"b": 1}}, {"a": 5}), {"a": 5})
        self.assertEqual(deep_merge({"a": 5}, {"a": {"b": 1}}), {"a": {"b": 1}})
        self.assertEqual(deep_merge({}, {}), {})

    def test_delete(self):
        self.assertIs(merge.DELETE, DELETE)
        self.assertEqual(deep_merge({"a": 1, "b": 2}, {"a": DELETE, "zz": DELETE}), {"b": 2})
        self.assertEqual(deep_merge({"a": {"b": 1, "c": 2}}, {"a": {"c": DELETE}}), {"a": {"b": 1}})
        self.assertEqual(deep_merge({}, {"new": {"x": DELETE, "y": 1}}), {"new": {"y": 1}})
        self.assertEqual(deep_merge({"k": 1}, {"k": {"deep": {"x": DELETE}}}), {"k": {"deep": {}}})

    def test_inputs_untouched_and_unshared(self):
        base = {"a": {"list": [1, 2], "s": {1}}, "b": [{"c": 1}]}
        over = {"a": {"more": [3]}, "d": {"e": [4]}}
        before = copy.deepcopy((base, over))
        result = deep_merge(base, over)
        self.assertEqual((base, over), before)
        result["a"]["list"].append(99)
        result["a"]["s"].add(99)
        result["a"]["more"].append(99)
        result["b"][0]["c"] = 99
        result["d"]["e"].append(99)
        self.assertEqual((base, over), before)

    def test_key_order(self):
        result = deep_merge({"b": 1, "a": 2}, {"c": 3, "a": 4, "0": 5})
        self.assertEqual(list(result), ["b", "a", "c", "0"])

    def test_type_errors(self):
        for a, b in (([], {}), ({}, None), ("x", "y")):
            with self.assertRaises(TypeError):
                deep_merge(a, b)


if __name__ == "__main__":
    unittest.main()
