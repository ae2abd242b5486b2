"""The environment sandboxed code sees: a minimal base plus what the caller passes, nothing from the host."""

from __future__ import annotations

BASE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def sandbox_env(home: str, *layers: dict[str, str] | None) -> dict[str, str]:
    """PATH, HOME and LANG, overlaid with each of `layers` in turn."""
    env = {"PATH": BASE_PATH, "HOME": home, "LANG": "C.UTF-8"}
    for layer in layers:
        env.update(layer or {})
    return env
