import unittest

from mdtable import parse, render


class RenderTest(unittest.TestCase):
    def test_example(self):
        text = render([{"name": "pear", "qty": 3}, {"name": "fig"}], align={"qty": "right"})
        self.assertEqual(text, "| name | qty |\n| ---- | --: |\n| pear |   3 |\n| fig  |     |")

    def test_columns_alignment_escaping(self):
        rows = [{"a": "x|y", "b": "line1\nline2", "c": 1}, {"c": 12345, "d": True}]
        text = render(rows, align={"a": "center", "c": "right", "d": "center"})
        expected = (
            "|  a   | b           |     c |  d   |\n"
            "| :--: | ----------- | ----: | :--: |\n"
            "| x\\|y | line1 line2 |     1 |      |\n"
            "|      |             | 12345 | True |"
        )
        self.assertEqual(text, expected)

    def test_explicit_columns_and_empty(self):
        self.assertEqual(render([{"a": 1, "b": 2}], columns=["b"]), "| b   |\n| --- |\n| 2   |")
        self.assertEqual(render([]), "")
        self.assertEqual(render([], columns=["x"]), "| x   |\n| --- |")
        self.assertEqual(render([{"k": "ab"}], align={"k": "center"}), "|  k  |\n| :-: |\n| ab  |")


class ParseTest(unittest.TestCase):
    def test_round_trip(self):
        rows = [{"name": "a|b", "qty": "3", "note": ""}, {"name": "c", "qty": "10", "note": "n"}]
        self.assertEqual(parse(render(rows, align={"qty": "right"})), rows)

    def test_loose_format(self):
        text = "\n\n name | qty\n:--|--:\n pear |3 \n| fig | |\n\n"
        self.assertEqual(parse(text), [{"name": "pear", "qty": "3"}, {"name": "fig", "qty": ""}])

    def test_errors(self):
        for bad in ("| a | b |\n| - | - |\n| 1 |", "| a |\n| x |\n| 1 |", "| a |", "| a | b |\n| --- |",
                    "| a |\n| --- |\n| 1 | 2 |"):
            with self.assertRaises(ValueError, msg=bad):
                parse(bad)


if __name__ == "__main__":
    unittest.main()
