"""Querying and updating nested JSON-like data with path expressions."""


def query(data, path):
    raise NotImplementedError


def set_path(data, path, value):
    raise NotImplementedError
