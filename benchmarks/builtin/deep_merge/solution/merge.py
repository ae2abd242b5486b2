"""Recursive merging of nested dictionaries."""

import copy


class _Delete:
    def __repr__(self):
        return "DELETE"


DELETE = _Delete()


def _clean(value):
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items() if v is not DELETE}
    return copy.deepcopy(value)


def deep_merge(base, override):
    """A new dict: base updated recursively with override; DELETE values remove keys."""
    if not isinstance(base, dict) or not isinstance(override, dict):
        raise TypeError("deep_merge needs two dicts")
    result = {k: _clean(v) for k, v in base.items()}
    for key, value in override.items():
        if value is DELETE:
            result.pop(key, None)
        elif isinstance(value, dict) and isinstance(base.get(key), dict):
            result[key] = deep_merge(base[key], value)
        else:
            result[key] = _clean(value)
    return result
