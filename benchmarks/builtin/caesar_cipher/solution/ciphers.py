"""Classical ciphers."""

import string


def _shift(ch, amount):
    for alphabet in (string.ascii_lowercase, string.ascii_uppercase):
        if ch in alphabet:
            return alphabet[(alphabet.index(ch) + amount) % 26]
    return ch


def caesar(text, shift):
    """Shift ASCII letters by shift places, keeping case."""
    return "".join(_shift(ch, shift) for ch in text)


def vigenere(text, key, decrypt=False):
    """Vigenère cipher over ASCII letters; the key advances only on letters."""
    if not isinstance(key, str) or not key or not all(ch in string.ascii_letters for ch in key):
        raise ValueError("key must be a non-empty string of ASCII letters")
    shifts = [string.ascii_lowercase.index(ch) for ch in key.lower()]
    out = []
    position = 0
    for ch in text:
        if ch in string.ascii_letters:
            amount = shifts[position % len(shifts)]
            out.append(_shift(ch, -amount if decrypt else amount))
            position += 1
        else:
            out.append(ch)
    return "".join(out)
