import random
import re
import unittest

from justify import justify


class JustifyTest(unittest.TestCase):
    def test_example(self):
        self.assertEqual(
            justify("This is an example of text justification.", 16),
            ["This    is    an", "example  of text", "justification."],
        )

    def test_uneven_gaps_go_left(self):
        self.assertEqual(justify("a b c d e", 8), ["a  b c d", "e"])
        self.assertEqual(justify("aa b c ddd eeee", 9), ["aa   b  c", "ddd eeee"])
        self.assertEqual(justify("aa b c dd eeeeeee", 9), ["aa b c dd", "eeeeeee"])
        self.assertEqual(
            justify("What must be acknowledgment shall be", 16),
            ["What   must   be", "acknowledgment  ", "shall be"],
        )

    def test_paragraphs(self):
        text = "  one two\nthree  \n\n \t \n\nfour five six\n\n\n"
        self.assertEqual(justify(text, 9), ["one   two", "three", "", "four five", "six"])
        self.assertEqual(justify("   \n\n ", 5), [])
        self.assertEqual(justify("", 5), [])

    def test_long_words(self):
        self.assertEqual(justify("a incomprehensibilities b", 5), ["a    ", "incomprehensibilities", "b"])
        self.assertEqual(justify("xyz", 1), ["xyz"])

    def test_invalid_width(self):
        for bad in (0, -1, 2.5, "10", None):
            with self.assertRaises(ValueError):
                justify("a b", bad)

    def test_properties(self):
        rng = random.Random(12)
        vocab = ["a", "be", "sea", "dune", "river", "mountains", "x"]
        for _ in range(200):
            width = rng.randint(5, 30)
            words = [rng.choice(vocab) for _ in range(rng.randint(1, 40))]
            lines = justify(" ".join(words), width)
            self.assertEqual(" ".join(lines).split(), words)
            for line in lines[:-1]:
                if len(line.split()) == 1 and len(line.split()[0]) > width:
                    self.assertEqual(line, line.strip())
                    continue
                self.assertEqual(len(line), width, lines)
                runs = [len(r) for r in re.findall(r" +", line.rstrip())]
                if runs:
                    self.assertLessEqual(max(runs) - min(runs), 1)
                    self.assertEqual(runs, sorted(runs, reverse=True))
            self.assertEqual(lines[-1], " ".join(lines[-1].split()))
            for i in range(len(lines) - 1):
                next_word = lines[i + 1].split()[0]
                self.assertGreater(len(" ".join(lines[i].split() + [next_word])), width)


if __name__ == "__main__":
    unittest.main()
