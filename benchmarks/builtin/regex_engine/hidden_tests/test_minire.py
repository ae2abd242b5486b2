import random
import re
import unittest

import minire
from minire import fullmatch, search

PATTERNS = [
    "abc", "a*b", "a+b?", "(ab)*c", "a|b|cd", "(a|ab)(c|bcd)(d*)", "[a-c]+", "[^ab]*", "a.c", "^ab", "b$", "^$",
    r"\d+", r"\w+\s\w+", r"[\d.]+", r"a\*b", r"\.", "(a*)*b", "(a|b)*abb", "x?y?z?", "(|a)b", "a(b|)c",
    "[-a]+", "[a-]+", "[]a]+", "[^]a]", r"[\]]", "(a+|b)+", "((a)|b)+c", "^(ab|a)(bc|c)$", "colou?r",
    r"[A-Za-z_]\w*", "a{", "}", r"\(\)", "(x|y|)+z", "h.*o", "[0-9]+(\\.[0-9]+)?",
]
ALPHABET = "abcdxyz01 ._-]()*\n"


def texts(rng):
    out = ["", "abc", "aab", "ac", "abcd", "abbcd", "xyz", "a b", "12.5", "colour", "color", "hello world", "()", "a*b"]
    for _ in range(60):
        out.append("".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 8))))
    return out


class AgainstPythonTest(unittest.TestCase):
    def test_fullmatch_and_search_agree_with_re(self):
        rng = random.Random(42)
        cases = texts(rng)
        for pattern in PATTERNS:
            python = pattern.replace("$", r"\Z")  # our $ is the very end, like Python's \Z
            for text in cases:
                expected = re.fullmatch(python, text) is not None
                self.assertEqual(fullmatch(pattern, text), expected, (pattern, text))
                found = re.search(python, text)
                self.assertEqual(search(pattern, text), found.span() if found else None, (pattern, text))

    def test_random_patterns(self):
        rng = random.Random(7)
        atoms = ["a", "b", ".", "[ab]", "[^a]", "(a|b)", "(ab|a)", r"\d", "c"]
        for _ in range(300):
            pattern = "".join(rng.choice(atoms) + rng.choice(["", "", "*", "+", "?"]) for _ in range(rng.randint(1, 4)))
            if rng.random() < 0.3:
                pattern = "(" + pattern + ")|" + rng.choice(atoms)
            for _ in range(8):
                text = "".join(rng.choice("abc1") for _ in range(rng.randint(0, 7)))
                self.assertEqual(fullmatch(pattern, text), re.fullmatch(pattern, text) is not None, (pattern, text))
                found = re.search(pattern, text)
                self.assertEqual(search(pattern, text), found.span() if found else None, (pattern, text))


class EdgeTest(unittest.TestCase):
    def test_examples(self):
        self.assertTrue(fullmatch("a.c", "abc"))
        self.assertFalse(fullmatch("a.c", "a\nc"))
        self.assertEqual(search("b+", "abbbc"), (1, 4))
        self.assertEqual(search("x*", "abc"), (0, 0))
        self.assertEqual(search("$", "abc"), (3, 3))
        self.assertIsNone(search("^b", "ab"))
        self.assertTrue(fullmatch(r"\\", "\\"))

    def test_malformed(self):
        for bad in ("(", "a)", "*a", "a**", "[a", "[z-a]", "a\\", "(*)", "|*", "a++", "[", "a(b", "?"):
            with self.assertRaises(ValueError, msg=bad):
                fullmatch(bad, "a")

    def test_no_exponential_blowup(self):
        text = "a" * 30
        self.assertFalse(fullmatch("(a*)*b", text))
        self.assertIsNone(search("(a|aa)*b", text))
        self.assertFalse(fullmatch("(a?)*(a*)*b", text))
        self.assertTrue(fullmatch("(a|a)*", "a" * 200))
        self.assertIsNone(search("(x+x+)+y", "x" * 40))

    def test_does_not_use_re(self):
        with open(minire.__file__) as f:
            source = f.read()
        self.assertIsNone(re.search(r"^\s*(import|from)\s+(re|regex|sre_\w+|fnmatch)\b", source, re.M))


if __name__ == "__main__":
    unittest.main()
