import random
import unittest

from rle import decode, encode


class EncodeTest(unittest.TestCase):
    def test_examples(self):
        self.assertEqual(encode("aaabccddddd"), "3ab2c5d")
        self.assertEqual(encode(""), "")
        self.assertEqual(encode("a"), "a")
        self.assertEqual(encode("abc"), "abc")
        self.assertEqual(encode("  !!é"), "2 2!é")
        self.assertEqual(encode("x" * 1000), "1000x")
        self.assertEqual(encode("aabaa"), "2ab2a")

    def test_digits_rejected(self):
        for bad in ("a1", "9", "abc0def"):
            with self.assertRaises(ValueError):
                encode(bad)


class DecodeTest(unittest.TestCase):
    def test_examples(self):
        self.assertEqual(decode("3ab2c5d"), "aaabccddddd")
        self.assertEqual(decode("1a2b"), "abb")
        self.assertEqual(decode(""), "")
        self.assertEqual(decode("12x"), "x" * 12)
        self.assertEqual(decode("2 3-"), "  ---")

    def test_malformed(self):
        for bad in ("3", "a12", "0a", "03a", "a0b", "10"):
            with self.assertRaises(ValueError, msg=bad):
                decode(bad)

    def test_round_trip(self):
        rng = random.Random(7)
        for _ in range(300):
            text = "".join(rng.choice("ab c\u00e9") * rng.randint(1, 12) for _ in range(rng.randint(0, 15)))
            self.assertEqual(decode(encode(text)), text)


if __name__ == "__main__":
    unittest.main()
