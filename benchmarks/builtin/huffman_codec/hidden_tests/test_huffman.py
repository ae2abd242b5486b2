import heapq
import math
import random
import unittest
from collections import Counter

import huffman
from huffman import canonical_codes, code_lengths, compress, decompress


def optimal_bits(data):
    counts = list(Counter(data).values())
    if len(counts) <= 1:
        return len(data)
    heapq.heapify(counts)
    total = 0
    while len(counts) > 1:
        merged = heapq.heappop(counts) + heapq.heappop(counts)
        total += merged
        heapq.heappush(counts, merged)
    return total


class LengthsTest(unittest.TestCase):
    def test_optimal_and_prefix_free(self):
        rng = random.Random(1)
        samples = [b"abracadabra", b"aaaaabbbbcccdde", bytes(range(256)), b"x" * 50 + b"y"]
        samples += [bytes(rng.choice(b"abcdefgh") for _ in range(rng.randint(2, 300))) for _ in range(30)]
        for data in samples:
            lengths = code_lengths(data)
            counts = Counter(data)
            self.assertEqual(set(lengths), set(counts))
            self.assertEqual(sum(counts[s] * n for s, n in lengths.items()), optimal_bits(data), data[:20])
            self.assertLessEqual(sum(2.0 ** -n for n in lengths.values()), 1.0)

    def test_degenerate(self):
        self.assertEqual(code_lengths(b""), {})
        self.assertEqual(code_lengths(b"zzzz"), {ord("z"): 1})


class CanonicalTest(unittest.TestCase):
    def test_example(self):
        self.assertEqual(canonical_codes({65: 2, 66: 1, 67: 3, 68: 3}), {66: "0", 65: "10", 67: "110", 68: "111"})
        self.assertEqual(canonical_codes({5: 1}), {5: "0"})
        self.assertEqual(canonical_codes({1: 2, 2: 2, 3: 2, 4: 3, 5: 3}),
                         {1: "00", 2: "01", 3: "10", 4: "110", 5: "111"})
        self.assertEqual(canonical_codes({9: 3, 7: 3, 8: 1, 6: 2}), {8: "0", 6: "10", 7: "110", 9: "111"})


class RoundTripTest(unittest.TestCase):
    def test_round_trip(self):
        rng = random.Random(2)
        samples = [b"", b"a", b"ab", b"\x00" * 1000, bytes(range(256)) * 3, "héllo wörld".encode() * 40]
        samples += [bytes(rng.getrandbits(8) for _ in range(rng.randint(0, 2000))) for _ in range(10)]
        samples += [bytes(rng.choice(b"ACGT") for _ in range(5000))]
        for data in samples:
            self.assertEqual(decompress(compress(data)), data)

    def test_size_bound(self):
        rng = random.Random(3)
        weights = [2 ** -(i // 8) for i in range(256)]
        for data in (bytes(rng.choices(range(256), weights, k=20000)), b"ab" * 5000 + b"c", bytes(range(256)) * 8):
            bound = math.ceil(optimal_bits(data) / 8) + 300
            self.assertLessEqual(len(compress(data)), bound)
            self.assertEqual(decompress(compress(data)), data)

    def test_corrupt(self):
        blob = compress(b"hello huffman world" * 10)
        for bad in (blob[:2], blob[:6], blob[: len(blob) // 2], blob[:-3]):
            with self.assertRaises(ValueError):
                decompress(bad)

    def test_no_library_compression(self):
        with open(huffman.__file__) as f:
            source = f.read()
        for name in ("zlib", "bz2", "lzma", "gzip", "zipfile"):
            self.assertNotIn("import " + name, source)


if __name__ == "__main__":
    unittest.main()
