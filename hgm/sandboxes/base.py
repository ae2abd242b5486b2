"""What every backend adds to the Sandbox protocol: closing by `with`."""

from __future__ import annotations

from typing import Protocol, Self

from hgm.interfaces import Sandbox


class SandboxError(RuntimeError):
    """The sandbox itself failed (could not start, or broke), as opposed to the command run in it."""


class ManagedSandbox(Sandbox, Protocol):
    """A Sandbox that closes itself at the end of a `with` block."""

    def __enter__(self) -> Self: ...

    def __exit__(self, *exc: object) -> None: ...


class ClosesOnExit:
    """Mixin: `with backend(...) as sandbox:` calls close() however the block ends."""

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
