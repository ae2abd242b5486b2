"""Classical ciphers."""


def caesar(text, shift):
    """Shift ASCII letters by shift places, keeping case."""
    raise NotImplementedError


def vigenere(text, key, decrypt=False):
    """Vigenère cipher over ASCII letters; the key advances only on letters."""
    raise NotImplementedError
