import json
import random
import re
import unittest

import minijson
from minijson import JSONError, loads


def random_value(rng, depth=0):
    kind = rng.randint(0, 7 if depth < 4 else 4)
    if kind == 0:
        return rng.randint(-10**20, 10**20)
    if kind == 1:
        return rng.uniform(-1e6, 1e6) * 10 ** rng.randint(-30, 30)
    if kind == 2:
        pieces = ["a", '"', "\\", "\n", "é", "\U0001F600", "\x01", "/", " "]
        return "".join(rng.choice(pieces) for _ in range(rng.randint(0, 8)))
    if kind == 3:
        return rng.choice([True, False, None])
    if kind == 4:
        return ""
    if kind in (5, 6):
        return [random_value(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    return {f"k{rng.randint(0, 5)}": random_value(rng, depth + 1) for _ in range(rng.randint(0, 4))}


class ValidTest(unittest.TestCase):
    def test_basics(self):
        self.assertEqual(loads(' {"a": [1, 2.5, -3e2, true, false, null], "b": {}} '),
                         {"a": [1, 2.5, -300.0, True, False, None], "b": {}})
        self.assertEqual(loads("0"), 0)
        self.assertIsInstance(loads("-0"), int)
        self.assertIsInstance(loads("1E2"), float)
        self.assertEqual(loads('"\\u00e9\\ud83d\\ude00\\/\\b\\f\\n\\r\\t\\"\\\\"'), "é😀/\b\f\n\r\t\"\\")
        self.assertEqual(loads('"\\ud800x"'), "\ud800x")
        self.assertEqual(loads('{"a": 1, "a": 2}'), {"a": 2})
        self.assertEqual(loads("[]"), [])
        self.assertEqual(loads("\t\n\r [ ] "), [])
        self.assertEqual(loads("123456789012345678901234567890"), 123456789012345678901234567890)

    def test_random_against_json(self):
        rng = random.Random(4)
        for _ in range(300):
            value = random_value(rng)
            text = json.dumps(value, ensure_ascii=rng.random() < 0.5, indent=rng.choice([None, 2]))
            self.assertEqual(loads(text), json.loads(text), text)

    def test_deep(self):
        depth = 50000
        nested = loads("[" * depth + "]" * depth)
        for _ in range(depth - 1):
            self.assertEqual(len(nested), 1)
            nested = nested[0]
        self.assertEqual(nested, [])
        nested = loads('{"a":' * depth + "1" + "}" * depth)
        for _ in range(depth):
            nested = nested["a"]
        self.assertEqual(nested, 1)

    def test_large(self):
        rng = random.Random(9)
        doc = [{"id": i, "name": f"item {i}", "tags": ["x", "y"], "score": rng.random()} for i in range(40000)]
        text = json.dumps(doc)
        self.assertEqual(loads(text), doc)


class InvalidTest(unittest.TestCase):
    CASES = {
        "": 0, " ": 1, "[1,]": 3, "{,}": 1, "[1 2]": 3, '{"a" 1}': 5, "{'a': 1}": 1, "01": 1, "+1": 0,
        ".5": 0, "1.": 0, "1e": 0, "-": 0, "tru": 0, "nul": 0, '"abc': 4, '"a\nb"': 2, '"\\x"': 1,
        '"\\u12"': 1, "[1] x": 4, "[": 1, '{"a":1': 6, "NaN": 0, "[1,,2]": 3, '{"a":1,}': 7, "\u00a0 1": 0,
    }

    def test_errors_and_positions(self):
        for text, pos in self.CASES.items():
            with self.assertRaises(JSONError, msg=repr(text)) as ctx:
                loads(text)
            self.assertIsInstance(ctx.exception, ValueError)
            self.assertTrue(ctx.exception.msg)
            with self.subTest(text=text):
                if text in ("1.", "1e", "-", "tru", "nul", "01", "+1", ".5"):
                    self.assertIn(ctx.exception.pos, range(0, len(text) + 1))
                else:
                    # The offending character, or the whitespace or character just before it.
                    self.assertIn(ctx.exception.pos, (pos - 1, pos), repr(text))

    def test_no_json_module(self):
        with open(minijson.__file__) as f:
            source = f.read()
        self.assertIsNone(re.search(r"^\s*(import|from)\s+(json|simplejson|ujson|orjson|ast)\b", source, re.M))
        self.assertNotIn("eval(", source)


if __name__ == "__main__":
    unittest.main()
