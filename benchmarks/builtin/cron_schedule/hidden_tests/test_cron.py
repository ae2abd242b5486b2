import random
import unittest
from datetime import datetime, timedelta

from cron import parse


def brute_next(schedule_text, start, days=40):
    s = parse(schedule_text)
    t = start.replace(second=0, microsecond=0) + timedelta(minutes=1)
    for _ in range(days * 1440):
        if s.matches(t):
            return t
        t += timedelta(minutes=1)
    return None


class ParseTest(unittest.TestCase):
    def test_matches(self):
        s = parse("*/15 9-17 * * mon-fri")
        self.assertTrue(s.matches(datetime(2024, 3, 4, 9, 45)))
        self.assertFalse(s.matches(datetime(2024, 3, 4, 9, 46)))
        self.assertFalse(s.matches(datetime(2024, 3, 3, 9, 45)))
        self.assertFalse(s.matches(datetime(2024, 3, 4, 18, 0)))
        self.assertTrue(parse("0 0 * * 7").matches(datetime(2024, 3, 3)))
        self.assertTrue(parse("0 0 * * 0").matches(datetime(2024, 3, 3)))
        self.assertTrue(parse("5 4 * JAN,Jul *").matches(datetime(2024, 7, 9, 4, 5)))
        self.assertTrue(parse("10-50/20 * * * *").matches(datetime(2024, 1, 1, 0, 50)))
        self.assertFalse(parse("10-50/20 * * * *").matches(datetime(2024, 1, 1, 0, 40)))
        self.assertTrue(parse("30/15 * * * *").matches(datetime(2024, 1, 1, 0, 45)))
        self.assertFalse(parse("30/15 * * * *").matches(datetime(2024, 1, 1, 0, 15)))
        self.assertTrue(parse("@weekly").matches(datetime(2024, 3, 10)))
        self.assertTrue(parse("  @Yearly ").matches(datetime(2030, 1, 1)))

    def test_day_or_rule(self):
        s = parse("0 0 13 * fri")
        self.assertTrue(s.matches(datetime(2024, 3, 13)))
        self.assertTrue(s.matches(datetime(2024, 3, 15)))
        self.assertFalse(s.matches(datetime(2024, 3, 14)))
        s = parse("0 0 */2 * *")
        self.assertFalse(s.matches(datetime(2024, 3, 2)))
        s = parse("0 0 */2 * 1")
        self.assertTrue(s.matches(datetime(2024, 3, 4)))
        self.assertTrue(s.matches(datetime(2024, 3, 3)))

    def test_invalid(self):
        for bad in ("* * * *", "* * * * * *", "60 * * * *", "* 24 * * *", "* * 0 * *", "* * 32 * *",
                    "* * * 13 *", "* * * * 8", "5-1 * * * *", "*/0 * * * *", "a * * * *", "* * * foo *",
                    "1,,2 * * * *", "@often", "", "-1 * * * *", "1-2-3 * * * *", "*/ * * * *"):
            with self.assertRaises(ValueError, msg=bad):
                parse(bad)


class NextTest(unittest.TestCase):
    def test_examples(self):
        start = datetime(2024, 3, 4, 9, 46, 30)
        self.assertEqual(parse("*/15 9-17 * * mon-fri").next_after(start), datetime(2024, 3, 4, 10, 0))
        self.assertEqual(parse("0 0 29 2 *").next_after(datetime(2024, 3, 1)), datetime(2028, 2, 29))
        self.assertEqual(parse("0 0 31 * 1").next_after(datetime(2024, 3, 31)), datetime(2024, 4, 1))
        self.assertEqual(parse("0 0 31 * *").next_after(datetime(2024, 3, 31)), datetime(2024, 5, 31))
        self.assertEqual(parse("@hourly").next_after(datetime(2024, 12, 31, 23, 0)), datetime(2025, 1, 1, 0, 0))
        self.assertEqual(parse("* * * * *").next_after(datetime(2024, 1, 1, 0, 0, 0)), datetime(2024, 1, 1, 0, 1))
        self.assertEqual(parse("59 23 31 12 *").next_after(datetime(2024, 12, 31, 23, 59)),
                         datetime(2025, 12, 31, 23, 59))

    def test_impossible(self):
        with self.assertRaises(ValueError):
            parse("0 0 30 2 *").next_after(datetime(2024, 1, 1))

    def test_random_against_brute_force(self):
        rng = random.Random(6)
        exprs = ["*/7 */5 * * *", "0 12 1,15 * *", "30 6 * * sat,sun", "0 0 1-7 * mon", "15 3 */3 * 2-4",
                 "0 */6 * jan-mar *", "45 22 10-12 * *", "0 0 * * 5", "20-25 0 1 * *"]
        for expr in exprs:
            for _ in range(5):
                start = datetime(2024, 1, 1) + timedelta(minutes=rng.randint(0, 60 * 24 * 300))
                expected = brute_next(expr, start)
                if expected is not None:
                    self.assertEqual(parse(expr).next_after(start), expected, (expr, start))

    def test_rare_schedules_are_fast(self):
        s = parse("0 0 29 2 1")
        t = datetime(2000, 1, 1)
        for _ in range(200):
            t = s.next_after(t)
            self.assertTrue(s.matches(t))
        self.assertGreater(t.year, 2010)


if __name__ == "__main__":
    unittest.main()
