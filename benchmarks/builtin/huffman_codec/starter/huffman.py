"""Huffman coding of byte strings."""


def code_lengths(data):
    raise NotImplementedError


def canonical_codes(lengths):
    raise NotImplementedError


def compress(data):
    raise NotImplementedError


def decompress(blob):
    raise NotImplementedError
