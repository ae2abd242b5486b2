import unittest

from paginate import Paginator


class PaginatorTest(unittest.TestCase):
    def test_pages(self):
        p = Paginator(range(25), 10)
        self.assertEqual(p.page_count, 3)
        self.assertEqual(p.page(1), list(range(10)))
        self.assertEqual(p.page(3), [20, 21, 22, 23, 24])
        for bad in (0, 4, -1):
            with self.assertRaises(IndexError):
                p.page(bad)
        self.assertEqual(Paginator(range(20), 10).page_count, 2)
        self.assertEqual(Paginator(range(1), 10).page_count, 1)

    def test_empty(self):
        p = Paginator([], 5)
        self.assertEqual(p.page_count, 1)
        self.assertEqual(p.page(1), [])
        with self.assertRaises(IndexError):
            p.page(2)
        self.assertEqual(p.window(1), [1])

    def test_per_page_validation(self):
        for bad in (0, -1, 2.5, None):
            with self.assertRaises(ValueError):
                Paginator([1], bad)

    def test_page_of(self):
        p = Paginator(range(25), 10)
        self.assertEqual([p.page_of(i) for i in (0, 9, 10, 24)], [1, 1, 2, 3])
        for bad in (25, -1):
            with self.assertRaises(IndexError):
                p.page_of(bad)

    def test_window(self):
        p = Paginator(range(200), 10)
        self.assertEqual(p.window(10), [1, None, 8, 9, 10, 11, 12, None, 20])
        self.assertEqual(p.window(4), [1, 2, 3, 4, 5, 6, None, 20])
        self.assertEqual(p.window(1), [1, 2, 3, None, 20])
        self.assertEqual(p.window(20), [1, None, 18, 19, 20])
        self.assertEqual(p.window(17), [1, None, 15, 16, 17, 18, 19, 20])
        self.assertEqual(p.window(5), [1, 2, 3, 4, 5, 6, 7, None, 20])
        self.assertEqual(p.window(10, radius=0), [1, None, 10, None, 20])
        self.assertEqual(p.window(3, radius=0), [1, 2, 3, None, 20])
        self.assertEqual(Paginator(range(30), 10).window(2, radius=5), [1, 2, 3])
        with self.assertRaises(IndexError):
            p.window(21)
        with self.assertRaises(IndexError):
            p.window(0)


if __name__ == "__main__":
    unittest.main()
