"""Rendering and parsing Markdown tables."""


def render(rows, columns=None, align=None):
    raise NotImplementedError


def parse(text):
    raise NotImplementedError
