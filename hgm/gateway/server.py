"""The gateway's HTTP face: aiohttp on one event-loop thread, on loopback TCP and a unix socket, with hard limits.

No request body is read before its bearer token was accepted from the headers. Open connections are capped (a new
one evicts the oldest that has not yet sent a valid request), every connection has `request_timeout` seconds to
send a whole request, each token holds at most `max_calls_per_token` connections, and provider calls (blocking
litellm) run on at most `max_concurrent_calls` threads. Idle connections cost no thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import socket
import struct
import threading
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from aiohttp import web
from aiohttp.web_protocol import RequestHandler

from hgm.gateway.config import GatewayConfig
from hgm.gateway.errors import GatewayError

log = logging.getLogger("hgm.gateway")

CHAT_PATHS = ("/v1/chat/completions", "/chat/completions")
MODEL_PATHS = ("/v1/models", "/models")
# Request line and headers: an OpenAI client sends a handful of short headers.
MAX_LINE = 4096
MAX_HEADERS = 32
# Connections the kernel queues until the event loop accepts them (a full queue refuses unix-socket clients).
BACKLOG = 1024
LINGER = 2.0
# Request bodies held in memory at once, in units of max_request_bytes: further calls wait before reading theirs.
BODIES_HELD = 8
_PEERCRED = struct.Struct("3i")


class App(Protocol):
    """What the HTTP layer needs from the gateway."""

    config: GatewayConfig

    def authorize(self, token: str, transport: str, peer_uid: int | None) -> Any: ...

    def list_models(self, grant: Any) -> dict[str, Any]: ...

    def serve(self, grant: Any, body: bytes, gone: threading.Event) -> tuple[int, dict[str, Any]]: ...


class _Refused(Exception):
    """A request answered with an error, after which the connection is closed."""

    def __init__(self, error: GatewayError) -> None:
        self.error = error


class Connections(web.Server):
    """aiohttp's low-level server, keeping count of connections: a cap, a first-request deadline, owners."""

    def __init__(self, handler: Any, config: GatewayConfig) -> None:
        super().__init__(
            handler,
            handler_cancellation=True,
            access_log=None,
            keepalive_timeout=config.request_timeout,
            # After a refusal the rest of an unread body is discarded for a moment, so that a client still
            # sending it gets the answer instead of a reset connection; nothing of it is kept.
            lingering_time=LINGER,
            max_line_size=MAX_LINE,
            max_field_size=MAX_LINE,
            max_headers=MAX_HEADERS,
        )
        self.limits = config
        self._transports: dict[RequestHandler, asyncio.Transport] = {}
        # Connections that have not sent a valid request yet, oldest first, each with its deadline.
        self._waiting: dict[RequestHandler, asyncio.TimerHandle] = {}
        self._owner: dict[RequestHandler, str] = {}
        self._per_token: Counter[str] = Counter()

    def connection_made(self, handler: RequestHandler, transport: asyncio.Transport) -> None:
        super().connection_made(handler, transport)
        self._transports[handler] = transport
        if len(self._transports) > self.limits.max_connections:
            if not self._waiting:
                del self._transports[handler]
                transport.close()
                return
            # The oldest connection that has proven nothing makes room: a flood of idle connections cannot keep
            # a sandbox that sends its request at once from getting through.
            self._close(next(iter(self._waiting)))
        loop = asyncio.get_running_loop()
        self._waiting[handler] = loop.call_later(self.limits.request_timeout, self._expire, handler)

    def connection_lost(self, handler: RequestHandler, exc: BaseException | None = None) -> None:
        super().connection_lost(handler, exc)
        self._transports.pop(handler, None)
        timer = self._waiting.pop(handler, None)
        if timer is not None:
            timer.cancel()
        token = self._owner.pop(handler, None)
        if token is not None:
            self._per_token[token] -= 1
            if not self._per_token[token]:
                del self._per_token[token]

    def bind(self, handler: RequestHandler, token: str) -> None:
        """Tie a connection to the token of its first valid request; refuse a token over its connection cap."""
        owner = self._owner.get(handler)
        if owner == token:
            return
        if owner is not None:
            raise _Refused(GatewayError(400, "token_changed", "one connection serves one token; open a new one"))
        if self._per_token[token] >= self.limits.max_calls_per_token:
            raise _Refused(
                GatewayError(
                    429,
                    "too_many_connections",
                    f"this token already has {self._per_token[token]} connections open "
                    f"(max_calls_per_token); close one or wait for its answer",
                )
            )
        self._owner[handler] = token
        self._per_token[token] += 1
        timer = self._waiting.pop(handler, None)
        if timer is not None:
            timer.cancel()

    def _expire(self, handler: RequestHandler) -> None:
        if handler in self._waiting:
            self._close(handler)

    def _close(self, handler: RequestHandler) -> None:
        """Close a connection that has not sent a valid request, and stop counting it at once."""
        timer = self._waiting.pop(handler, None)
        if timer is not None:
            timer.cancel()
        transport = self._transports.pop(handler, None)
        if transport is not None:
            transport.close()


