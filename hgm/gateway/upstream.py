"""The provider side of the gateway: turning a client request into a litellm call, with retries and prices."""

from __future__ import annotations

import ipaddress
import json
import logging
import math
import os
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any
from urllib.parse import urlsplit

from hgm.gateway.config import GatewayConfig, ModelConfig
from hgm.gateway.errors import GatewayError, failure_for, redact, retry_after, retry_delay

log = logging.getLogger("hgm.gateway")

# Request fields passed on to the provider; anything else (api_base, api_key, ...) is refused.
PASSTHROUGH = frozenset(
    {
        "messages",
        "tools",
        "tool_choice",
        "parallel_tool_calls",
        "functions",
        "function_call",
        "temperature",
        "top_p",
        "n",
        "stop",
        "max_tokens",
        "max_completion_tokens",
        "presence_penalty",
        "frequency_penalty",
        "logit_bias",
        "logprobs",
        "top_logprobs",
        "response_format",
        "seed",
        "user",
        "reasoning_effort",
    }
)
_IGNORED = frozenset({"model", "stream"})
_SECRET_NAME = re.compile(r"KEY|TOKEN|SECRET|PASSWORD|CREDENTIAL", re.I)
_load_lock = threading.Lock()
# Sent to a server on this machine that was given no key variable: such servers (llama.cpp, vLLM, Ollama) need
# none, and the provider's usual key (e.g. a real OPENAI_API_KEY) must not go to whoever listens on a local port.
PLACEHOLDER_KEY = "hgm-local-no-key"
# The prompt's token count is estimated with litellm's tokenizer, which may differ from the provider's; the margin
# keeps the cost held before a call an upper bound.
_PROMPT_MARGIN = 1.1
_PROMPT_SLACK = 16


def load_litellm() -> ModuleType:
    """Import litellm configured for hgm: bundled price list (no network at import), quiet, scripted provider."""
    with _load_lock:
        os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
        import litellm

        from hgm.models.scripted import install

        litellm.suppress_debug_info = True
        install()
        return litellm


def secret_values(extra: str | None = None) -> set[str]:
    """Values that must never leave the gateway: the key in use and every secret-looking environment variable."""
    found = {v for k, v in os.environ.items() if _SECRET_NAME.search(k) and len(v) >= 8}
    if extra:
        found.add(extra)
    return found


def key_variables(config: ModelConfig) -> list[str]:
    """Environment variables that hold (or should hold) the API key for a model."""
    if config.api_key_env:
        return [config.api_key_env]
    litellm = load_litellm()
    try:
        missing = litellm.validate_environment(model=config.model, api_base=config.api_base)["missing_keys"]
        provider = litellm.get_llm_provider(model=config.model)[1]
    except Exception:  # an unknown provider has no conventional variable
        return []
    return list(missing) or [f"{str(provider).upper()}_API_KEY"]


def is_loopback(url: str | None) -> bool:
    """Whether `url` names this machine by a loopback address or localhost (no name lookup is made)."""
    host = urlsplit(url).hostname if url else None
    if not host:
        return False
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def api_key(alias: str, config: ModelConfig) -> str | None:
    """The key from `api_key_env`; a placeholder for a loopback server without one; else None (litellm's default)."""
    if not config.api_key_env:
        return PLACEHOLDER_KEY if is_loopback(config.api_base) else None
    value = os.environ.get(config.api_key_env)
    if not value:
        raise GatewayError(
            502,
            "provider_key_missing",
            f"model alias {alias!r} ({config.model}) reads its API key from ${config.api_key_env}, which is not set: "
            "export it in the environment that runs hgm",
            kind="api_error",
        )
    return value


def build_call(
    alias: str, config: ModelConfig, request: dict[str, Any], gateway: GatewayConfig
) -> tuple[dict[str, Any], str | None]:
    """Keyword arguments for litellm.completion from a client request, and the API key they carry."""
    messages = request.get("messages")
    if not isinstance(messages, list) or not messages or not all(isinstance(m, dict) for m in messages):
        raise GatewayError(400, "invalid_request", "'messages' must be a non-empty list of message objects")
    if request.get("stream"):
        raise GatewayError(400, "stream_unsupported", "the gateway answers whole completions: send stream=false")
    unknown = sorted(set(request) - PASSTHROUGH - _IGNORED)
    if unknown:
        raise GatewayError(
            400,
            "unsupported_parameter",
            f"unsupported request field(s) {', '.join(unknown)}; allowed: {', '.join(sorted(PASSTHROUGH))}",
        )
    # Counts decide the cost held before the call: they must be what the provider will read.
    if "max_tokens" in request and "max_completion_tokens" in request:
        raise GatewayError(400, "invalid_request", "send max_tokens or max_completion_tokens, not both")
    for name in ("max_tokens", "max_completion_tokens", "n"):
        value = request.get(name)
        if value is not None and (type(value) is not int or value < 1):
            raise GatewayError(400, "invalid_request", f"{name!r} must be a positive integer, not {value!r}")
    kwargs: dict[str, Any] = {k: v for k, v in request.items() if k in PASSTHROUGH}
    kwargs.update(config.extra_params)
    kwargs["model"] = config.model
    if config.temperature is not None and kwargs.get("temperature") is None:
        kwargs["temperature"] = config.temperature
    key = completion_key(kwargs)
    caps = [kwargs.get(key), config.max_tokens, gateway.max_tokens_per_call]
    limit = min((int(c) for c in caps if isinstance(c, int | float) and c > 0), default=None)
    if limit is not None:
        kwargs[key] = limit
    if config.api_base:
        kwargs["api_base"] = config.api_base
    secret = api_key(alias, config)
    if secret:
        kwargs["api_key"] = secret
    if config.input_cost_per_token is not None and config.output_cost_per_token is not None:
        kwargs["input_cost_per_token"] = config.input_cost_per_token
        kwargs["output_cost_per_token"] = config.output_cost_per_token
    # litellm drops what a provider does not support; retries are ours (max_retries=0 turns off the SDK's own).
    kwargs.update(timeout=config.timeout or gateway.timeout, max_retries=0, num_retries=0, drop_params=True)
    return kwargs, secret


