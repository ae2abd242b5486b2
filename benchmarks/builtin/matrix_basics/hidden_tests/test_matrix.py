import copy
import random
import unittest

from matrix import identity, matmul, power, transpose


class MatrixTest(unittest.TestCase):
    def test_identity_and_transpose(self):
        self.assertEqual(identity(1), [[1]])
        self.assertEqual(identity(3), [[1, 0, 0], [0, 1, 0], [0, 0, 1]])
        self.assertEqual(transpose([[1, 2, 3], [4, 5, 6]]), [[1, 4], [2, 5], [3, 6]])
        self.assertEqual(transpose([[7]]), [[7]])

    def test_matmul(self):
        self.assertEqual(matmul([[1, 2], [3, 4]], [[5, 6], [7, 8]]), [[19, 22], [43, 50]])
        self.assertEqual(matmul([[1, 2, 3]], [[1], [2], [3]]), [[14]])
        self.assertEqual(matmul([[1], [2]], [[3, 4]]), [[3, 4], [6, 8]])
        self.assertEqual(matmul([[0.5, 1.5]], [[2], [2]]), [[4.0]])

    def test_power(self):
        fib = [[1, 1], [1, 0]]
        self.assertEqual(power(fib, 0), [[1, 0], [0, 1]])
        self.assertEqual(power(fib, 1), fib)
        self.assertEqual(power(fib, 10), [[89, 55], [55, 34]])
        self.assertEqual(power(fib, 90)[0][1], 2880067194370816120)
        self.assertEqual(power([[2]], 5, mod=7), [[4]])
        self.assertEqual(power([[5, 0], [0, 5]], 0, mod=1), [[0, 0], [0, 0]])

    def test_power_huge_exponent_mod(self):
        mod = 1_000_000_007
        fib = [[1, 1], [1, 0]]
        result = power(fib, 10**18, mod=mod)
        self.assertEqual(result[0][1], 209783453)
        for row in result:
            for x in row:
                self.assertTrue(0 <= x < mod)
        self.assertEqual(power([[-1, 2], [3, -4]], 3, mod=10), [[3, 4], [1, 2]])

    def test_no_mutation(self):
        rng = random.Random(5)
        a = [[rng.randint(-5, 5) for _ in range(3)] for _ in range(3)]
        b = [[rng.randint(-5, 5) for _ in range(3)] for _ in range(3)]
        before = copy.deepcopy((a, b))
        matmul(a, b)
        transpose(a)
        p = power(a, 1)
        p[0][0] = 1000
        power(b, 3, mod=4)
        self.assertEqual((a, b), before)

    def test_invalid(self):
        bad = [[], [[]], [[1, 2], [3]], "x", [1, 2], None]
        for m in bad:
            with self.assertRaises(ValueError, msg=repr(m)):
                transpose(m)
            with self.assertRaises(ValueError, msg=repr(m)):
                matmul(m, [[1]])
        with self.assertRaises(ValueError):
            matmul([[1, 2]], [[1, 2]])
        with self.assertRaises(ValueError):
            power([[1, 2]], 2)
        with self.assertRaises(ValueError):
            power([[1]], -1)
        for n in (0, -1):
            with self.assertRaises(ValueError):
                identity(n)


if __name__ == "__main__":
    unittest.main()
