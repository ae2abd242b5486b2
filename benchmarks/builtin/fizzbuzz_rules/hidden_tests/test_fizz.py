import unittest

from fizz import fizzbuzz, parse_rules


class ParseTest(unittest.TestCase):
    def test_valid(self):
        self.assertEqual(parse_rules("3:Fizz,5:Buzz"), [(3, "Fizz"), (5, "Buzz")])
        self.assertEqual(parse_rules(" 7 : Bazz ,  2:Fizz "), [(7, "Bazz"), (2, "Fizz")])
        self.assertEqual(parse_rules(""), [])
        self.assertEqual(parse_rules("   "), [])
        self.assertEqual(parse_rules("10:Ten Tens"), [(10, "Ten Tens")])

    def test_invalid(self):
        bad_specs = ("3", "0:Zero", "x:Fizz", "3:", "3:Fizz,", ":Fizz", "-3:Neg", "3:a:b", "3.5:F", ",")
        bad_specs += ("3:Fizz,,5:Buzz",)
        for bad in bad_specs:
            with self.assertRaises(ValueError, msg=bad):
                parse_rules(bad)


class FizzBuzzTest(unittest.TestCase):
    def test_classic(self):
        out = fizzbuzz(15)
        self.assertEqual(out[:5], ["1", "2", "Fizz", "4", "Buzz"])
        self.assertEqual(out[-1], "FizzBuzz")
        self.assertEqual(len(out), 15)
        self.assertEqual(fizzbuzz(0), [])

    def test_custom(self):
        self.assertEqual(fizzbuzz(7, parse_rules("7:Bazz, 2:Fizz"))[-1], "Bazz")
        self.assertEqual(fizzbuzz(14, [(7, "Bazz"), (2, "Fizz")])[-1], "BazzFizz")
        self.assertEqual(fizzbuzz(3, []), ["1", "2", "3"])
        self.assertEqual(fizzbuzz(4, [(2, "a"), (2, "b")]), ["1", "ab", "3", "ab"])
        self.assertEqual(fizzbuzz(2, iter([(1, "x")])), ["x", "x"])

    def test_invalid(self):
        for n in (-1, 2.0, "5", None):
            with self.assertRaises(ValueError):
                fizzbuzz(n)
        for rules in ([(0, "z")], [(-2, "n")], [(1.5, "f")]):
            with self.assertRaises(ValueError):
                fizzbuzz(5, rules)


if __name__ == "__main__":
    unittest.main()
