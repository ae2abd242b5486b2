"""Summaries of web server access logs."""


def analyze(lines):
    raise NotImplementedError
