"""What goes wrong behind the gateway: one table from provider errors to retry-or-not and a sentence for the user."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any


class GatewayError(Exception):
    """A call the gateway refused or could not complete, with its HTTP status and an OpenAI-style error code."""

    def __init__(self, status: int, code: str, message: str, kind: str = "invalid_request_error") -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.kind = kind

    @property
    def message(self) -> str:
        """The sentence shown to the caller."""
        return str(self)

    def body(self) -> dict[str, Any]:
        """The error as an OpenAI-format JSON body."""
        return {"error": {"message": self.message, "type": self.kind, "param": None, "code": self.code}}


@dataclass(frozen=True)
class Failure:
    """How to treat one kind of provider error; `hint` may use {model} and {keys}."""

    retry: bool
    status: int
    code: str
    hint: str


_KEY_MISSING = Failure(
    False, 502, "provider_key_missing", "no API key for {model}: set {keys} in the environment that runs hgm"
)
_MODEL_UNKNOWN = Failure(
    False,
    502,
    "provider_model_not_found",
    "the provider does not know the model {model}: fix the model name in the gateway config (`hgm doctor` checks it)",
)
_SERVER_ERROR = Failure(True, 502, "provider_error", "the provider of {model} failed")
_UNEXPECTED = Failure(False, 500, "gateway_error", "calling {model} failed unexpectedly")

# litellm's exception classes by name (it is imported lazily); subclasses come before their bases.
FAILURES: tuple[tuple[str, Failure], ...] = (
    (
        "ContextWindowExceededError",
        Failure(False, 400, "context_length_exceeded", "the conversation is longer than {model}'s context window"),
    ),
    (
        "ContentPolicyViolationError",
        Failure(False, 400, "content_policy_violation", "the provider of {model} refused this request's content"),
    ),
    (
        "PaymentRequiredError",
        Failure(False, 502, "provider_payment_required", "the account behind {keys} has no credit left for {model}"),
    ),
    (
        "AuthenticationError",
        Failure(
            False,
            502,
            "provider_auth_failed",
            "the provider rejected the API key for {model}: set a valid key in {keys} in the environment that runs hgm",
        ),
    ),
    (
        "PermissionDeniedError",
        Failure(False, 502, "provider_permission_denied", "the key in {keys} is not allowed to use {model}"),
    ),
    ("NotFoundError", _MODEL_UNKNOWN),
    ("RateLimitError", Failure(True, 429, "rate_limited", "the provider kept rate-limiting {model}")),
    ("Timeout", Failure(True, 504, "provider_timeout", "{model} did not answer within the gateway's timeout")),
    (
        "APIConnectionError",
        Failure(True, 502, "provider_unreachable", "could not reach the provider of {model}: check the network"),
    ),
    ("ServiceUnavailableError", Failure(True, 502, "provider_unavailable", "the provider of {model} is unavailable")),
    ("BadGatewayError", _SERVER_ERROR),
    ("InternalServerError", _SERVER_ERROR),
    (
        "UnprocessableEntityError",
        Failure(False, 400, "invalid_request", "the provider of {model} rejected the request"),
    ),
    ("BadRequestError", Failure(False, 400, "invalid_request", "the provider of {model} rejected the request")),
)

# Some providers report these conditions only in the message text, under a generic exception class.
_KEY_MISSING_TEXT = re.compile(
    r"missing credentials|api[_ ]?key\b.{0,60}\b(must be set|not set|not found|is missing|is required)|no api key", re.I
)
_MODEL_UNKNOWN_TEXT = re.compile(
    r"model\b.{0,80}\b(not found|does not exist|is not supported)|unknown model|llm provider not provided", re.I
)


def failure_for(exc: BaseException) -> Failure:
    """The table's entry for a litellm exception (by its message first, then by its class)."""
    import litellm

    text = str(exc)
    if _KEY_MISSING_TEXT.search(text):
        return _KEY_MISSING
    for name, failure in FAILURES:
        cls = getattr(litellm, name, None)
        if isinstance(cls, type) and isinstance(exc, cls):
            if failure.code == "invalid_request" and _MODEL_UNKNOWN_TEXT.search(text):
                return _MODEL_UNKNOWN
            return failure
    status = getattr(exc, "status_code", None)
    if isinstance(status, int) and status >= 500:
        return _SERVER_ERROR
    return _UNEXPECTED


def retry_after(exc: BaseException) -> float | None:
    """Seconds the provider asked us to wait (Retry-After or retry-after-ms header), if it said."""
    response = getattr(exc, "response", None)
    raw = getattr(response, "headers", None) or getattr(exc, "litellm_response_headers", None)
    if not raw:
        return None
    try:
        headers = {str(k).lower(): str(v) for k, v in dict(raw).items()}
    except (TypeError, ValueError):
        return None
    if "retry-after-ms" in headers:
        try:
            return max(0.0, float(headers["retry-after-ms"]) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def retry_delay(attempt: int, backoff: float, max_backoff: float, asked: float | None) -> float:
    """Wait before retry number `attempt` (0-based): exponential, at least what the provider asked, capped."""
    delay = backoff * 2**attempt
    if asked is not None:
        delay = max(delay, asked)
    return min(delay, max_backoff)


def redact(text: str, secrets: set[str]) -> str:
    """`text` with every secret replaced by `***`."""
    for secret in sorted(secrets, key=len, reverse=True):
        if secret:
            text = text.replace(secret, "***")
    return text
