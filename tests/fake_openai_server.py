"""A small OpenAI-compatible chat server on loopback, with scripted failures, for gateway tests."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    """One canned HTTP answer: status, JSON body (None means a normal completion) and extra headers."""

    status: int = 200
    body: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


@dataclass
class Seen:
    """One request as the server received it."""

    path: str
    headers: dict[str, str]
    body: dict[str, Any]


def error_body(message: str, kind: str, code: str | None = None) -> dict[str, Any]:
    """An error body in OpenAI's format."""
    return {"error": {"message": message, "type": kind, "param": None, "code": code}}


class FakeOpenAIServer:
    """Answers `POST /v1/chat/completions` and `GET /v1/models`; queued replies first, then normal completions.

    With `models`, it lists them and answers 404 for any other model, as vLLM does; with `tool_calls`, a request
    that offers tools is answered with a call of the first one.
    """

    def __init__(
        self,
        *,
        content: str = "hello from the fake server",
        prompt_tokens: int = 11,
        completion_tokens: int = 7,
        models: list[str] | None = None,
        tool_calls: bool = False,
    ) -> None:
        self.content = content
        self.prompt_tokens = prompt_tokens
        self.completion_tokens = completion_tokens
        self.models = models
        self.tool_calls = tool_calls
        self.requests: list[Seen] = []
        self._queue: list[Reply] = []
        self._lock = threading.Lock()
        self._released = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)

    @property
    def url(self) -> str:
        """Base URL to use as `api_base` (ends in /v1)."""
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def enqueue(self, *replies: Reply) -> None:
        """Serve these replies, in order, before falling back to normal completions."""
        with self._lock:
            self._queue.extend(replies)

    def completion(self, body: dict[str, Any]) -> dict[str, Any]:
        """A normal chat completion answering `body`; usage honours the request's max_tokens."""
        limit = body.get("max_tokens") or body.get("max_completion_tokens") or self.completion_tokens
        completion_tokens = min(self.completion_tokens, int(limit))
        message: dict[str, Any] = {"role": "assistant", "content": self.content}
        if self.tool_calls and body.get("tools"):
            name = body["tools"][0]["function"]["name"]
            call = {"id": "call_fake", "type": "function", "function": {"name": name, "arguments": "{}"}}
            message = {"role": "assistant", "content": None, "tool_calls": [call]}
        return {
            "id": f"chatcmpl-fake-{len(self.requests)}",
            "object": "chat.completion",
            "created": 1700000000,
            "model": body.get("model", "fake"),
            "choices": [
                {
                    "index": 0,
                    "message": message,
                    "finish_reason": "tool_calls" if "tool_calls" in message else "stop",
                }
            ],
            "usage": {
                "prompt_tokens": self.prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": self.prompt_tokens + completion_tokens,
            },
        }

    def release(self) -> None:
        """Let delayed replies answer now."""
        self._released.set()

    def wait_for_requests(self, count: int, timeout: float = 30.0) -> None:
        """Block until `count` requests have arrived (a synchronisation aid; fails after `timeout`)."""
        deadline = time.monotonic() + timeout
        while len(self.requests) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"expected {count} requests, got {len(self.requests)}")
            time.sleep(0.01)

    def _next(self, body: dict[str, Any]) -> Reply:
        with self._lock:
            reply = self._queue.pop(0) if self._queue else None
        if reply is None and self.models is not None and body.get("model") not in self.models:
            message = f"The model `{body.get('model')}` does not exist."
            return Reply(404, error_body(message, "NotFoundError", "model_not_found"))
        if reply is None:
            return Reply(body=self.completion(body))
        if reply.body is None:
            return Reply(reply.status, self.completion(body), reply.headers, reply.delay)
        return reply

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                with fake._lock:
                    fake.requests.append(Seen(self.path, {k.lower(): v for k, v in self.headers.items()}, {}))
                if self.path.rstrip("/") != "/v1/models" or fake.models is None:
                    self._answer(Reply(404, error_body(f"no route GET {self.path}", "not_found")))
                    return
                listed = [{"id": name, "object": "model", "owned_by": "fake"} for name in fake.models]
                self._answer(Reply(body={"object": "list", "data": listed}))

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                body = json.loads(raw or b"{}")
                with fake._lock:
                    fake.requests.append(Seen(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
                reply = fake._next(body)
                if reply.delay:
                    fake._released.wait(reply.delay)
                self._answer(reply)

            def _answer(self, reply: Reply) -> None:
                data = json.dumps(reply.body).encode()
                self.send_response(reply.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler

    def __enter__(self) -> FakeOpenAIServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._released.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()
