import unittest

from ratelimit import SlidingWindow, TokenBucket


class Clock:
    def __init__(self, t=1000.0):
        self.t = t

    def __call__(self):
        return self.t


class TokenBucketTest(unittest.TestCase):
    def test_burst_then_refill(self):
        clock = Clock()
        b = TokenBucket(rate=2, capacity=5, clock=clock)
        self.assertEqual([b.try_acquire() for _ in range(6)], [True] * 5 + [False])
        self.assertAlmostEqual(b.wait_time(), 0.5)
        clock.t += 0.5
        self.assertTrue(b.try_acquire())
        self.assertFalse(b.try_acquire())
        clock.t += 100
        self.assertTrue(b.try_acquire(5))
        self.assertFalse(b.try_acquire(0.5))

    def test_wait_time_takes_nothing(self):
        clock = Clock()
        b = TokenBucket(rate=1, capacity=3, clock=clock)
        self.assertEqual(b.wait_time(3), 0.0)
        self.assertEqual(b.wait_time(3), 0.0)
        self.assertTrue(b.try_acquire(2))
        self.assertAlmostEqual(b.wait_time(3), 2.0)
        clock.t += 1.25
        self.assertAlmostEqual(b.wait_time(3), 0.75)
        self.assertFalse(b.try_acquire(3))
        self.assertTrue(b.try_acquire(2))

    def test_fractional(self):
        clock = Clock()
        b = TokenBucket(rate=0.5, capacity=1, clock=clock)
        self.assertTrue(b.try_acquire(0.25))
        self.assertTrue(b.try_acquire(0.75))
        self.assertFalse(b.try_acquire(0.1))
        clock.t += 0.2
        self.assertTrue(b.try_acquire(0.1))

    def test_invalid(self):
        for args in ((0, 1), (1, 0), (-1, 5)):
            with self.assertRaises(ValueError):
                TokenBucket(*args, clock=Clock())
        b = TokenBucket(1, 2, clock=Clock())
        for n in (3, 0, -1):
            with self.assertRaises(ValueError):
                b.try_acquire(n)
            with self.assertRaises(ValueError):
                b.wait_time(n)


class SlidingWindowTest(unittest.TestCase):
    def test_limit_per_key(self):
        clock = Clock()
        w = SlidingWindow(limit=3, window=10, clock=clock)
        self.assertEqual([w.allow("a") for _ in range(4)], [True, True, True, False])
        self.assertTrue(w.allow("b"))
        self.assertAlmostEqual(w.retry_after("a"), 10.0)
        self.assertEqual(w.retry_after("b"), 0.0)

    def test_window_is_half_open(self):
        clock = Clock()
        w = SlidingWindow(limit=2, window=10, clock=clock)
        self.assertTrue(w.allow("k"))
        clock.t += 4
        self.assertTrue(w.allow("k"))
        clock.t += 5.5
        self.assertFalse(w.allow("k"))
        self.assertAlmostEqual(w.retry_after("k"), 0.5)
        clock.t += 0.5
        self.assertEqual(w.retry_after("k"), 0.0)
        self.assertTrue(w.allow("k"))
        self.assertFalse(w.allow("k"))
        self.assertAlmostEqual(w.retry_after("k"), 4.0)

    def test_rejections_are_not_recorded(self):
        clock = Clock()
        w = SlidingWindow(limit=1, window=5, clock=clock)
        self.assertTrue(w.allow("x"))
        for _ in range(10):
            clock.t += 0.25
            self.assertFalse(w.allow("x"))
        clock.t += 2.5
        self.assertTrue(w.allow("x"))

    def test_memory_is_bounded(self):
        clock = Clock()
        w = SlidingWindow(limit=5, window=1, clock=clock)
        for i in range(1000):
            w.allow(f"user{i}")
            clock.t += 0.01
        self.assertLessEqual(len(w), 101)
        clock.t += 5
        self.assertEqual(len(w), 0)
        w.allow("again")
        self.assertEqual(len(w), 1)

    def test_invalid(self):
        for args in ((0, 1), (1, 0)):
            with self.assertRaises(ValueError):
                SlidingWindow(*args, clock=Clock())


if __name__ == "__main__":
    unittest.main()
