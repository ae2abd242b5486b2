"""Greedy full justification of text."""


def justify(text, width):
    raise NotImplementedError
