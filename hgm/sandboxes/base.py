"""What every backend adds to the Sandbox protocol: closing by `with`."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol, Self

from hgm.interfaces import Sandbox

# Where docker and bwrap sandboxes find the secrets they were opened with, one file per name.
SECRETS_DIR = "/run/hgm/secrets"
SECRET_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}")


class SandboxError(RuntimeError):
    """The sandbox itself failed (could not start, or broke), as opposed to the command run in it."""


class SandboxUnavailable(RuntimeError):
    """The requested sandbox backend cannot run on this machine."""


@dataclass(frozen=True)
class Usage:
    """What a sandbox used so far, by the accounting of the cgroup that holds it."""

    cpu_seconds: float
    periods: int  # CPU-quota periods in which it ran
    throttled: int  # of those, the periods in which it hit the quota
    memory_peak: int | None  # most bytes charged at once, where the kernel reports it


class ManagedSandbox(Sandbox, Protocol):
    """A Sandbox that closes itself at the end of a `with` block and reports what it used."""

    def usage(self) -> Usage | None:
        """Resources used so far, or None where no cgroup accounts for the sandbox."""
        ...

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


def check_secrets(secrets: dict[str, str] | None, mounts: dict[str, str] | None = None) -> dict[str, bytes]:
    """The secrets as file contents, after checking each name is a plain file name and no mount hides them."""
    for name in secrets or {}:
        if not SECRET_NAME.fullmatch(name):
            raise ValueError(
                f"secret name {name!r} is not a plain file name: use letters, digits, '_', '.' and '-' (at most 64)"
            )
    for inside in (mounts or {}).values() if secrets else ():
        target = inside.rstrip("/")
        if SECRETS_DIR.startswith(target + "/") or target == SECRETS_DIR or target.startswith(SECRETS_DIR + "/"):
            raise ValueError(f"the mount at {inside} would cover the secrets directory {SECRETS_DIR}; mount elsewhere")
    return {name: value.encode() for name, value in (secrets or {}).items()}
