"""Grouping and finding anagrams."""


def group_anagrams(phrases):
    raise NotImplementedError


def find_anagrams(phrase, candidates):
    raise NotImplementedError
