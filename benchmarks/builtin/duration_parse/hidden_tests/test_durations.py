import random
import unittest

from durations import format_duration, parse_duration


class ParseTest(unittest.TestCase):
    def test_examples(self):
        self.assertEqual(parse_duration("1h30m"), 5400)
        self.assertEqual(parse_duration("2d 4h"), 2 * 86400 + 4 * 3600)
        self.assertEqual(parse_duration("45s"), 45)
        self.assertEqual(parse_duration("0s"), 0)
        self.assertEqual(parse_duration("90m"), 5400)
        self.assertEqual(parse_duration("  1d 2h 3m 4s "), 93784)
        self.assertEqual(parse_duration("1d4s"), 86404)
        self.assertEqual(parse_duration("007m"), 420)
        self.assertEqual(parse_duration("100000d"), 100000 * 86400)

    def test_invalid(self):
        for bad in ("", "   ", "5", "5H", "h", "1.5h", "1h1h", "30m1h", "-5s", "5 s", "5sx", "1h 30", "s5",
                    "1h,30m", "+5s", "1w", "1_000s"):
            with self.assertRaises(ValueError, msg=repr(bad)):
                parse_duration(bad)


class FormatTest(unittest.TestCase):
    def test_examples(self):
        self.assertEqual(format_duration(93784), "1d2h3m4s")
        self.assertEqual(format_duration(3600), "1h")
        self.assertEqual(format_duration(0), "0s")
        self.assertEqual(format_duration(59), "59s")
        self.assertEqual(format_duration(86400 + 60), "1d1m")
        self.assertEqual(format_duration(10 * 86400), "10d")

    def test_invalid(self):
        for bad in (-1, 1.5, "60", None, True):
            with self.assertRaises(ValueError, msg=repr(bad)):
                format_duration(bad)

    def test_round_trip(self):
        rng = random.Random(3)
        for _ in range(500):
            n = rng.randint(0, 10**7)
            self.assertEqual(parse_duration(format_duration(n)), n)


if __name__ == "__main__":
    unittest.main()