def completion_key(kwargs: dict[str, Any]) -> str:
    """The request field that limits completion tokens in these litellm arguments."""
    return "max_completion_tokens" if "max_completion_tokens" in kwargs else "max_tokens"


@dataclass(frozen=True)
class Prices:
    """USD per prompt token and per completion token, and the most completion tokens one answer can have."""

    input: float
    output: float
    max_output: int | None = None


def prices(config: ModelConfig) -> Prices | None:
    """A model's token prices: the config's override, else litellm's list; None when unknown."""
    litellm = load_litellm()
    try:
        info = litellm.get_model_info(config.model)
    except Exception:  # litellm raises for any model missing from its price list
        info = {}
    limit = info.get("max_output_tokens")
    max_output = int(limit) if isinstance(limit, int) and limit > 0 else None
    if config.input_cost_per_token is not None and config.output_cost_per_token is not None:
        return Prices(config.input_cost_per_token, config.output_cost_per_token, max_output)
    inp, out = info.get("input_cost_per_token"), info.get("output_cost_per_token")
    if inp is None or out is None:
        return None
    return Prices(float(inp), float(out), max_output)


@dataclass(frozen=True)
class Estimate:
    """The worst case of one call before it is made: its prompt's cost and the cost of each completion token."""

    prompt_cost: float
    token_cost: float
    max_output: int | None


def estimate(config: ModelConfig, kwargs: dict[str, Any]) -> Estimate:
    """An upper bound on a call's cost (zero when the model's price is unknown)."""
    price = prices(config)
    if price is None:
        return Estimate(0.0, 0.0, None)
    litellm = load_litellm()
    try:
        counted = litellm.token_counter(model=config.model, messages=kwargs["messages"], tools=kwargs.get("tools"))
    except Exception:  # no tokenizer: every byte of the request counts as a token, which is never less
        counted = len(json.dumps([kwargs["messages"], kwargs.get("tools")], default=str).encode())
    prompt = math.ceil(counted * _PROMPT_MARGIN) + _PROMPT_SLACK
    n = kwargs.get("n")
    choices = n if isinstance(n, int) and n > 1 else 1
    return Estimate(prompt * price.input, price.output * choices, price.max_output)


def call(
    alias: str,
    config: ModelConfig,
    kwargs: dict[str, Any],
    gateway: GatewayConfig,
    secrets: set[str],
    wait: Callable[[float], bool],
) -> Any:
    """litellm.completion with the gateway's retries; raises GatewayError with a clear, key-free message."""
    litellm = load_litellm()
    attempt = 0
    while True:
        try:
            return litellm.completion(**kwargs)
        except Exception as exc:
            failure = failure_for(exc)
            detail = redact(" ".join(str(exc).split())[:600], secrets)
            if failure.retry and attempt < gateway.retries:
                delay = retry_delay(attempt, gateway.backoff, gateway.max_backoff, retry_after(exc))
                log.warning("%s (%s): %s; retry %d in %.2fs", alias, config.model, detail, attempt + 1, delay)
                if wait(delay):
                    raise GatewayError(503, "gateway_stopping", "the gateway is shutting down", "api_error") from None
                attempt += 1
                continue
            keys = ", ".join(key_variables(config)) or "the provider's API key variable"
            hint = failure.hint.format(model=f"{config.model} (alias {alias!r})", keys=keys)
            tried = f" after {attempt + 1} attempts" if attempt else ""
            raise GatewayError(
                failure.status, failure.code, f"{hint}{tried}. Provider said: {detail}", "api_error"
            ) from None


def cost(config: ModelConfig, response: Any) -> float:
    """USD cost of a response by litellm's price calculation; 0 when the model's price is unknown."""
    if prices(config) is None:
        # Nothing was held for an unpriced model, so nothing may be charged (a local server that names itself
        # after a priced model in its answers must not be billed as that model).
        return 0.0
    litellm = load_litellm()
    custom = None
    if config.input_cost_per_token is not None and config.output_cost_per_token is not None:
        custom = {
            "input_cost_per_token": config.input_cost_per_token,
            "output_cost_per_token": config.output_cost_per_token,
        }
    try:
        return float(litellm.completion_cost(completion_response=response, custom_cost_per_token=custom) or 0.0)
    except Exception:  # unknown models (local servers, scripted) have no price
        return 0.0


def usage(response: Any) -> tuple[int, int]:
    """(prompt tokens, completion tokens) reported in a response, 0 where missing."""
    found = getattr(response, "usage", None)
    return int(getattr(found, "prompt_tokens", 0) or 0), int(getattr(found, "completion_tokens", 0) or 0)
