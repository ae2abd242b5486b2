"""Temperatures in Celsius, Fahrenheit, Kelvin and Rankine."""

import re

_TO_KELVIN = {
    "C": lambda v: v + 273.15,
    "F": lambda v: (v + 459.67) * 5 / 9,
    "K": lambda v: v,
    "R": lambda v: v * 5 / 9,
}
_FROM_KELVIN = {
    "C": lambda k: k - 273.15,
    "F": lambda k: k * 9 / 5 - 459.67,
    "K": lambda k: k,
    "R": lambda k: k * 9 / 5,
}
_PATTERN = re.compile(r"\s*([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)\s*°?([CFKRcfkr])\s*", re.ASCII)


def _unit(unit):
    if not isinstance(unit, str) or unit.upper() not in _TO_KELVIN:
        raise ValueError(f"unknown unit {unit!r}")
    return unit.upper()


def convert(value, from_unit, to_unit):
    kelvin = _TO_KELVIN[_unit(from_unit)](value)
    if kelvin < -1e-9:
        raise ValueError("below absolute zero")
    return _FROM_KELVIN[_unit(to_unit)](max(kelvin, 0.0))


def parse(text):
    match = _PATTERN.fullmatch(text)
    if not match:
        raise ValueError(f"not a temperature: {text!r}")
    value, unit = float(match.group(1)), match.group(2).upper()
    convert(value, unit, "K")
    return value, unit


def format_temperature(value, unit, digits=1):
    unit = _unit(unit)
    number = round(value, digits) + 0.0
    if number == 0:
        number = 0.0
    return f"{number:.{digits}f} {'' if unit == 'K' else '°'}{unit}"
