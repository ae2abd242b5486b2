"""A real model for the `realmodel` tests: llama.cpp's server and a GGUF model from hgm's cache, started once per
session on 127.0.0.1. Without them every test here is skipped, and the reason is printed at the end of the run."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]


def _load_real_model() -> ModuleType:
    """benchmarks/real_model.py, which owns the cache layout and how the server is started."""
    spec = importlib.util.spec_from_file_location("real_model", REPO / "benchmarks" / "real_model.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("real_model", module)
    spec.loader.exec_module(module)
    return module


real_model = _load_real_model()
MODEL = real_model.MODELS[real_model.DEFAULT_MODEL]
MISSING = real_model.missing(MODEL)
SKIP_REASON = f"realmodel tests need a cached llama-server and model: {MISSING}"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.path).parents:
            item.add_marker(pytest.mark.realmodel)
            if MISSING:
                item.add_marker(pytest.mark.skip(reason=SKIP_REASON))


def pytest_terminal_summary(terminalreporter: Any) -> None:
    # -q hides skip reasons; this one says what to run to get the tests, so it is always shown.
    if MISSING and terminalreporter.stats.get("skipped"):
        terminalreporter.write_line(f"realmodel: skipped; {SKIP_REASON}", yellow=True)


@pytest.fixture(scope="session")
def llama(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The cached model served on loopback, greedy (temperature 0) so that answers repeat."""
    log = tmp_path_factory.mktemp("llama") / "llama-server.log"
    with real_model.serve(MODEL, log, extra=("--temp", "0", "--seed", "1")) as server:
        yield server
