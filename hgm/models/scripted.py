"""Scripted models: fixed replies, picked by position or by regex, served to litellm as `scripted/<name>`."""

from __future__ import annotations

import json
import os
import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

PROVIDER = "scripted"

Message = dict[str, Any]
Reply = str | Message
RuleReply = Reply | Callable[[re.Match[str], list[Message]], Reply]


class Script(Protocol):
    """Decides the assistant's next message from the whole conversation so far."""

    def respond(self, messages: list[Message], tools: list[Message] | None) -> Message: ...


class ScriptError(Exception):
    """A script cannot answer: unknown name, replies used up, or no rule matched."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


_scripts: dict[str, Script] = {}
_lock = threading.Lock()


def register_script(name: str, script: Script) -> None:
    """Make `script` answer calls to model `scripted/<name>` (replaces a script of the same name)."""
    if not name or "/" in name:
        raise ValueError(f"script name {name!r} must be non-empty and contain no '/'")
    with _lock:
        _scripts[name] = script


def unregister_script(name: str) -> None:
    """Forget the script called `name`, if any."""
    with _lock:
        _scripts.pop(name, None)


def get_script(name: str) -> Script:
    """The script registered as `name`; a ScriptError naming the registered ones if there is none."""
    with _lock:
        script = _scripts.get(name)
        known = sorted(_scripts)
    if script is None:
        listed = ", ".join(known) or "none"
        raise ScriptError(
            f"no script is registered as {name!r} (registered: {listed}); "
            "call hgm.models.scripted.register_script() before using this model",
            status=404,
        )
    return script


def tool_call(name: str, arguments: dict[str, Any] | str, id: str | None = None) -> Message:
    """One OpenAI-format tool call; the id is filled in deterministically when left out."""
    args = arguments if isinstance(arguments, str) else json.dumps(arguments)
    call: Message = {"type": "function", "function": {"name": name, "arguments": args}}
    if id is not None:
        call["id"] = id
    return call


def message_text(message: Message) -> str:
    """The plain text of a message: its content (string or text parts) and its tool calls' arguments."""
    content = message.get("content")
    parts: list[str] = []
    if isinstance(content, str):
        parts.append(content)
    elif isinstance(content, list):
        parts.extend(str(p.get("text", "")) for p in content if isinstance(p, dict))
    for call in message.get("tool_calls") or []:
        function = call.get("function") or {}
        parts.append(f"{function.get('name', '')} {function.get('arguments', '')}")
    return "\n".join(parts)


def count_tokens(messages: Sequence[Message]) -> int:
    """Usage as a scripted model reports it: whitespace-separated words, at least 1."""
    return max(1, sum(len(message_text(m).split()) for m in messages))


def assistant_turn(messages: Sequence[Message]) -> int:
    """How many assistant messages the conversation already holds (0 for the first reply)."""
    return sum(1 for m in messages if m.get("role") == "assistant")


def normalize(reply: Reply, turn: int) -> Message:
    """An assistant message in OpenAI format from a string or a partial message dict."""
    message: Message = {"role": "assistant", "content": reply} if isinstance(reply, str) else dict(reply)
    message["role"] = "assistant"
    message.setdefault("content", None)
    calls = []
    for i, call in enumerate(message.get("tool_calls") or []):
        call = dict(call)
        call.setdefault("id", f"call_{turn}_{i}")
        call.setdefault("type", "function")
        function = dict(call.get("function") or {})
        if not isinstance(function.get("arguments", ""), str):
            function["arguments"] = json.dumps(function["arguments"])
        call["function"] = function
        calls.append(call)
    message["tool_calls"] = calls or None
    return message


class Canned:
    """Replays a fixed list of replies: the n-th assistant turn of any conversation gets reply n."""

    def __init__(self, replies: Sequence[Reply], *, repeat_last: bool = False) -> None:
        if not replies:
            raise ValueError("Canned needs at least one reply")
        self.replies = list(replies)
        self.repeat_last = repeat_last

    def respond(self, messages: list[Message], tools: list[Message] | None) -> Message:
        """The reply at this conversation's turn; raises ScriptError once the list is used up."""
        turn = assistant_turn(messages)
        if turn >= len(self.replies):
            if not self.repeat_last:
                raise ScriptError(
                    f"this script has {len(self.replies)} replies and the conversation asks for reply {turn + 1}"
                )
            return self.replies[-1] if isinstance(self.replies[-1], dict) else {"content": self.replies[-1]}
        reply = self.replies[turn]
        return reply if isinstance(reply, dict) else {"content": reply}


