"""Counting words in text."""


def words(text):
    """The lower-cased words of text, in order."""
    raise NotImplementedError


def top_words(text, n, stopwords=()):
    """The n most frequent words as (word, count), most frequent first, ties alphabetical."""
    raise NotImplementedError
