"""Reaching the model: an OpenAI-style chat-completions client for the LLM gateway, and a scripted fake."""

from __future__ import annotations

import http.client
import itertools
import json
import os
import socket
import time
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlsplit

from . import settings
from .errors import ModelError


@dataclass
class Reply:
    """One answer of the model: the assistant message and the tokens the call used."""

    message: dict[str, Any]
    tokens: int
    truncated: bool = False
    """The model stopped at its length limit (finish_reason "length"), so the reply may end mid-call."""


class Model(Protocol):
    """Anything that answers a conversation with an assistant message."""

    name: str

    def query(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]]) -> Reply: ...


class UnixHTTPConnection(http.client.HTTPConnection):
    """An HTTP connection over a unix domain socket."""

    def __init__(self, path: str, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self.socket_path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(self.socket_path)
        except OSError:
            sock.close()
            raise
        self.sock = sock


class GatewayModel:
    """Calls POST /v1/chat/completions on the gateway; retries transient failures, fails fast on 4xx."""

    def __init__(self, gateway: str, token: str, name: str) -> None:
        self.gateway = gateway
        self.token = token
        self.name = name
        parts = urlsplit(gateway)
        if not ((parts.scheme == "http" and parts.netloc) or (parts.scheme == "unix" and parts.path)):
            raise ModelError(f"HGM_GATEWAY={gateway!r} is not http://HOST:PORT or unix:///path/to/socket.")
        self._parts = parts

    @classmethod
    def from_env(cls) -> GatewayModel:
        """Build the client from HGM_GATEWAY, HGM_MODEL and the token: the file HGM_TOKEN_FILE names, else HGM_TOKEN."""
        token_file = os.environ.get("HGM_TOKEN_FILE")
        needed = ("HGM_GATEWAY", "HGM_MODEL") if token_file else ("HGM_GATEWAY", "HGM_TOKEN", "HGM_MODEL")
        missing = [name for name in needed if not os.environ.get(name)]
        if missing:
            raise ModelError(f"Set the environment variable(s) {', '.join(missing)} to reach the LLM gateway.")
        token = read_token(token_file) if token_file else os.environ["HGM_TOKEN"]
        return cls(os.environ["HGM_GATEWAY"], token, os.environ["HGM_MODEL"])

    def query(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]]) -> Reply:
        request: dict[str, Any] = {"model": self.name, "messages": messages}
        if tools:
            # Providers refuse an empty tool list; a call without tools asks for one plain answer.
            request["tools"] = tools
        if settings.TEMPERATURE is not None:
            request["temperature"] = settings.TEMPERATURE
        body = json.dumps(request).encode()
        delay = settings.RETRY_BACKOFF
        problem = ""
        for attempt in range(settings.MODEL_RETRIES + 1):
            if attempt:
                time.sleep(delay)
                delay *= 2
            try:
                status, data, final = self._post(body)
            except (OSError, http.client.HTTPException) as e:
                problem = f"connection to {self.gateway} failed: {e!r}"
                continue
            if status < 300:
                return parse_reply(data)
            problem = f"HTTP {status}: {data[:1000].decode('utf-8', errors='replace')}"
            # The gateway already retried what can be retried; it says so with x-should-retry: false.
            if status < 500 or final:
                raise ModelError(f"The gateway refused the request ({problem}).")
        raise ModelError(f"The gateway failed {settings.MODEL_RETRIES + 1} times; last error: {problem}")

    def _post(self, body: bytes) -> tuple[int, bytes, bool]:
        conn = self._connect()
        try:
            path = self._parts.path.rstrip("/") if self._parts.scheme == "http" else ""
            headers = {"Content-Type": "application/json", "Authorization": f"Bearer {self.token}"}
            conn.request("POST", f"{path}/v1/chat/completions", body=body, headers=headers)
            response = conn.getresponse()
            final = (response.getheader("x-should-retry") or "").lower() == "false"
            return response.status, response.read(), final
        finally:
            conn.close()

    def _connect(self) -> http.client.HTTPConnection:
        if self._parts.scheme == "unix":
            return UnixHTTPConnection(self._parts.path, timeout=settings.MODEL_TIMEOUT)
        return http.client.HTTPConnection(self._parts.netloc, timeout=settings.MODEL_TIMEOUT)


def read_token(path: str) -> str:
    """The gateway token kept in a file (one line), so it appears in no environment or command line."""
    try:
        with open(path, encoding="utf-8") as f:
            token = f.read(4096).strip()
    except (OSError, UnicodeDecodeError) as e:
        raise ModelError(f"HGM_TOKEN_FILE={path!r} cannot be read ({e}); point it at the gateway token file.") from e
    if not token or any(c.isspace() for c in token):
        raise ModelError(f"HGM_TOKEN_FILE={path!r} does not hold a token: expected one line with no spaces.")
    return token


def parse_reply(data: bytes) -> Reply:
    """Turn a chat-completions response body into a Reply, keeping only the fields sent back later."""
    try:
        payload = json.loads(data)
        raw = payload["choices"][0]["message"]
    except (ValueError, KeyError, IndexError, TypeError) as e:
        raise ModelError(f"The gateway sent a malformed response ({e!r}): {data[:500]!r}") from e
    message: dict[str, Any] = {"role": "assistant", "content": raw.get("content") or ""}
    if raw.get("tool_calls"):
        message["tool_calls"] = raw["tool_calls"]
    usage = payload.get("usage") or {}
    tokens = usage.get("total_tokens") or len(data) // 4
    return Reply(message, int(tokens), payload["choices"][0].get("finish_reason") == "length")


_call_ids = itertools.count(1)


def tool_call(name: str, call_id: str = "", **arguments: Any) -> dict[str, Any]:
    """A tool call in the OpenAI format, for scripted replies."""
    return {
        "id": call_id or f"call_{next(_call_ids)}",
        "type": "function",
        "function": {"name": name, "arguments": json.dumps(arguments)},
    }


def assistant(*calls: dict[str, Any], content: str = "") -> dict[str, Any]:
    """An assistant message carrying the given tool calls."""
    message: dict[str, Any] = {"role": "assistant", "content": content}
    if calls:
        message["tool_calls"] = list(calls)
    return message


@dataclass
class ScriptedModel:
    """A fake model that replays assistant messages in order and records what it was sent."""

    replies: list[dict[str, Any]]
    tokens_per_reply: int = 100
    name: str = "scripted"
    seen: list[list[dict[str, Any]]] = field(default_factory=list)

    def query(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]]) -> Reply:
        self.seen.append([dict(m) for m in messages])
        if len(self.seen) > len(self.replies):
            raise ModelError(f"The scripted model has only {len(self.replies)} replies.")
        return Reply(self.replies[len(self.seen) - 1], self.tokens_per_reply)
