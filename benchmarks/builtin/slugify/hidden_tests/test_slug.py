import unittest

from slug import slugify


class SlugifyTest(unittest.TestCase):
    def test_examples(self):
        self.assertEqual(slugify("  Héllo, Wörld! Don't panic "), "hello-world-dont-panic")
        self.assertEqual(slugify("Hello big world", max_length=10), "hello-big")
        self.assertEqual(slugify("!!!"), "")
        self.assertEqual(slugify(""), "")

    def test_unicode(self):
        self.assertEqual(slugify("ﬁne Straße 中文 Ångström"), "fine-strae-angstrom")
        self.assertEqual(slugify("Crème Brûlée"), "creme-brulee")
        self.assertEqual(slugify("①②"), "12")

    def test_separators_and_digits(self):
        self.assertEqual(slugify("a__b--c  d", separator="_"), "a_b_c_d")
        self.assertEqual(slugify("Python 3.12 -- released!"), "python-3-12-released")
        self.assertEqual(slugify("rock'n'roll"), "rocknroll")
        self.assertEqual(slugify("x", separator="::"), "x")
        self.assertEqual(slugify("a b", separator="::"), "a::b")

    def test_max_length(self):
        self.assertEqual(slugify("Hello big world", max_length=15), "hello-big-world")
        self.assertEqual(slugify("Hello big world", max_length=14), "hello-big")
        self.assertEqual(slugify("Hello big world", max_length=9), "hello-big")
        self.assertEqual(slugify("Hello big world", max_length=8), "hello")
        self.assertEqual(slugify("Supercalifragilistic word", max_length=5), "super")
        self.assertEqual(slugify("a b c d", max_length=4, separator="__"), "a__b")
        self.assertEqual(slugify("ab cd", max_length=1), "a")

    def test_invalid(self):
        for kwargs in ({"max_length": 0}, {"max_length": -3}, {"max_length": 2.5}, {"separator": ""},
                       {"separator": "x"}, {"separator": "1"}):
            with self.assertRaises(ValueError, msg=kwargs):
                slugify("some text", **kwargs)


if __name__ == "__main__":
    unittest.main()
