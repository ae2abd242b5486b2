"""The gateway: tokens tied to nodes, budgets, and metered model calls over HTTP or in process."""

from __future__ import annotations

import json
import logging
import secrets
import threading
import time
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from hgm.gateway import upstream
from hgm.gateway.config import GatewayConfig, ModelConfig
from hgm.gateway.errors import GatewayError
from hgm.gateway.meter import Hold, Meter

if TYPE_CHECKING:
    from hgm.gateway.server import HTTPServer

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


TRANSPORTS = frozenset({"unix", "tcp"})


@dataclass(frozen=True)
class Grant:
    """Who a token speaks for, which model aliases it may call, and where it is accepted over HTTP."""

    node_id: int | None
    purpose: str
    models: frozenset[str] = frozenset()
    transports: frozenset[str] = frozenset()


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
        self._peers: dict[str, int] = {}
        self._lock = threading.Lock()
        self._record_lock = threading.Lock()
        self._stopping = threading.Event()
        # One event per call in flight: set when its client leaves, or for all of them when the gateway stops.
        self._calls: set[threading.Event] = set()
        self._http: HTTPServer | None = None

    @property
    def url(self) -> str:
        """Base URL of the TCP endpoint, e.g. http://127.0.0.1:41234 (clients append /v1)."""
        if self._http is None:
            raise RuntimeError("the gateway is not started; call start() first")
        name, port = self._http.tcp_address
        return f"http://[{name}]:{port}" if ":" in name else f"http://{name}:{port}"

    def start(self) -> None:
        """Load litellm and start serving on TCP (and on the unix socket when a socket_dir was given)."""
        if self._http is not None:
            return
        upstream.load_litellm()
        from hgm.gateway.server import HTTPServer  # aiohttp is imported only by a gateway that serves

        self._stopping.clear()
        http = HTTPServer(self, self._host, self._port, self.socket_path)
        http.start()
        self._http = http
        log.info("gateway serving %s%s", self.url, f" and {self.socket_path}" if self.socket_path else "")

    def stop(self) -> None:
        """Stop serving; calls waiting to retry give up; the socket file is removed."""
        self._stopping.set()
        with self._lock:
            calls = list(self._calls)
        for gone in calls:
            gone.set()
        if self._http is not None:
            self._http.stop()
            if self.socket_path is not None:
                self.socket_path.unlink(missing_ok=True)
        self._http = None

    def __enter__(self) -> Gateway:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def issue_token(
        self, node_id: int | None, purpose: str, *, models: Collection[str], transports: Collection[str] = ("unix",)
    ) -> str:
        """A new bearer token billed to `node_id`, recorded under `purpose`, able to call only the aliases `models`.

        Over HTTP it is accepted only on `transports`: "unix" (the socket mounted into sandboxes) and/or "tcp" (the
        loopback port, which every local user can reach; for host-side clients). `Gateway.complete` accepts it
        in-process whatever `transports` says, so `transports=()` makes a token for the host's own calls.
        """
        if isinstance(models, str):
            raise TypeError(f"models must be a collection of aliases, e.g. ({models!r},)")
        unknown = sorted(set(models) - self.config.models.keys())
        if unknown:
            served = ", ".join(self.config.models)
            raise ValueError(f"no model alias {', '.join(unknown)}; this gateway serves {served}")
        if isinstance(transports, str) or not set(transports) <= TRANSPORTS:
            raise ValueError(f"transports must be a collection of {sorted(TRANSPORTS)}, not {transports!r}")
        token = "hgm-" + secrets.token_urlsafe(24)
        with self._lock:
            self._grants[token] = Grant(node_id, purpose, frozenset(models), frozenset(transports))
        return token

    def revoke(self, token: str) -> None:
        """Make `token` useless from now on."""
        with self._lock:
            self._grants.pop(token, None)
            self._peers.pop(token, None)

    def spent(self, node_id: int | None = None) -> float:
        """USD spent by the run, or by one node."""
        return self._meter.spent(node_id)

    def authorize(self, token: str, transport: str, peer_uid: int | None = None) -> Grant:
        """The grant of a token presented over HTTP on `transport`, by a unix-socket peer running as `peer_uid`.

        The first peer uid that uses a token is remembered and a different uid is refused from then on: a token
        copied out of its sandbox cannot be used by another local user (the same uid can; see the README).
        """
        grant = self._grant(token)
        if transport not in grant.transports:
            where = " and ".join(sorted(grant.transports)) or "in-process calls"
            raise GatewayError(
                401, "invalid_api_key", f"this token is not accepted on the {transport} endpoint (only: {where})"
            )
        if peer_uid is not None:
            with self._lock:
                first = self._peers.setdefault(token, peer_uid)
            if first != peer_uid:
                log.warning(
                    "token of node %s (%s) presented by uid %d, first used by uid %d: refused",
                    grant.node_id,
                    grant.purpose,
                    peer_uid,
                    first,
                )
                raise GatewayError(403, "peer_mismatch", "this token belongs to another local user; use your own")
        return grant

    def list_models(self, grant: Grant | str) -> dict[str, Any]:
        """The aliases a grant (or token) may call, in OpenAI's model-list format."""
        if isinstance(grant, str):
            grant = self._grant(grant)
        return {
            "object": "list",
            "data": [{"id": alias, "object": "model", "owned_by": "hgm"} for alias in sorted(grant.models)],
        }

    def complete(self, token: str, request: dict[str, Any]) -> dict[str, Any]:
        """One metered chat completion, in-process; returns the OpenAI-format response or raises GatewayError."""
        return self._call(self._grant(token), request, threading.Event())

    def serve(self, grant: Grant, body: bytes, gone: threading.Event) -> tuple[int, dict[str, Any]]:
        """Answer one HTTP request body for an authorised grant: (status, JSON body); never raises."""
        try:
            try:
                request = json.loads(body)
            except (json.JSONDecodeError, UnicodeDecodeError) as e:
                raise GatewayError(400, "invalid_json", f"the request body is not valid JSON: {e}") from None
            if not isinstance(request, dict):
                raise GatewayError(400, "invalid_json", "the request body must be a JSON object")
            return 200, self._call(grant, request, gone)
        except GatewayError as e:
            return e.status, e.body()
        except Exception:
            log.exception("the gateway failed while answering a chat completion")
            error = GatewayError(500, "gateway_error", "internal gateway error (see the hgm log)", "api_error")
            return error.status, error.body()

    def _call(self, grant: Grant, request: dict[str, Any], gone: threading.Event) -> dict[str, Any]:
        alias = request.get("model")
        outcome = _Outcome(model=str(alias))
        started = time.monotonic()
        with self._lock:
            self._calls.add(gone)
        hold: Hold | None = None
        try:
            if gone.is_set():
                raise GatewayError(499, "client_disconnected", "the client left before the call started")
            config = self._model(alias, grant)
            outcome.model = config.model
            if self._stopping.is_set():
                raise GatewayError(503, "gateway_stopping", "the gateway is shutting down", "api_error")
            kwargs, key = upstream.build_call(str(alias), config, request, self.config)
            hold = self._hold(grant, config, kwargs)
            response = upstream.call(str(alias), config, kwargs, self.config, upstream.secret_values(key), gone.wait)
            outcome.prompt_tokens, outcome.completion_tokens = upstream.usage(response)
            outcome.cost = upstream.cost(config, response)
            return response.model_dump(mode="json", exclude_none=False)
        except GatewayError as e:
            outcome.error = e.message if e.message.startswith(e.code) else f"{e.code}: {e.message}"
            raise
        except Exception as e:
            outcome.error = f"gateway_error: {type(e).__name__}"
            raise
        finally:
            with self._lock:
                self._calls.discard(gone)
            if hold is not None:
                self._meter.settle(hold, outcome.cost)
            if gone.is_set() and not self._stopping.is_set() and not (outcome.error or "").startswith("client_"):
                # An agent stopped at its time limit leaves mid-call: a normal event, and never a success.
                ended = f" (the call ended with {outcome.error})" if outcome.error else ""
                outcome.error = f"client_disconnected: the client left before the answer{ended}"
            self._record(grant, outcome, time.monotonic() - started)

    def _hold(self, grant: Grant, config: ModelConfig, kwargs: dict[str, Any]) -> Hold:
        """Hold the call's worst-case cost, lowering its completion-token limit to what the budgets allow."""
        estimate = upstream.estimate(config, kwargs)
        key = upstream.completion_key(kwargs)
        wanted = kwargs.get(key)
        hold, tokens = self._meter.reserve(
            grant.node_id, estimate.prompt_cost, estimate.token_cost, wanted or estimate.max_output
        )
        if tokens is not None and (wanted is not None or tokens != estimate.max_output):
            kwargs[key] = tokens
        return hold

    def _grant(self, token: str) -> Grant:
        with self._lock:
            grant = self._grants.get(token)
        if grant is None:
            raise GatewayError(
                401, "invalid_api_key", "missing or unknown bearer token: use the token hgm gave this sandbox"
            )
        return grant

    def _model(self, alias: object, grant: Grant) -> ModelConfig:
        config = self.config.models.get(alias) if isinstance(alias, str) else None
        allowed = ", ".join(sorted(grant.models)) or "none"
        if config is None:
            raise GatewayError(404, "model_not_found", f"unknown model {alias!r}; this token may call: {allowed}")
        if alias not in grant.models:
            raise GatewayError(
                403, "model_not_allowed", f"this token may not call model {alias!r}; it may call: {allowed}"
            )
        return config

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