class Workers:
    """At most `size` provider calls at once, each on a daemon thread (so exiting hgm never waits for a provider),
    and at most `room` bytes of request bodies held in memory by the calls admitted or running."""

    def __init__(self, size: int, room: int) -> None:
        self._slots = asyncio.Semaphore(size)
        self._free = room
        self._room = asyncio.Condition()

    async def admit(self, size: int) -> None:
        """Wait until a body of `size` bytes may be held; pair with `run(..., held=size)` or `release(size)`."""
        async with self._room:
            await self._room.wait_for(lambda: self._free >= size)
            self._free -= size

    def release(self, size: int) -> None:
        """Give back the room of a body that is no longer held."""
        self._free += size

        async def wake() -> None:
            async with self._room:
                self._room.notify_all()

        asyncio.get_running_loop().create_task(wake())

    async def run(self, work: Callable[[], Any], gone: threading.Event, held: int) -> Any:
        """`work()` on a thread; if the caller is cancelled (the client left) `gone` is set, and the slot and the
        `held` body bytes stay taken until the thread ends, so abandoned calls still count against the bounds."""
        try:
            await self._slots.acquire()
        except BaseException:
            self.release(held)
            raise
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()

        def deliver(result: Any, error: BaseException | None) -> None:
            self._slots.release()
            self.release(held)
            if future.done():
                return
            if error is not None:
                future.set_exception(error)
            else:
                future.set_result(result)

        def thread() -> None:
            result, error = None, None
            try:
                result = work()
            except BaseException as e:  # handed to the event loop, which answers the client
                error = e
            with contextlib.suppress(RuntimeError):  # the event loop is closed: the gateway stopped meanwhile
                loop.call_soon_threadsafe(deliver, result, error)

        threading.Thread(target=thread, name="hgm-gateway-call", daemon=True).start()
        try:
            return await asyncio.shield(future)
        except asyncio.CancelledError:
            gone.set()
            # Nobody will read the outcome: fetch it when it comes, so asyncio does not report it as lost.
            future.add_done_callback(lambda f: f.cancelled() or f.exception())
            raise


