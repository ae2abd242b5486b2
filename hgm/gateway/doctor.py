"""Checks that a configured model can be called, for `hgm doctor` and for the checks before a run."""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any

from hgm.gateway import upstream
from hgm.gateway.config import GatewayConfig, ModelConfig
from hgm.gateway.errors import GatewayError

LIST_TIMEOUT = 5.0
CALL_TIMEOUT = 60.0
TINY = {"messages": [{"role": "user", "content": "Reply with the word ok."}], "max_tokens": 1}
TOOL_USE = {
    "messages": [{"role": "user", "content": "Use the bash tool to run the command `ls`."}],
    "tools": [
        {
            "type": "function",
            "function": {
                "name": "bash",
                "description": "Run a shell command.",
                "parameters": {
                    "type": "object",
                    "properties": {"command": {"type": "string"}},
                    "required": ["command"],
                },
            },
        }
    ],
    "max_tokens": 64,
}


@dataclass
class ModelCheck:
    """What a check learnt about one model: a problem (with its fix), or how it answered."""

    model: str
    problem: str | None = None
    latency: float | None = None
    native_tool_calls: bool | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def summary(self) -> str:
        """One line for the user: the problem, else what was measured and noticed."""
        if self.problem:
            return self.problem
        parts = [self.model]
        if self.latency is not None:
            parts.append(f"answered a 1-token call in {self.latency:.2f} s")
        if self.native_tool_calls is not None:
            parts.append(
                "native tool calls: yes"
                if self.native_tool_calls
                else "native tool calls: no (the agent must read tool calls from the text)"
            )
        return "; ".join(parts + self.notes)


def check_model(config: ModelConfig, *, probe: bool = False) -> str | None:
    """None if the model looks usable, else what is wrong and how to fix it.

    A model with an `api_base` is contacted (nothing listening, or a model the server does not know, is a problem
    found in seconds); `probe` also makes a 1-token call to a hosted model.
    """
    return inspect_model(config, probe=probe, tools=False).problem


def inspect_model(config: ModelConfig, *, probe: bool = False, tools: bool = True) -> ModelCheck:
    """`check_model` with what was measured: latency of a tiny call and, with `tools`, native tool-call support."""
    litellm = upstream.load_litellm()
    name = config.model
    check = ModelCheck(name)
    try:
        served, provider = (str(part) for part in litellm.get_llm_provider(model=name, api_base=config.api_base)[:2])
    except Exception:  # litellm raises BadRequestError for names it cannot route
        check.problem = (
            f"{name}: litellm cannot tell which provider serves this model; write it as provider/model, "
            "e.g. openai/gpt-4o-mini or anthropic/claude-sonnet-4-5 (see https://docs.litellm.ai/docs/providers)"
        )
        return check
    if provider == "scripted":
        from hgm.models.scripted import ScriptError, get_script

        try:
            get_script(name.split("/", 1)[1])
        except ScriptError as e:
            check.problem = f"{name}: {e}"
        return check
    check.problem = _key_problem(litellm, config, check.notes)
    if check.problem or not (config.api_base or probe):
        return check
    listed = _listed_models(config, check)
    if check.problem:
        return check
    started = time.monotonic()
    try:
        _call(config, TINY)
    except GatewayError as e:
        check.problem = f"{name}: {e.message}"
        if e.code == "provider_model_not_found" and listed:
            check.problem = (
                f"{name}: the server at {config.api_base} does not know the model {served!r}; it serves "
                f"{', '.join(listed)}: use --model {provider}/{listed[0]}"
            )
        return check
    check.latency = time.monotonic() - started
    if listed and served not in listed:
        check.notes.append(f"the server lists {', '.join(listed)}, not {served!r}, yet answered")
    if upstream.prices(config) is None:
        check.notes.append("no price is known for it: its calls count as $0 and budgets cannot limit them")
    if tools:
        try:
            reply = _call(config, TOOL_USE)
            check.native_tool_calls = bool(reply.choices[0].message.tool_calls)
        except (GatewayError, AttributeError, IndexError) as e:
            check.notes.append(f"the tool-call check failed: {getattr(e, 'message', e)}")
    return check


def _key_problem(litellm: Any, config: ModelConfig, notes: list[str]) -> str | None:
    name = config.model
    if config.api_key_env:
        if not os.environ.get(config.api_key_env):
            return f"{name}: its API key variable ${config.api_key_env} (api_key_env) is not set; export it"
        return None
    if upstream.is_loopback(config.api_base):
        notes.append("no API key needed: hgm sends a placeholder to this local server (api_key_env sets a real one)")
        return None
    missing = litellm.validate_environment(model=name, api_base=config.api_base)["missing_keys"]
    if missing:
        return f"{name}: set {' and '.join(missing)} in the environment that runs hgm; keys never go in the config"
    return None


def _listed_models(config: ModelConfig, check: ModelCheck) -> list[str]:
    """The model ids an OpenAI-compatible server lists at GET {api_base}/models; sets a problem if nothing answers."""
    if not config.api_base:
        return []
    url = config.api_base.rstrip("/") + "/models"
    key = upstream.api_key("probe", config) or ""
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {key}"} if key else {})
    try:
        with urllib.request.urlopen(request, timeout=LIST_TIMEOUT) as response:  # noqa: S310 (the user's api_base)
            data = json.loads(response.read(1_000_000))
    except urllib.error.HTTPError:
        return []  # the server answers but lists nothing: the chat call will tell
    except (urllib.error.URLError, OSError) as e:
        reason = getattr(e, "reason", e)
        check.problem = (
            f"{config.model}: nothing answers at {config.api_base} ({reason}); start the model server there "
            "or fix --api-base"
        )
        return []
    except ValueError:
        return []
    entries = data.get("data") if isinstance(data, dict) else None
    return [str(m["id"]) for m in entries or [] if isinstance(m, dict) and "id" in m][:20]


def _call(config: ModelConfig, request: dict[str, Any]) -> Any:
    timeout = min(config.timeout or CALL_TIMEOUT, CALL_TIMEOUT)
    probe_config = GatewayConfig(models={"probe": config}, retries=0, timeout=timeout)
    kwargs, key = upstream.build_call("probe", config, request, probe_config)
    kwargs["timeout"] = timeout
    return upstream.call("probe", config, kwargs, probe_config, upstream.secret_values(key), lambda _: False)
