"""Parsing and formatting of durations like 1h30m."""


def parse_duration(text):
    """Seconds in a duration such as '2d 4h' or '90m'."""
    raise NotImplementedError


def format_duration(seconds):
    """Canonical text for a number of seconds, e.g. '1d2h3m4s'."""
    raise NotImplementedError
