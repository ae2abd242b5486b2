"""hgm: a self-improving coding agent driven by a Huxley-Goedel-Machine tree search."""

__version__ = "0.1.0"
