import unittest

from anagrams import find_anagrams, group_anagrams


class GroupTest(unittest.TestCase):
    def test_example(self):
        phrases = ["listen", "Google", "silent", "enlist", "gogole", "cat", "act", "tac", "dog"]
        self.assertEqual(
            group_anagrams(phrases),
            [["listen", "silent", "enlist"], ["Google", "gogole"], ["cat", "act", "tac"], ["dog"]],
        )

    def test_case_punctuation_and_duplicates(self):
        phrases = ["Dormitory", "dirty room!", "Dormitory", "DORMITORY", "a gentleman", "elegant man", "x"]
        self.assertEqual(
            group_anagrams(phrases),
            [["Dormitory", "dirty room!", "DORMITORY"], ["a gentleman", "elegant man"], ["x"]],
        )

    def test_letterless(self):
        self.assertEqual(group_anagrams(["123", "!!", "ab", "", "ba", "123"]), [["123"], ["!!"], ["ab", "ba"], [""]])
        self.assertEqual(group_anagrams([]), [])

    def test_counts_matter(self):
        self.assertEqual(group_anagrams(["aab", "abb", "bab"]), [["aab"], ["abb", "bab"]])


class FindTest(unittest.TestCase):
    def test_example(self):
        self.assertEqual(
            find_anagrams("listen", ["enlists", "google", "inlets", "banana", "Silent", "Listen!", "tinsel"]),
            ["inlets", "Silent", "tinsel"],
        )

    def test_edges(self):
        self.assertEqual(find_anagrams("", ["", "!"]), [])
        self.assertEqual(find_anagrams("ab", ["b a", "ba!", "ab", "abb"]), ["b a", "ba!"])
        self.assertEqual(find_anagrams("Éa", ["aé", "ae"]), ["aé"])


if __name__ == "__main__":
    unittest.main()
