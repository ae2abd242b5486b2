"""Reading INI-style configuration files."""


class ConfigError(ValueError):
    """Malformed configuration text or an unusable value."""


class Config:
    pass


def load(text):
    raise NotImplementedError
