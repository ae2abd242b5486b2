import json
import os
import subprocess
import sys
import tempfile
import unittest

SCRIPT = os.path.join(os.getcwd(), "report.py")

SALES = """\
id,region,product,quantity,unit_price,note
1,North,apple,3,0.10,
2,South,pear,1,2.50,x
3,North,pear,2,2.50,

4,East,apple,10,0.10,
5,South,apple,4,0.10,
6,West,plum,1,2.10,
"""


def run(*args, content=SALES):
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "sales.csv")
        if content is not None:
            with open(path, "w", newline="") as f:
                f.write(content)
        done = subprocess.run([sys.executable, SCRIPT, path, *args], capture_output=True, text=True, timeout=20)
    return done.returncode, done.stdout, done.stderr


class ReportTest(unittest.TestCase):
    def test_text_by_region(self):
        code, out, err = run()
        self.assertEqual(code, 0, err)
        self.assertEqual(out, "North\t5\t5.30\nSouth\t5\t2.90\nWest\t1\t2.10\nEast\t10\t1.00\nTOTAL\t21\t11.30\n")

    def test_by_product_and_top(self):
        code, out, _ = run("--by", "product", "--top", "2")
        self.assertEqual(code, 0)
        self.assertEqual(out, "pear\t3\t7.50\nplum\t1\t2.10\nTOTAL\t21\t11.30\n")

    def test_exact_decimal_sums(self):
        rows = "region,product,quantity,unit_price\n" + "R,p,1,0.10\n" * 3 + "S,p,1,0.30\n"
        code, out, _ = run(content=rows)
        self.assertEqual(out, "R\t3\t0.30\nS\t1\t0.30\nTOTAL\t4\t0.60\n")

    def test_json(self):
        code, out, _ = run("--format", "json", "--top", "1")
        self.assertEqual(code, 0)
        self.assertEqual(
            json.loads(out),
            {"groups": [{"name": "North", "quantity": 5, "revenue": "5.30"}],
             "total": {"quantity": 21, "revenue": "11.30"}},
        )

    def test_empty_file_with_header(self):
        code, out, _ = run("--format", "json", content="unit_price,quantity,product,region\n")
        self.assertEqual(code, 0)
        self.assertEqual(json.loads(out), {"groups": [], "total": {"quantity": 0, "revenue": "0.00"}})
        code, out, _ = run(content="unit_price,quantity,product,region\n")
        self.assertEqual(out, "TOTAL\t0\t0.00\n")

    def test_errors(self):
        code, out, err = run(content=None)
        self.assertEqual((code, out), (2, ""))
        self.assertTrue(err.strip())
        code, out, err = run(content="region,product,quantity\nN,a,1\n")
        self.assertEqual((code, out), (2, ""))
        self.assertIn("unit_price", err)
        code, out, err = run("--by", "colour")
        self.assertEqual((code, out), (2, ""))
        self.assertIn("colour", err)
        code, out, err = run(content="region,product,quantity,unit_price\nN,a,1,0.5\nN,b,two,0.5\n")
        self.assertEqual((code, out), (2, ""))
        self.assertIn("3", err)
        code, out, err = run(content="region,product,quantity,unit_price\nN,a,1,0.5\n\nN,b,1,abc\n")
        self.assertEqual((code, out), (2, ""))
        self.assertIn("4", err)

    def test_usage_errors(self):
        for args in (("--top", "0"), ("--top", "x"), ("--format", "xml"), ("--bogus",)):
            code, out, _ = run(*args)
            self.assertEqual((code, out), (2, ""), args)


if __name__ == "__main__":
    unittest.main()
