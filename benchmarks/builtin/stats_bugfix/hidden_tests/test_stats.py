import unittest

from stats import mean, median, mode, percentile, variance


class StatsTest(unittest.TestCase):
    def test_mean(self):
        self.assertEqual(mean([1, 2, 3, 4]), 2.5)
        self.assertEqual(mean([5]), 5)
        with self.assertRaises(ValueError):
            mean([])

    def test_median(self):
        self.assertEqual(median([3, 1, 2]), 2)
        self.assertEqual(median([4, 1, 3, 2]), 2.5)
        self.assertEqual(median([7]), 7)
        self.assertEqual(median([1, 1, 5, 9]), 3)
        with self.assertRaises(ValueError):
            median([])

    def test_median_does_not_modify_input(self):
        data = [5, 3, 1, 4]
        median(data)
        self.assertEqual(data, [5, 3, 1, 4])

    def test_mode(self):
        self.assertEqual(mode([1, 2, 2, 3]), 2)
        self.assertEqual(mode([3, 3, 1, 1, 2]), 1)
        self.assertEqual(mode([9, 8, 7]), 7)
        self.assertEqual(mode(["b", "a", "b", "a"]), "a")
        with self.assertRaises(ValueError):
            mode([])

    def test_variance(self):
        self.assertAlmostEqual(variance([2, 4, 4, 4, 5, 5, 7, 9]), 4.0)
        self.assertAlmostEqual(variance([2, 4, 4, 4, 5, 5, 7, 9], sample=True), 32 / 7)
        self.assertAlmostEqual(variance([1, 2, 3], sample=True), 1.0)
        self.assertEqual(variance([5]), 0)
        with self.assertRaises(ValueError):
            variance([5], sample=True)
        with self.assertRaises(ValueError):
            variance([])

    def test_percentile(self):
        data = [15, 20, 35, 40, 50]
        self.assertEqual(percentile(data, 0), 15)
        self.assertEqual(percentile(data, 100), 50)
        self.assertEqual(percentile(data, 50), 35)
        self.assertAlmostEqual(percentile(data, 40), 29.0)
        self.assertAlmostEqual(percentile([1, 2], 75), 1.75)
        self.assertEqual(percentile([4], 100), 4)
        self.assertEqual(percentile([3, 1, 2], 100), 3)
        for bad in (-1, 100.5):
            with self.assertRaises(ValueError):
                percentile(data, bad)
        with self.assertRaises(ValueError):
            percentile([], 50)


if __name__ == "__main__":
    unittest.main()
