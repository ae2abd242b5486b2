import unittest

from temperature import convert, format_temperature, parse


class ConvertTest(unittest.TestCase):
    def test_known_points(self):
        cases = [
            (100, "C", "F", 212), (32, "F", "C", 0), (-40, "C", "F", -40), (0, "K", "C", -273.15),
            (0, "K", "R", 0), (491.67, "R", "C", 0), (300, "K", "F", 80.33), (98.6, "f", "c", 37),
            (25, "c", "k", 298.15), (671.67, "R", "F", 212), (0, "C", "C", 0),
        ]
        for value, a, b, expected in cases:
            self.assertAlmostEqual(convert(value, a, b), expected, places=6, msg=(value, a, b))

    def test_round_trips(self):
        for unit in "CFKR":
            for other in "CFKR":
                self.assertAlmostEqual(convert(convert(500, "K", unit), unit, other), convert(500, "K", other))

    def test_errors(self):
        with self.assertRaises(ValueError):
            convert(-300, "C", "K")
        with self.assertRaises(ValueError):
            convert(-1, "K", "C")
        with self.assertRaises(ValueError):
            convert(-500, "F", "C")
        with self.assertRaises(ValueError):
            convert(10, "X", "C")
        with self.assertRaises(ValueError):
            convert(10, "C", "Celsius")


class ParseTest(unittest.TestCase):
    def test_valid(self):
        self.assertEqual(parse("21.5C"), (21.5, "C"))
        self.assertEqual(parse("-40 °F"), (-40.0, "F"))
        self.assertEqual(parse("300k"), (300.0, "K"))
        self.assertEqual(parse("+12.0 C"), (12.0, "C"))
        self.assertEqual(parse("1e2 c"), (100.0, "C"))
        self.assertEqual(parse("  0°R  "), (0.0, "R"))

    def test_invalid(self):
        for bad in ("°C", "12", "12 CC", "12°°C", "C12", "12 X", "", "1.2.3C", "-1K", "-500F", "12 ° C x", "e5C"):
            with self.assertRaises(ValueError, msg=bad):
                parse(bad)


class FormatTest(unittest.TestCase):
    def test_format(self):
        self.assertEqual(format_temperature(21.456, "C"), "21.5 °C")
        self.assertEqual(format_temperature(300, "k"), "300.0 K")
        self.assertEqual(format_temperature(-40, "F", digits=0), "-40 °F")
        self.assertEqual(format_temperature(-0.04, "C"), "0.0 °C")
        self.assertEqual(format_temperature(491.67, "R", digits=2), "491.67 °R")


if __name__ == "__main__":
    unittest.main()
