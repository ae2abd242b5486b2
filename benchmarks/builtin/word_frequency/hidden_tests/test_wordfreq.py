import unittest

from wordfreq import top_words, words


class WordsTest(unittest.TestCase):
    def test_example(self):
        self.assertEqual(
            words("Don't stop-believing, 'Rock'n'roll' 42x"),
            ["don't", "stop", "believing", "rock'n'roll", "x"],
        )

    def test_edges(self):
        self.assertEqual(words(""), [])
        self.assertEqual(words("''' ' 123 --"), [])
        self.assertEqual(words("Über straße ÉTÉ"), ["über", "straße", "été"])
        self.assertEqual(words("a1b2c"), ["a", "b", "c"])
        self.assertEqual(words("end."), ["end"])
        self.assertEqual(words("tab\tnew\nline"), ["tab", "new", "line"])
        self.assertEqual(words("''quoted''"), ["quoted"])


class TopWordsTest(unittest.TestCase):
    TEXT = "the cat and the hat; The bat and THE rat. A cat!"

    def test_counts_and_order(self):
        self.assertEqual(top_words(self.TEXT, 3), [("the", 4), ("and", 2), ("cat", 2)])
        self.assertEqual(top_words(self.TEXT, 0), [])

    def test_all_when_n_large(self):
        self.assertEqual(
            top_words(self.TEXT, 100),
            [("the", 4), ("and", 2), ("cat", 2), ("a", 1), ("bat", 1), ("hat", 1), ("rat", 1)],
        )

    def test_stopwords_case_insensitive(self):
        self.assertEqual(top_words(self.TEXT, 2, stopwords=["THE", "And"]), [("cat", 2), ("a", 1)])

    def test_bad_n(self):
        for bad in (-1, 2.0, "3", None):
            with self.assertRaises(ValueError):
                top_words(self.TEXT, bad)


if __name__ == "__main__":
    unittest.main()
