import unittest

from sheet import Sheet


class SheetTest(unittest.TestCase):
    def setUp(self):
        self.s = Sheet()

    def test_values_and_text(self):
        self.s.set("A1", "12")
        self.s.set("a2", "2.5")
        self.s.set("B1", "hello")
        self.assertEqual(self.s.get("A1"), 12)
        self.assertEqual(self.s.get("A2"), 2.5)
        self.assertEqual(self.s.get("b1"), "hello")
        self.assertEqual(self.s.get("Z99"), 0)
        self.assertEqual(self.s.raw("A2"), "2.5")
        self.assertEqual(self.s.raw("C3"), "")
        self.s.set("A1", "")
        self.assertEqual(self.s.get("A1"), 0)
        self.assertEqual(self.s.raw("A1"), "")

    def test_formulas(self):
        self.s.set("A1", "2")
        self.s.set("A2", "3")
        self.s.set("A3", "=A1 + A2 * 4 - -1")
        self.s.set("B1", "=(A1 + A2) / 2")
        self.s.set("B2", "=sum(A1:A3, 10) + Max(A1, A2) + MIN(A1:A2) + avg(A1:A2)")
        self.assertEqual(self.s.get("A3"), 15)
        self.assertEqual(self.s.get("B1"), 2.5)
        self.assertEqual(self.s.get("B2"), 30 + 3 + 2 + 2.5)
        self.assertEqual(self.s.raw("A3"), "=A1 + A2 * 4 - -1")

    def test_updates_propagate(self):
        self.s.set("A1", "1")
        self.s.set("A2", "=A1 * 10")
        self.s.set("A3", "=A2 + A1")
        self.assertEqual(self.s.get("A3"), 11)
        self.s.set("A1", "5")
        self.assertEqual(self.s.get("A3"), 55)
        self.s.set("A2", "7")
        self.assertEqual(self.s.get("A3"), 12)

    def test_ranges(self):
        for i, v in enumerate(["1", "2", "", "4"], start=1):
            self.s.set(f"A{i}", v)
        self.s.set("B1", "10")
        self.s.set("C1", "=SUM(A1:B4)")
        self.s.set("C2", "=AVG(A1:A4)")
        self.s.set("C3", "=AVG(D1:D9)")
        self.s.set("C4", "=MAX(D1:D9)")
        self.s.set("C5", "=SUM(B4:A1)")
        self.assertEqual(self.s.get("C1"), 17)
        self.assertAlmostEqual(self.s.get("C2"), 7 / 3)
        self.assertEqual(self.s.get("C3"), "#DIV/0!")
        self.assertEqual(self.s.get("C4"), 0)
        self.assertEqual(self.s.get("C5"), 17)

    def test_errors(self):
        self.s.set("A1", "0")
        self.s.set("A2", "=1/A1")
        self.s.set("A3", "=A2 + 1")
        self.s.set("B1", "text")
        self.s.set("B2", "=B1 * 2")
        self.s.set("B3", "=SUM(B1:B1)")
        self.s.set("C1", "=1 +")
        self.s.set("C2", "=FOO(1)")
        self.s.set("C3", "=C1")
        self.s.set("C4", "=(1")
        self.assertEqual(self.s.get("A2"), "#DIV/0!")
        self.assertEqual(self.s.get("A3"), "#DIV/0!")
        self.assertEqual(self.s.get("B2"), "#VALUE!")
        self.assertEqual(self.s.get("B3"), "#VALUE!")
        self.assertEqual(self.s.get("C1"), "#ERROR!")
        self.assertEqual(self.s.get("C2"), "#ERROR!")
        self.assertEqual(self.s.get("C3"), "#ERROR!")
        self.assertEqual(self.s.get("C4"), "#ERROR!")
        self.s.set("A1", "4")
        self.assertEqual(self.s.get("A3"), 1.25)

    def test_cycles(self):
        self.s.set("A1", "=B1 + 1")
        self.s.set("B1", "=C1 + 1")
        self.s.set("C1", "=A1 + 1")
        self.s.set("D1", "=A1 * 2")
        self.s.set("E1", "=E1")
        for cell in ("A1", "B1", "C1", "D1", "E1"):
            self.assertEqual(self.s.get(cell), "#REF!", cell)
        self.s.set("C1", "1")
        self.assertEqual(self.s.get("A1"), 3)
        self.assertEqual(self.s.get("D1"), 6)

    def test_invalid_names(self):
        for bad in ("A0", "1A", "AAA1", "A", "", "A1:B2", "A-1"):
            with self.assertRaises(ValueError, msg=bad):
                self.s.set(bad, "1")

    def test_long_chain(self):
        self.s.set("A1", "1")
        for i in range(2, 5001):
            self.s.set(f"A{i}", f"=A{i - 1} + 1")
        self.assertEqual(self.s.get("A5000"), 5000)
        self.s.set("A1", "=A5000")
        self.assertEqual(self.s.get("A2500"), "#REF!")
        self.s.set("A1", "-10")
        self.assertEqual(self.s.get("A5000"), 4989)
        self.s.set("B1", "=SUM(A1:A5000)")
        self.assertEqual(self.s.get("B1"), sum(range(-10, 4990)))


if __name__ == "__main__":
    unittest.main()
