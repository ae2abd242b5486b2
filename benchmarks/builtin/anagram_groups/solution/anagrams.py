"""Grouping and finding anagrams."""


def _letters(phrase):
    return "".join(ch for ch in phrase.lower() if ch.isalpha())


def _key(phrase):
    return "".join(sorted(_letters(phrase)))


def group_anagrams(phrases):
    groups = {}
    order = []
    seen = set()
    for index, phrase in enumerate(phrases):
        if phrase in seen:
            continue
        seen.add(phrase)
        key = _key(phrase) or ("", index)
        if key not in groups:
            groups[key] = []
            order.append(key)
        groups[key].append(phrase)
    return [groups[k] for k in order]


def find_anagrams(phrase, candidates):
    key, letters = _key(phrase), _letters(phrase)
    if not key:
        return []
    return [c for c in candidates if _key(c) == key and _letters(c) != letters]
