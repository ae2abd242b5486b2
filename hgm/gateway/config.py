"""Typed configuration of the LLM gateway: which models agents may ask for, and what they may spend."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

# Arguments that would let a config carry a secret or re-route calls behind the gateway's back.
_RESERVED_PARAMS = frozenset({"api_key", "api_base", "base_url", "model", "messages", "mock_response"})


class ModelConfig(BaseModel):
    """One model the gateway can call through litellm."""

    model_config = ConfigDict(extra="forbid")

    model: str = Field(min_length=1, description="litellm model name, e.g. openai/gpt-4o-mini or scripted/demo.")
    api_base: str | None = Field(
        default=None, description="Endpoint URL for local or self-hosted servers (vLLM, Ollama)."
    )
    api_key_env: str | None = Field(
        default=None, description="Environment variable holding the API key; default: the provider's usual variable."
    )
    temperature: float | None = Field(
        default=None, ge=0, description="Temperature used when a request does not set one."
    )
    max_tokens: int | None = Field(
        default=None, gt=0, description="Upper bound on completion tokens for every call to this model (per role)."
    )
    timeout: float | None = Field(
        default=None, gt=0, description="Seconds to wait for one answer of this model; default: the gateway's timeout."
    )
    input_cost_per_token: float | None = Field(
        default=None, ge=0, description="Price of one prompt token in USD, overriding litellm's price list."
    )
    output_cost_per_token: float | None = Field(
        default=None, ge=0, description="Price of one completion token in USD, overriding litellm's price list."
    )
    extra_params: dict[str, Any] = Field(
        default_factory=dict, description="Further keyword arguments for litellm.completion (e.g. api_version)."
    )

    @field_validator("extra_params")
    @classmethod
    def _no_reserved(cls, value: dict[str, Any]) -> dict[str, Any]:
        bad = sorted(_RESERVED_PARAMS & value.keys())
        if bad:
            raise ValueError(
                f"extra_params may not set {', '.join(bad)}: use the model, api_base and api_key_env fields "
                "(API keys belong in environment variables, never in the config)"
            )
        return value

    @model_validator(mode="after")
    def _both_prices(self) -> ModelConfig:
        if (self.input_cost_per_token is None) != (self.output_cost_per_token is None):
            raise ValueError("set both input_cost_per_token and output_cost_per_token, or neither")
        return self


class GatewayConfig(BaseModel):
    """The gateway's models (by alias), budgets and retry policy."""

    model_config = ConfigDict(extra="forbid")

    models: dict[str, ModelConfig] = Field(description="Alias (what agent code asks for) -> model.")
    max_cost_per_call: float | None = Field(default=None, ge=0, description="USD one call may cost at most.")
    max_cost_per_node: float | None = Field(default=None, ge=0, description="USD all calls made for one node may cost.")
    max_cost_per_run: float | None = Field(default=None, ge=0, description="USD all calls of the run may cost.")
    max_tokens_per_call: int | None = Field(
        default=None, gt=0, description="Upper bound on completion tokens per call."
    )
    retries: int = Field(default=4, ge=0, description="Retries of a call after a transient provider error.")
    backoff: float = Field(
        default=1.0, ge=0, description="First wait before a retry in seconds; doubles on each retry."
    )
    max_backoff: float = Field(default=60.0, ge=0, description="Longest single wait between retries, in seconds.")
    timeout: float = Field(default=600.0, gt=0, description="Seconds to wait for one provider answer.")
    max_request_bytes: int = Field(
        default=16 * 1024 * 1024, gt=0, description="Largest request body a client may send, in bytes."
    )
    max_connections: int = Field(
        default=256, gt=0, description="Open client connections at once, over TCP and the unix socket together."
    )
    max_calls_per_token: int = Field(
        default=4, gt=0, description="Calls (and connections) one token may have open at once."
    )
    max_concurrent_calls: int = Field(
        default=64, gt=0, description="Provider calls served at once; further calls wait for a free worker."
    )
    request_timeout: float = Field(
        default=30.0, gt=0, description="Seconds a client has to send a whole request once connected or idle."
    )

    @field_validator("models")
    @classmethod
    def _aliases(cls, value: dict[str, ModelConfig]) -> dict[str, ModelConfig]:
        for alias in value:
            if not alias or alias != alias.strip():
                raise ValueError(f"model alias {alias!r} must be non-empty without surrounding spaces")
        return value
