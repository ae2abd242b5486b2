"""The gateway's HTTP face: OpenAI-style routes served on loopback TCP and on a unix socket."""

from __future__ import annotations

import json
import logging
import os
import socket
import socketserver
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Protocol

from hgm.gateway.errors import GatewayError

log = logging.getLogger("hgm.gateway")

MAX_BODY = 64 * 1024 * 1024
CHAT_PATHS = ("/v1/chat/completions", "/chat/completions")
MODEL_PATHS = ("/v1/models", "/models")


class App(Protocol):
    """What the HTTP layer needs from the gateway."""

    def complete(self, token: str, request: dict[str, Any]) -> dict[str, Any]: ...

    def list_models(self, token: str) -> dict[str, Any]: ...


class Handler(BaseHTTPRequestHandler):
    """Answers chat completions and the model list; every error is an OpenAI-format JSON body."""

    protocol_version = "HTTP/1.1"
    server_version = "hgm-gateway"

    def setup(self) -> None:
        super().setup()
        if isinstance(self.client_address, tuple):
            # Headers and body go out in two writes; with Nagle's algorithm, delayed ACKs add ~40 ms per call.
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, True)

    @property
    def app(self) -> App:
        return self.server.app  # type: ignore[attr-defined]

    def do_POST(self) -> None:
        path = self.path.split("?", 1)[0].rstrip("/")
        if path not in CHAT_PATHS:
            self._drain()
            self._error(GatewayError(404, "not_found", f"no route POST {path}; use POST /v1/chat/completions"))
            return
        try:
            request = self._read_json()
            self._send(200, self.app.complete(self._token(), request))
        except GatewayError as e:
            self._error(e)
        except Exception:
            log.exception("the gateway failed while answering a chat completion")
            self._error(GatewayError(500, "gateway_error", "internal gateway error (see the hgm log)", "api_error"))

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0].rstrip("/")
        if path not in MODEL_PATHS:
            self._error(GatewayError(404, "not_found", f"no route GET {path}; use GET /v1/models"))
            return
        try:
            self._send(200, self.app.list_models(self._token()))
        except GatewayError as e:
            self._error(e)

    def _token(self) -> str:
        scheme, _, token = (self.headers.get("Authorization") or "").partition(" ")
        return token.strip() if scheme.lower() == "bearer" else ""

    def _drain(self) -> None:
        raw = self.headers.get("Content-Length") or "0"
        length = int(raw) if raw.isdigit() else -1
        if 0 <= length <= MAX_BODY:
            self.rfile.read(length)
        else:
            self.close_connection = True

    def _read_json(self) -> dict[str, Any]:
        try:
            length = int(self.headers.get("Content-Length") or "")
        except ValueError:
            self.close_connection = True
            raise GatewayError(411, "length_required", "send the request body with a Content-Length header") from None
        if length > MAX_BODY:
            self.close_connection = True
            raise GatewayError(413, "request_too_large", f"request body over {MAX_BODY} bytes")
        try:
            body = json.loads(self.rfile.read(length))
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise GatewayError(400, "invalid_json", f"the request body is not valid JSON: {e}") from None
        if not isinstance(body, dict):
            raise GatewayError(400, "invalid_json", "the request body must be a JSON object")
        return body

    def _error(self, error: GatewayError) -> None:
        # The gateway has already retried what can be retried; tell OpenAI-style clients not to retry again.
        self._send(error.status, error.body(), {"x-should-retry": "false"})

    def _send(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body, default=str).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def address_string(self) -> str:
        return self.client_address[0] if isinstance(self.client_address, tuple) else "unix-socket"

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s %s", self.address_string(), format % args)


class _Quiet:
    """Server mix-in: threads per request, and broken client connections logged instead of printed."""

    daemon_threads = True
    app: App

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.debug("connection from %r ended with an error", client_address, exc_info=True)


class TCPServer(_Quiet, ThreadingHTTPServer):
    """Threaded HTTP server on IPv4."""


class TCP6Server(TCPServer):
    """Threaded HTTP server on IPv6."""

    address_family = socket.AF_INET6


class UnixServer(_Quiet, socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    """Threaded HTTP server on a unix socket."""


def serve_tcp(app: App, host: str, port: int) -> TCPServer:
    """A started TCP server for `app`."""
    cls = TCP6Server if ":" in host else TCPServer
    server = cls((host, port), Handler)
    server.app = app
    _run(server)
    return server


def serve_unix(app: App, path: Path) -> UnixServer:
    """A started unix-socket server for `app`, connectable by any local user (the token guards it)."""
    if len(os.fsencode(path)) > 107:
        raise ValueError(f"unix socket path {path} is longer than 107 bytes; choose a shorter socket_dir")
    path.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(path.parent, 0o755)
    if path.is_socket():
        path.unlink()
    elif path.exists():
        raise ValueError(f"{path} exists and is not a socket; remove it or choose another socket_dir")
    server = UnixServer(str(path), Handler)
    os.chmod(path, 0o666)
    server.app = app
    _run(server)
    return server


def _run(server: socketserver.BaseServer) -> None:
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.name = f"hgm-gateway-{type(server).__name__}"
    thread.start()