@dataclass(frozen=True)
class Rule:
    """Reply with `reply` when `pattern` is found (re.search) in the last user or tool message."""

    pattern: str
    reply: RuleReply
    flags: int = re.DOTALL

    def match(self, text: str) -> re.Match[str] | None:
        """The regex match against `text`, or None."""
        return re.search(self.pattern, text, self.flags)


class Rules:
    """The first rule whose regex matches the last user or tool message decides the reply."""

    def __init__(self, rules: Sequence[Rule | tuple[str, RuleReply]], *, default: Reply | None = None) -> None:
        self.rules = [r if isinstance(r, Rule) else Rule(r[0], r[1]) for r in rules]
        for rule in self.rules:
            re.compile(rule.pattern, rule.flags)
        self.default = default

    def respond(self, messages: list[Message], tools: list[Message] | None) -> Message:
        """The first matching rule's reply, else the default; raises ScriptError if neither applies."""
        last = next((m for m in reversed(messages) if m.get("role") in ("user", "tool")), None)
        text = message_text(last) if last is not None else ""
        for rule in self.rules:
            found = rule.match(text)
            if found is not None:
                reply = rule.reply(found, messages) if callable(rule.reply) else rule.reply
                return reply if isinstance(reply, dict) else {"content": reply}
        if self.default is not None:
            return self.default if isinstance(self.default, dict) else {"content": self.default}
        patterns = ", ".join(repr(r.pattern) for r in self.rules) or "none"
        raise ScriptError(f"no rule matched the last user/tool message {text[:200]!r} (patterns: {patterns})")


@dataclass(frozen=True)
class Answer:
    """One scripted completion: the assistant message and the usage it reports."""

    message: Message
    prompt_tokens: int
    completion_tokens: int

    @property
    def finish_reason(self) -> str:
        """`tool_calls` when the message calls tools, else `stop`."""
        return "tool_calls" if self.message.get("tool_calls") else "stop"


def answer(name: str, messages: list[Message], tools: list[Message] | None = None) -> Answer:
    """Run the script registered as `name` on a conversation."""
    reply = get_script(name).respond(messages, tools)
    message = normalize(reply, assistant_turn(messages))
    return Answer(message, count_tokens(messages), count_tokens([message]))


_installed = False


def install() -> None:
    """Register the `scripted` provider with litellm (idempotent), so `scripted/<name>` models work."""
    global _installed
    with _lock:
        if _installed:
            return
        # Same setting as the gateway's loader: the bundled price list, no download at import.
        os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
        import litellm

        handler = _make_handler()
        litellm.custom_provider_map = [
            *[item for item in litellm.custom_provider_map if item.get("provider") != PROVIDER],
            {"provider": PROVIDER, "custom_handler": handler},
        ]
        _installed = True


def _make_handler() -> Any:
    # The class is built here so that importing this module does not import litellm (slow).
    from litellm import CustomLLM
    from litellm.llms.custom_llm import CustomLLMError
    from litellm.types.utils import Choices, ModelResponse, Usage
    from litellm.types.utils import Message as LiteMessage

    class ScriptedLLM(CustomLLM):
        """Answers `scripted/<name>` calls from the registered script, with word-count usage."""

        def completion(self, model: str, messages: list, *args: Any, **kwargs: Any) -> ModelResponse:
            model_response: ModelResponse = kwargs.get("model_response") or ModelResponse()
            optional = kwargs.get("optional_params") or {}
            try:
                result = answer(model, messages, optional.get("tools"))
            except ScriptError as e:
                raise CustomLLMError(status_code=e.status, message=f"scripted/{model}: {e}") from e
            message = LiteMessage(content=result.message["content"], tool_calls=result.message["tool_calls"])
            model_response.choices = [Choices(index=0, finish_reason=result.finish_reason, message=message)]
            total = result.prompt_tokens + result.completion_tokens
            usage = Usage(
                prompt_tokens=result.prompt_tokens, completion_tokens=result.completion_tokens, total_tokens=total
            )
            setattr(model_response, "usage", usage)  # noqa: B010 -- ModelResponse declares no usage field
            model_response.model = f"{PROVIDER}/{model}"
            return model_response

        async def acompletion(self, model: str, messages: list, *args: Any, **kwargs: Any) -> ModelResponse:
            return self.completion(model, messages, *args, **kwargs)

        def streaming(self, *args: Any, **kwargs: Any) -> Any:
            raise CustomLLMError(status_code=400, message="scripted models do not stream; send stream=false")

        async def astreaming(self, *args: Any, **kwargs: Any) -> Any:
            raise CustomLLMError(status_code=400, message="scripted models do not stream; send stream=false")

    return ScriptedLLM()
