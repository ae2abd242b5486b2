import re
import unittest
from fractions import Fraction as F

import calc
from calc import CalcError, evaluate


class EvaluateTest(unittest.TestCase):
    def test_basics(self):
        cases = {
            "1 + 2 * 3": 7, "(1 + 2) * 3": 9, "10 - 4 - 3": 3, "2 * 3 / 4": F(3, 2), "100 / 10 / 5": 2,
            "0.1 + 0.2": F(3, 10), ".5 * 4": 2, "3.25": F(13, 4), "7": 7, "  ( ( 2 ) ) ": 2,
        }
        for text, expected in cases.items():
            self.assertEqual(evaluate(text), expected, text)
            self.assertIsInstance(evaluate(text), F)

    def test_powers_and_unary(self):
        cases = {
            "2^3^2": 512, "(2^3)^2": 64, "-2^2": -4, "(-2)^2": 4, "2^-1": F(1, 2), "--3": 3, "-+-3": 3,
            "2 * -3": -6, "2^-2^1": F(1, 4), "4 - -2": 6, "(1/2)^-2": 4, "0^0": 1, "-(1+2)*2": -6,
        }
        for text, expected in cases.items():
            self.assertEqual(evaluate(text), expected, text)

    def test_variables(self):
        self.assertEqual(evaluate("x * y + z_1", {"x": 2, "y": F(1, 3), "z_1": 1}), F(5, 3))
        self.assertEqual(evaluate("rate^2", {"rate": F(1, 2)}), F(1, 4))

    def test_errors(self):
        for text in ("1 +", "(1", "1)", "1 2", "2 ** 3", "", "   ", "*3", "1 + (2 * )", "3 $ 4", "1..2", "2x"):
            with self.assertRaises(CalcError, msg=text):
                evaluate(text)
        with self.assertRaises(CalcError):
            evaluate("a + 1")
        with self.assertRaises(CalcError):
            evaluate("1 / (2 - 2)")
        with self.assertRaises(CalcError):
            evaluate("0 ^ -1")
        with self.assertRaises(CalcError):
            evaluate("4 ^ (1/2)")
        self.assertTrue(issubclass(CalcError, ValueError))

    def test_no_eval(self):
        with open(calc.__file__) as f:
            source = f.read()
        self.assertIsNone(re.search(r"(?<![\w.])(eval|exec|compile|__import__)\s*\(", source))
        self.assertIsNone(re.search(r"^\s*(import ast|from ast )", source, re.M))


if __name__ == "__main__":
    unittest.main()
