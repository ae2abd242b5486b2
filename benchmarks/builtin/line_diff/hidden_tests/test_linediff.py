import difflib
import random
import unittest

import linediff
from linediff import diff, patch, unified


def lcs_length(a, b):
    prev = [0] * (len(b) + 1)
    for x in a:
        cur = [0]
        for j, y in enumerate(b):
            cur.append(prev[j] + 1 if x == y else max(prev[j + 1], cur[j]))
        prev = cur
    return prev[-1]


def check_script(test, a, b, script):
    test.assertEqual([line for op, line in script if op != "+"], a)
    test.assertEqual([line for op, line in script if op != "-"], b)
    test.assertEqual(sum(op == " " for op, _ in script), lcs_length(a, b))
    for x, y in zip(script, script[1:]):
        test.assertFalse(x[0] == "+" and y[0] == "-", script)


class DiffTest(unittest.TestCase):
    def test_small(self):
        a, b = list("abcabba"), list("cbabac")
        script = diff(a, b)
        check_script(self, a, b, script)
        self.assertEqual(patch(a, script), b)
        self.assertEqual(diff([], []), [])
        self.assertEqual(diff(["x"], []), [("-", "x")])
        self.assertEqual(diff([], ["y"]), [("+", "y")])
        self.assertEqual(diff(["a", "b"], ["a", "c"]), [(" ", "a"), ("-", "b"), ("+", "c")])

    def test_random(self):
        rng = random.Random(3)
        for _ in range(300):
            a = [rng.choice("abcd") for _ in range(rng.randint(0, 14))]
            b = [rng.choice("abcd") for _ in range(rng.randint(0, 14))]
            script = diff(a, b)
            check_script(self, a, b, script)
            self.assertEqual(patch(a, script), b)

    def test_large_with_few_changes(self):
        rng = random.Random(1)
        a = [f"line {i} {rng.random()}" for i in range(3000)]
        b = list(a)
        for _ in range(150):
            i = rng.randrange(len(b))
            if rng.random() < 0.5:
                del b[i]
            else:
                b.insert(i, f"new {rng.random()}")
        script = diff(a, b)
        self.assertEqual([line for op, line in script if op != "+"], a)
        self.assertEqual([line for op, line in script if op != "-"], b)
        kept = sum(op == " " for op, _ in script)
        matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
        self.assertGreaterEqual(kept, sum(block.size for block in matcher.get_matching_blocks()))

    def test_patch_errors(self):
        with self.assertRaises(ValueError):
            patch(["a"], [(" ", "b")])
        with self.assertRaises(ValueError):
            patch(["a", "b"], [(" ", "a")])
        with self.assertRaises(ValueError):
            patch(["a"], [("-", "a"), ("-", "a")])

    def test_no_difflib(self):
        with open(linediff.__file__) as f:
            self.assertNotIn("difflib", f.read())


class UnifiedTest(unittest.TestCase):
    def test_same_output_as_difflib_when_the_edits_agree(self):
        rng = random.Random(5)
        compared = 0
        for _ in range(150):
            a = [f"l{rng.randint(0, 30)}" for _ in range(rng.randint(0, 40))]
            b = list(a)
            for _ in range(rng.randint(1, 4)):
                i = rng.randint(0, len(b))
                if b and rng.random() < 0.5:
                    del b[min(i, len(b) - 1)]
                else:
                    b.insert(i, f"n{rng.randint(0, 9)}")
            theirs_script = []
            for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
                if tag == "equal":
                    theirs_script += [(" ", x) for x in a[i1:i2]]
                else:
                    theirs_script += [("-", x) for x in a[i1:i2]] + [("+", y) for y in b[j1:j2]]
            if theirs_script != diff(a, b):
                continue
            compared += 1
            theirs = list(difflib.unified_diff([x + "\n" for x in a], [x + "\n" for x in b], n=2))[2:]
            self.assertEqual(unified(a, b, context=2), "".join(theirs), (a, b))
        self.assertGreater(compared, 50)

    def test_example(self):
        a = [str(i) for i in range(1, 13)]
        b = a[:]
        b[1] = "two"
        b.insert(10, "ten and a half")
        expected = (
            "@@ -1,5 +1,5 @@\n 1\n-2\n+two\n 3\n 4\n 5\n"
            "@@ -8,5 +8,6 @@\n 8\n 9\n 10\n+ten and a half\n 11\n 12\n"
        )
        self.assertEqual(unified(a, b), expected)
        self.assertEqual(unified(a, a), "")
        self.assertEqual(unified([], ["x"]), "@@ -0,0 +1 @@\n+x\n")
        self.assertEqual(unified(["x"], []), "@@ -1 +0,0 @@\n-x\n")
        self.assertEqual(unified(["a", "b", "c"], ["a", "c"], context=0), "@@ -2 +1,0 @@\n-b\n")

    def test_merging(self):
        a = [str(i) for i in range(20)]
        b = a[:]
        b[3] = "x"
        b[9] = "y"
        self.assertEqual(unified(a, b, context=2).count("@@ -"), 2)
        self.assertEqual(unified(a, b, context=3).count("@@ -"), 1)


if __name__ == "__main__":
    unittest.main()
