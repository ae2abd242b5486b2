"""A quick check that a configured model can be called, for `hgm doctor`."""

from __future__ import annotations

import os

from hgm.gateway import upstream
from hgm.gateway.config import GatewayConfig, ModelConfig
from hgm.gateway.errors import GatewayError


def check_model(config: ModelConfig, *, probe: bool = False) -> str | None:
    """None if the model looks usable, else what is wrong and how to fix it; `probe` also makes a 1-token call."""
    litellm = upstream.load_litellm()
    name = config.model
    try:
        provider = str(litellm.get_llm_provider(model=name, api_base=config.api_base)[1])
    except Exception:  # litellm raises BadRequestError for names it cannot route
        return (
            f"{name}: litellm cannot tell which provider serves this model; write it as provider/model, "
            "e.g. openai/gpt-4o-mini or anthropic/claude-sonnet-4-5 (see https://docs.litellm.ai/docs/providers)"
        )
    if provider == "scripted":
        from hgm.models.scripted import ScriptError, get_script

        try:
            get_script(name.split("/", 1)[1])
        except ScriptError as e:
            return f"{name}: {e}"
        return None
    if config.api_key_env:
        if not os.environ.get(config.api_key_env):
            return f"{name}: its API key variable ${config.api_key_env} (api_key_env) is not set; export it"
    else:
        missing = litellm.validate_environment(model=name, api_base=config.api_base)["missing_keys"]
        if missing:
            local = " (a local server that needs no key accepts any value)" if config.api_base else ""
            keys = " and ".join(missing)
            return f"{name}: set {keys} in the environment that runs hgm{local}; keys never go in the config"
    if probe:
        return _probe(config)
    return None


def _probe(config: ModelConfig) -> str | None:
    probe_config = GatewayConfig(models={"probe": config}, retries=0, timeout=60)
    request = {"messages": [{"role": "user", "content": "Reply with the word ok."}], "max_tokens": 1}
    try:
        kwargs, key = upstream.build_call("probe", config, request, probe_config)
        upstream.call("probe", config, kwargs, probe_config, upstream.secret_values(key), lambda _: False)
    except GatewayError as e:
        return f"{config.model}: {e.message}"
    return None
