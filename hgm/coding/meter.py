"""Model spending per piece of work: every call goes to the archive, and each job takes its own total back."""

from __future__ import annotations

import threading
from collections import defaultdict

from hgm.archive import Archive

# Gateway error codes that say the model cannot be reached at all: a task run that met one proves nothing about
# the agent, so it is an infrastructure error rather than a failed task.
UNREACHABLE = (
    "provider_key_missing",
    "provider_model_not_found",
    "provider_auth_failed",
    "provider_permission_denied",
    "provider_payment_required",
    "provider_unreachable",
    "provider_unavailable",
    "provider_timeout",
    "rate_limited",
    "provider_error",
    "gateway_error",
)


class CostMeter:
    """Records every model call in the archive and keeps per-(node, purpose) totals for the work that made them."""

    def __init__(self, archive: Archive) -> None:
        self.archive = archive
        self._costs: dict[tuple[int | None, str], float] = defaultdict(float)
        self._unreachable: dict[tuple[int | None, str], str] = {}
        self._lock = threading.Lock()

    def record_llm_call(
        self,
        *,
        node_id: int | None,
        purpose: str,
        model: str,
        prompt_tokens: int,
        completion_tokens: int,
        cost: float,
        latency: float,
        error: str | None,
    ) -> None:
        self.archive.record_llm_call(
            node_id=node_id,
            purpose=purpose,
            model=model,
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            cost=cost,
            latency=latency,
            error=error,
        )
        with self._lock:
            self._costs[(node_id, purpose)] += cost
            if error and error.startswith(UNREACHABLE):
                self._unreachable[(node_id, purpose)] = error

    def take(self, node_id: int | None, purpose: str) -> float:
        with self._lock:
            return self._costs.pop((node_id, purpose), 0.0)

    def take_unreachable(self, node_id: int | None, purpose: str) -> str:
        """The last error that showed the model unreachable during this work, or ''."""
        with self._lock:
            return self._unreachable.pop((node_id, purpose), "")
