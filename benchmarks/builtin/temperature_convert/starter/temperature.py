"""Temperatures in Celsius, Fahrenheit, Kelvin and Rankine."""


def convert(value, from_unit, to_unit):
    raise NotImplementedError


def parse(text):
    raise NotImplementedError


def format_temperature(value, unit, digits=1):
    raise NotImplementedError
