import unittest

from roman import from_roman, to_roman


def reference(n):
    out = ""
    for value, sym in [(1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"), (50, "L"),
                       (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I")]:
        while n >= value:
            out += sym
            n -= value
    return out


class ToRomanTest(unittest.TestCase):
    def test_examples(self):
        self.assertEqual(to_roman(1), "I")
        self.assertEqual(to_roman(4), "IV")
        self.assertEqual(to_roman(9), "IX")
        self.assertEqual(to_roman(14), "XIV")
        self.assertEqual(to_roman(40), "XL")
        self.assertEqual(to_roman(90), "XC")
        self.assertEqual(to_roman(400), "CD")
        self.assertEqual(to_roman(1994), "MCMXCIV")
        self.assertEqual(to_roman(3888), "MMMDCCCLXXXVIII")
        self.assertEqual(to_roman(3999), "MMMCMXCIX")

    def test_all_values(self):
        for n in range(1, 4000):
            self.assertEqual(to_roman(n), reference(n), n)

    def test_invalid(self):
        for bad in (0, -1, 4000, 10**6, 2.5, True, "12", None):
            with self.assertRaises(ValueError, msg=repr(bad)):
                to_roman(bad)


class FromRomanTest(unittest.TestCase):
    def test_round_trip(self):
        for n in range(1, 4000):
            self.assertEqual(from_roman(reference(n)), n)

    def test_rejects_non_canonical(self):
        for bad in ("", "IIII", "VX", "IC", "MMMM", "XXXX", "VV", "LL", "DD", "IIV", "XM", "iv", "IV ", "ABC",
                    "MCMC", "CMM", "IXI", "XCX"):
            with self.assertRaises(ValueError, msg=bad):
                from_roman(bad)


if __name__ == "__main__":
    unittest.main()
