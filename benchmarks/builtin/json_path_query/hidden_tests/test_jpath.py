import unittest

from jpath import query, set_path

DOC = {"a": [{"b": 1}, {"b": 2, "c": {"b": 3}}]}


class QueryTest(unittest.TestCase):
    def test_examples(self):
        self.assertEqual(query(DOC, "$.a[1].b"), [2])
        self.assertEqual(query(DOC, "$.a[*].b"), [1, 2])
        self.assertEqual(query(DOC, "$..b"), [1, 2, 3])
        self.assertEqual(query(DOC, "$.x.y"), [])
        self.assertEqual(query(DOC, "$"), [DOC])

    def test_steps(self):
        data = {"odd key": {"q\"uote": 5}, "list": [10, 20, 30], "d": {"x": 1, "y": [2]}, "n": None}
        self.assertEqual(query(data, '$["odd key"]["q\\"uote"]'), [5])
        self.assertEqual(query(data, "$.list[-1]"), [30])
        self.assertEqual(query(data, "$.list[3]"), [])
        self.assertEqual(query(data, "$.list[-4]"), [])
        self.assertEqual(query(data, "$.d.*"), [1, [2]])
        self.assertEqual(query(data, "$.d[*]"), [1, [2]])
        self.assertEqual(query(data, "$.list.x"), [])
        self.assertEqual(query(data, "$.list[0][0]"), [])
        self.assertEqual(query(data, "$.n"), [None])
        self.assertEqual(query(data, "$.*[0]"), [10])

    def test_recursive_order(self):
        data = {"k": 1, "a": {"k": 2, "b": [{"k": 3}, {"z": {"k": 4}}]}, "c": {"k": {"k": 5}}}
        self.assertEqual(query(data, "$..k"), [1, 2, 3, 4, {"k": 5}, 5])
        self.assertEqual(query(data, "$.a..k"), [2, 3, 4])
        self.assertEqual(query([{"k": 1}, [{"k": 2}]], "$..k"), [1, 2])

    def test_deep_nesting(self):
        data = node = {}
        for _ in range(5000):
            node["n"] = {}
            node = node["n"]
        node["leaf"] = 1
        self.assertEqual(query(data, "$..leaf"), [1])

    def test_malformed(self):
        for bad in ("a.b", "$.", "$[x]", "$.a[", "$..*", "$.1a", '$["x]', "$[1.5]", "$ .a", "", "$[*", "$a"):
            with self.assertRaises(ValueError, msg=bad):
                query(DOC, bad)


class SetPathTest(unittest.TestCase):
    def test_set_and_create(self):
        data = {"a": [{"b": 1}]}
        self.assertIs(set_path(data, "$.a[0].b", 9), data)
        self.assertEqual(data, {"a": [{"b": 9}]})
        set_path(data, '$.new["deep key"].x', True)
        self.assertEqual(data["new"], {"deep key": {"x": True}})
        set_path(data, "$.a[-1].c", [])
        self.assertEqual(data["a"][0], {"b": 9, "c": []})

    def test_errors(self):
        data = {"a": [1], "s": "text"}
        with self.assertRaises(KeyError):
            set_path(data, "$.a[5]", 0)
        with self.assertRaises(KeyError):
            set_path(data, "$.s.x", 0)
        with self.assertRaises(KeyError):
            set_path(data, "$.a.x", 0)
        for bad in ("$", "$.a[*]", "$..a", "$.*"):
            with self.assertRaises(ValueError):
                set_path(data, bad, 0)
        with self.assertRaises(ValueError):
            set_path(data, "$.", 0)
        self.assertEqual(data, {"a": [1], "s": "text"})


if __name__ == "__main__":
    unittest.main()
