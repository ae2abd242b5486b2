"""The gateway: tokens tied to nodes, budgets, and metered model calls over HTTP or in process."""

from __future__ import annotations

import logging
import secrets
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from hgm.gateway import upstream
from hgm.gateway.config import GatewayConfig, ModelConfig
from hgm.gateway.errors import GatewayError
from hgm.gateway.meter import Meter
from hgm.gateway.server import TCPServer, UnixServer, serve_tcp, serve_unix

log = logging.getLogger("hgm.gateway")

SOCKET_NAME = "gateway.sock"


class CallRecorder(Protocol):
    """Where every model call is written down (the archive)."""

    def record_llm_call(
        self,
        *,
        node_id: int | None,
        purpose: str,
        model: str,
        prompt_tokens: int,
        completion_tokens: int,
        cost: float,
        latency: float,
        error: str | None,
    ) -> None: ...


@dataclass(frozen=True)
class Grant:
    """Who a token speaks for."""

    node_id: int | None
    purpose: str


@dataclass
class _Outcome:
    model: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost: float = 0.0
    error: str | None = None


class Gateway:
    """OpenAI-compatible chat endpoint for sandboxes; forwards to litellm with metering and budgets."""

    def __init__(
        self,
        config: GatewayConfig,
        recorder: CallRecorder,
        *,
        socket_dir: Path | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        spent_run: float = 0.0,
        spent_by_node: dict[int, float] | None = None,
    ) -> None:
        self.config = config
        self.socket_path = Path(socket_dir) / SOCKET_NAME if socket_dir is not None else None
        self._recorder = recorder
        self._host = host
        self._port = port
        self._meter = Meter(config, spent_run, spent_by_node)
        self._grants: dict[str, Grant] = {}
        self._lock = threading.Lock()
        self._record_lock = threading.Lock()
        self._stopping = threading.Event()
        self._tcp: TCPServer | None = None
        self._unix: UnixServer | None = None

    @property
    def url(self) -> str:
        """Base URL of the TCP endpoint, e.g. http://127.0.0.1:41234 (clients append /v1)."""
        if self._tcp is None:
            raise RuntimeError("the gateway is not started; call start() first")
        host, port = self._tcp.server_address[:2]
        name = host.decode() if isinstance(host, bytes) else str(host)
        return f"http://[{name}]:{port}" if ":" in name else f"http://{name}:{port}"

    def start(self) -> None:
        """Load litellm and start serving on TCP (and on the unix socket when a socket_dir was given)."""
        if self._tcp is not None:
            return
        upstream.load_litellm()
        self._stopping.clear()
        self._tcp = serve_tcp(self, self._host, self._port)
        if self.socket_path is not None:
            try:
                self._unix = serve_unix(self, self.socket_path)
            except BaseException:
                self.stop()
                raise
        log.info("gateway serving %s%s", self.url, f" and {self.socket_path}" if self._unix else "")

    def stop(self) -> None:
        """Stop serving; calls waiting to retry give up; the socket file is removed."""
        self._stopping.set()
        for server in (self._tcp, self._unix):
            if server is not None:
                server.shutdown()
                server.server_close()
        if self._unix is not None and self.socket_path is not None:
            self.socket_path.unlink(missing_ok=True)
        self._tcp = self._unix = None

    def __enter__(self) -> Gateway:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def issue_token(self, node_id: int | None, purpose: str) -> str:
        """A new random bearer token whose calls are billed to `node_id` and recorded under `purpose`."""
        token = "hgm-" + secrets.token_urlsafe(24)
        with self._lock:
            self._grants[token] = Grant(node_id, purpose)
        return token

    def revoke(self, token: str) -> None:
        """Make `token` useless from now on."""
        with self._lock:
            self._grants.pop(token, None)

    def spent(self, node_id: int | None = None) -> float:
        """USD spent by the run, or by one node."""
        return self._meter.spent(node_id)

    def list_models(self, token: str) -> dict[str, Any]:
        """The aliases this gateway serves, in OpenAI's model-list format."""
        self._grant(token)
        return {
            "object": "list",
            "data": [{"id": alias, "object": "model", "owned_by": "hgm"} for alias in self.config.models],
        }

    def complete(self, token: str, request: dict[str, Any]) -> dict[str, Any]:
        """One metered chat completion; returns the OpenAI-format response or raises GatewayError."""
        grant = self._grant(token)
        alias = request.get("model")
        outcome = _Outcome(model=str(alias))
        started = time.monotonic()
        try:
            config = self._model(alias)
            outcome.model = config.model
            response = self._forward(grant, str(alias), config, request, outcome)
            return response.model_dump(mode="json", exclude_none=False)
        except GatewayError as e:
            outcome.error = e.message if e.message.startswith(e.code) else f"{e.code}: {e.message}"
            raise
        except Exception as e:
            outcome.error = f"gateway_error: {type(e).__name__}"
            raise
        finally:
            self._record(grant, outcome, time.monotonic() - started)

    def _grant(self, token: str) -> Grant:
        with self._lock:
            grant = self._grants.get(token)
        if grant is None:
            raise GatewayError(
                401, "invalid_api_key", "missing or unknown bearer token: use the token hgm gave this sandbox"
            )
        return grant

    def _model(self, alias: object) -> ModelConfig:
        config = self.config.models.get(alias) if isinstance(alias, str) else None
        if config is None:
            served = ", ".join(sorted(self.config.models)) or "none"
            raise GatewayError(404, "model_not_found", f"unknown model {alias!r}; this gateway serves: {served}")
        return config

    def _forward(
        self, grant: Grant, alias: str, config: ModelConfig, request: dict[str, Any], outcome: _Outcome
    ) -> Any:
        if self._stopping.is_set():
            raise GatewayError(503, "gateway_stopping", "the gateway is shutting down", "api_error")
        kwargs, key = upstream.build_call(alias, config, request, self.config)
        refusal = self._meter.refusal(grant.node_id)
        if refusal is not None:
            raise GatewayError(429, "budget_exceeded", refusal, kind="budget_exceeded")
        headroom = self._meter.headroom(grant.node_id)
        if headroom is not None:
            upstream.fit_to_budget(config, kwargs, *headroom)
        response = upstream.call(alias, config, kwargs, self.config, upstream.secret_values(key), self._stopping.wait)
        outcome.prompt_tokens, outcome.completion_tokens = upstream.usage(response)
        outcome.cost = upstream.cost(config, response)
        self._meter.add(grant.node_id, outcome.cost)
        return response

    def _record(self, grant: Grant, outcome: _Outcome, latency: float) -> None:
        log.debug(
            "node=%s purpose=%s model=%s tokens=%d+%d cost=%.6f latency=%.3fs error=%s",
            grant.node_id,
            grant.purpose,
            outcome.model,
            outcome.prompt_tokens,
            outcome.completion_tokens,
            outcome.cost,
            latency,
            outcome.error,
        )
        try:
            with self._record_lock:
                self._recorder.record_llm_call(
                    node_id=grant.node_id,
                    purpose=grant.purpose,
                    model=outcome.model,
                    prompt_tokens=outcome.prompt_tokens,
                    completion_tokens=outcome.completion_tokens,
                    cost=outcome.cost,
                    latency=latency,
                    error=outcome.error,
                )
        except Exception:
            # The call already happened (and was paid for); losing its record must not also lose its answer.
            log.exception("could not record a model call for node %s", grant.node_id)
