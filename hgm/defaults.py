"""Defaults of the settings the command line's help shows, as plain values.

The config models (hgm/config.py, hgm/sandboxes/config.py) take their defaults from here, and the command line
quotes them in its help without importing pydantic and building the models, which `hgm --help` and the read-only
views would otherwise pay for at every start.
"""

from typing import Final

WORLD: Final = "sim"
POLICY: Final = "hgm"
WORKERS: Final = 1
SEED: Final = 0
MAX_EVALS: Final = 100
LANDSCAPE: Final = "mixed"
SIM_LATENCY: Final = 0.0
MODEL: Final = "scripted/demo"
BENCHMARK: Final = "builtin"
SANDBOX_BACKEND: Final = "auto"
SANDBOX_IMAGE: Final = "hgm-sandbox:latest"