class HTTPServer:
    """Serves an App over loopback TCP and, when given a path, a unix socket, on its own event-loop thread."""

    def __init__(self, app: App, host: str, port: int, socket_path: Path | None) -> None:
        self.app = app
        self._sockets = [_tcp_socket(host, port)]
        try:
            if socket_path is not None:
                self._sockets.append(_unix_socket(socket_path))
        except BaseException:
            self._sockets[0].close()
            raise
        self.tcp_address: tuple[str, int] = self._sockets[0].getsockname()[:2]
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="hgm-gateway", daemon=True)
        self._runner: web.ServerRunner | None = None
        self._server: Connections | None = None
        self._workers: Workers | None = None

    def start(self) -> None:
        """Start serving; returns once both sockets accept connections."""
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._setup(), self._loop).result()

    async def _setup(self) -> None:
        config = self.app.config
        self._workers = Workers(config.max_concurrent_calls, BODIES_HELD * config.max_request_bytes)
        self._server = Connections(self._handle, self.app.config)
        self._runner = web.ServerRunner(self._server, shutdown_timeout=1.0)
        await self._runner.setup()
        for sock in self._sockets:
            await web.SockSite(self._runner, sock, backlog=BACKLOG).start()

    def stop(self) -> None:
        """Close every connection and the listening sockets; calls still running on threads are abandoned."""
        if self._thread.is_alive():
            if self._runner is not None:
                try:
                    asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(timeout=30)
                except Exception:  # a stuck shutdown must not keep hgm from exiting
                    log.debug("the gateway's HTTP server did not shut down cleanly", exc_info=True)
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=30)
        for sock in self._sockets:
            sock.close()
        if not self._thread.is_alive():
            self._loop.close()

    async def _handle(self, request: web.BaseRequest) -> web.StreamResponse:
        try:
            return await self._route(request)
        except _Refused as refused:
            return _error(refused.error, close=True)
        except GatewayError as e:
            return _error(e)

    async def _route(self, request: web.BaseRequest) -> web.StreamResponse:
        path = request.path.rstrip("/")
        if request.method == "GET" and path in MODEL_PATHS:
            grant = self._authorize(request)
            return _json(200, self.app.list_models(grant))
        if request.method != "POST" or path not in CHAT_PATHS:
            message = f"no route {request.method} {path}; use POST /v1/chat/completions or GET /v1/models"
            raise _Refused(GatewayError(404, "not_found", message))
        grant = self._authorize(request)
        assert self._workers is not None, "start() sets up the workers"
        length = self._length(request)
        await self._workers.admit(length)
        try:
            body = await self._body(request, length)
        except BaseException:
            self._workers.release(length)
            raise
        gone = threading.Event()
        status, answer = await self._workers.run(lambda: self.app.serve(grant, body, gone), gone, length)
        return _json(status, answer, {} if status < 300 else {"x-should-retry": "false"})

    def _authorize(self, request: web.BaseRequest) -> Any:
        scheme, _, token = (request.headers.get("Authorization") or "").partition(" ")
        token = token.strip() if scheme.lower() == "bearer" else ""
        sock = request.transport.get_extra_info("socket") if request.transport is not None else None
        unix = sock is not None and sock.family == socket.AF_UNIX
        try:
            grant = self.app.authorize(token, "unix" if unix else "tcp", _peer_uid(sock) if unix else None)
        except GatewayError as e:
            raise _Refused(e) from None
        assert self._server is not None, "start() sets up the server"
        self._server.bind(request.protocol, token)
        return grant

    def _length(self, request: web.BaseRequest) -> int:
        length = request.content_length
        limit = self.app.config.max_request_bytes
        if length is None:
            raise _Refused(GatewayError(411, "length_required", "send the request body with a Content-Length header"))
        if length > limit:
            raise _Refused(
                GatewayError(413, "request_too_large", f"request body of {length} bytes is over the {limit}-byte cap")
            )
        return length

    async def _body(self, request: web.BaseRequest, length: int) -> bytes:
        try:
            async with asyncio.timeout(self.app.config.request_timeout):
                return await request.content.readexactly(length)
        except (TimeoutError, asyncio.IncompleteReadError):
            raise _Refused(
                GatewayError(408, "request_timeout", "the request body did not arrive in time; send it at once")
            ) from None


def _json(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(
        status=status, body=json.dumps(body, default=str).encode(), content_type="application/json", headers=headers
    )


def _error(error: GatewayError, *, close: bool = False) -> web.Response:
    # The gateway has already retried what can be retried; tell OpenAI-style clients not to retry again.
    response = _json(error.status, error.body(), {"x-should-retry": "false"})
    if close:
        response.force_close()
    return response


def _peer_uid(sock: Any) -> int | None:
    """The uid of the process that connected to a unix socket (SO_PEERCRED, Linux), else None."""
    option = getattr(socket, "SO_PEERCRED", None)
    if option is None:
        return None
    try:
        _pid, uid, _gid = _PEERCRED.unpack(sock.getsockopt(socket.SOL_SOCKET, option, _PEERCRED.size))
    except OSError:
        return None
    return int(uid)


def _tcp_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    return socket.create_server((host, port), family=family, backlog=BACKLOG)


def _unix_socket(path: Path) -> socket.socket:
    """A listening unix socket at `path`, connectable by any local user (the token and peer checks guard it)."""
    if len(os.fsencode(path)) > 107:
        raise ValueError(f"unix socket path {path} is longer than 107 bytes; choose a shorter socket_dir")
    path.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(path.parent, 0o755)
    if path.is_socket():
        path.unlink()
    elif path.exists():
        raise ValueError(f"{path} exists and is not a socket; remove it or choose another socket_dir")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.bind(str(path))
        os.chmod(path, 0o666)
        sock.listen(BACKLOG)
    except BaseException:
        sock.close()
        raise
    return sock
