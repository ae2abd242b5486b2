"""Signals the engine acts on, and the kinds of stop the command line turns into exit codes (a light module)."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

# Why a run stopped, as the command line reports it (see the exit codes in hgm/cli.py).
BUDGET, DONE, INTERRUPTED, ERRORS = "budget", "done", "interrupted", "errors"


class Interrupts:
    """SIGINT and SIGTERM, counted: the handler only records them and the engine's main loop acts on them."""

    def __init__(self) -> None:
        self.count = 0
        self.last = signal.SIGINT

    def _record(self, signum: int, frame: FrameType | None) -> None:
        # Nothing more may happen here: the main thread can be inside any lock (the archive's, an Event's) when a
        # signal lands, and a handler that waits for such a lock waits for itself.
        self.count += 1
        self.last = signal.Signals(signum)

    @contextmanager
    def installed(self) -> Iterator[Interrupts]:
        """Count the signals that arrive while the block runs (only the main thread receives signals)."""
        if threading.current_thread() is not threading.main_thread():
            yield self
            return
        previous = {sig: signal.signal(sig, self._record) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield self
        finally:
            for sig, old in previous.items():
                signal.signal(sig, old)
