"""Counting words in text."""

from collections import Counter


def words(text):
    """The lower-cased words of text, in order."""
    result = []
    current = []
    for ch in text + " ":
        if ch.isalpha() or ch == "'":
            current.append(ch)
            continue
        word = "".join(current).strip("'")
        if word:
            result.append(word.lower())
        current = []
    return result


def top_words(text, n, stopwords=()):
    """The n most frequent words as (word, count), most frequent first, ties alphabetical."""
    if not isinstance(n, int) or isinstance(n, bool) or n < 0:
        raise ValueError("n must be a non-negative integer")
    stop = {w.lower() for w in stopwords}
    counts = Counter(w for w in words(text) if w not in stop)
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:n]
