import random
import string
import unittest

from ciphers import caesar, vigenere


class CaesarTest(unittest.TestCase):
    def test_examples(self):
        self.assertEqual(caesar("Hello, World!", 3), "Khoor, Zruog!")
        self.assertEqual(caesar("xyz XYZ", 3), "abc ABC")
        self.assertEqual(caesar("abc", -1), "zab")
        self.assertEqual(caesar("abc", 27), "bcd")
        self.assertEqual(caesar("abc", -53), "zab")
        self.assertEqual(caesar("été 42!", 1), "éué 42!")
        self.assertEqual(caesar("", 5), "")

    def test_inverse(self):
        rng = random.Random(1)
        for _ in range(200):
            text = "".join(rng.choice(string.printable) for _ in range(30))
            shift = rng.randint(-100, 100)
            self.assertEqual(caesar(caesar(text, shift), -shift), text)


class VigenereTest(unittest.TestCase):
    def test_examples(self):
        self.assertEqual(vigenere("Attack at dawn!", "Lemon"), "Lxfopv ef rnhr!")
        self.assertEqual(vigenere("Lxfopv ef rnhr!", "LEMON", decrypt=True), "Attack at dawn!")
        self.assertEqual(vigenere("a-b-c", "b"), "b-c-d")
        self.assertEqual(vigenere("ABC", "a"), "ABC")
        self.assertEqual(vigenere("zz", "bc"), "ab")
        self.assertEqual(vigenere("naïve", "ab"), "nbïvf")

    def test_round_trip(self):
        rng = random.Random(2)
        for _ in range(200):
            text = "".join(rng.choice(string.ascii_letters + " .,é") for _ in range(40))
            key = "".join(rng.choice(string.ascii_letters) for _ in range(rng.randint(1, 8)))
            self.assertEqual(vigenere(vigenere(text, key), key, decrypt=True), text)

    def test_bad_key(self):
        for bad in ("", "ab1", "a b", "é", None):
            with self.assertRaises(ValueError, msg=repr(bad)):
                vigenere("text", bad)


if __name__ == "__main__":
    unittest.main()
