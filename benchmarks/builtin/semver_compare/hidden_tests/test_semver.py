import random
import unittest

from semver import Version, max_satisfying

ORDERED = [
    "1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta", "1.0.0-beta.2", "1.0.0-beta.11",
    "1.0.0-rc.1", "1.0.0", "1.0.1", "1.2.0", "1.10.0", "2.0.0-0", "2.0.0-1", "2.0.0-1a", "2.0.0", "10.0.0",
]


class ParseTest(unittest.TestCase):
    def test_valid(self):
        v = Version.parse("1.2.3-rc.1+build.007")
        self.assertEqual((v.major, v.minor, v.patch), (1, 2, 3))
        self.assertEqual(v.prerelease, ("rc", "1"))
        self.assertEqual(v.build, ("build", "007"))
        self.assertEqual(str(v), "1.2.3-rc.1+build.007")
        for text in ("0.0.0", "1.0.0-0A.is.legal", "1.0.0+0.build.1-rc.10000aaa-kk-0.1", "1.0.0-x-y-z.--",
                     "99999999999999999999.0.0", "1.0.0-00a"):
            self.assertEqual(str(Version.parse(text)), text)

    def test_invalid(self):
        for text in ("1.2", "v1.2.3", "1.2.3-", "1.2.3-a..b", " 1.2.3", "01.2.3", "1.02.3", "1.2.3-01",
                     "1.2.3+", "1.2.3+a..b", "1.2.3-a_b", "1.2.3.4", "", "1.2.-3", "1.2.3-+b"):
            with self.assertRaises(ValueError, msg=text):
                Version.parse(text)


class OrderTest(unittest.TestCase):
    def test_precedence(self):
        versions = [Version.parse(t) for t in ORDERED]
        for a, b in zip(versions, versions[1:]):
            self.assertLess(a, b)
            self.assertGreater(b, a)
            self.assertNotEqual(a, b)
        shuffled = versions[:]
        random.Random(1).shuffle(shuffled)
        self.assertEqual([str(v) for v in sorted(shuffled)], ORDERED)

    def test_build_ignored(self):
        a, b = Version.parse("1.0.0+a"), Version.parse("1.0.0+b")
        self.assertEqual(a, b)
        self.assertEqual(hash(a), hash(b))
        self.assertTrue(a <= b and a >= b)
        self.assertEqual(len({a, b, Version.parse("1.0.0")}), 1)


class MaxSatisfyingTest(unittest.TestCase):
    VERSIONS = ["1.2.3", "1.9.0", "2.0.0-rc.1", "2.0.0", "2.1.0-beta", "2.1.0", "3.0.0", "garbage", "1.10.0"]

    def test_ranges(self):
        self.assertEqual(max_satisfying(self.VERSIONS, ">=1.2.0 <2.0.0"), "1.10.0")
        self.assertEqual(max_satisfying(self.VERSIONS, ">=2.0.0"), "3.0.0")
        self.assertEqual(max_satisfying(self.VERSIONS, "<2.1.0"), "2.0.0")
        self.assertEqual(max_satisfying(self.VERSIONS, "1.2.3"), "1.2.3")
        self.assertEqual(max_satisfying(self.VERSIONS, "=1.9.0"), "1.9.0")
        self.assertIsNone(max_satisfying(self.VERSIONS, ">3.0.0"))
        self.assertIsNone(max_satisfying([], ">=0.0.0"))

    def test_prereleases(self):
        self.assertEqual(max_satisfying(self.VERSIONS, ">=2.0.0-rc.0 <2.0.0"), "2.0.0-rc.1")
        self.assertIsNone(max_satisfying(self.VERSIONS, ">1.10.0 <2.0.0"))
        self.assertEqual(max_satisfying(self.VERSIONS, ">=2.1.0-alpha <2.1.0"), "2.1.0-beta")
        self.assertEqual(max_satisfying(["2.1.0-beta", "2.0.5"], ">=2.0.0 <3.0.0"), "2.0.5")

    def test_returns_text_as_given(self):
        self.assertEqual(max_satisfying(["1.0.0+b1", "1.0.0"], "1.0.0"), "1.0.0+b1")

    def test_bad_spec(self):
        for spec in ("", ">=1.2", "~1.2.3", ">>1.0.0"):
            with self.assertRaises(ValueError, msg=spec):
                max_satisfying(self.VERSIONS, spec)


if __name__ == "__main__":
    unittest.main()
