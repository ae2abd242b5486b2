"""The LLM gateway over real loopback HTTP and a real unix socket, in front of scripted and fake providers."""

from __future__ import annotations

import http.client
import json
import logging
import os
import socket
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import openai
import pytest
from fake_openai_server import FakeOpenAIServer, Reply, error_body
from pydantic import ValidationError

from hgm.gateway import Gateway, GatewayConfig, GatewayError, ModelConfig, check_model, inspect_model
from hgm.gateway.errors import failure_for, retry_after, retry_delay
from hgm.gateway.upstream import estimate, load_litellm
from hgm.models.scripted import Canned, Rules, register_script, tool_call, unregister_script

SECRET = "sk-hgm-test-secret-0123456789abcdef"
HELLO = [{"role": "user", "content": "say hello"}]
TOOLS = [{"type": "function", "function": {"name": "bash", "parameters": {"type": "object", "properties": {}}}}]


class Recorder:
    """Keeps every recorded call in memory."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def record_llm_call(self, **call: Any) -> None:
        with self._lock:
            self.calls.append(call)


class UnixHTTPConnection(http.client.HTTPConnection):
    """http.client over AF_UNIX, as a standard-library agent inside a sandbox would connect."""

    def __init__(self, path: Path) -> None:
        super().__init__("localhost", timeout=30)
        self.path = path

    def connect(self) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(str(self.path))


@pytest.fixture
def fake() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer() as server:
        yield server


@pytest.fixture
def key(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("HGM_TEST_KEY", SECRET)
    return SECRET


@pytest.fixture(autouse=True)
def scripts() -> Iterator[None]:
    register_script("gw-canned", Canned(["hello", {"tool_calls": [tool_call("bash", {"cmd": "ls"})]}]))
    register_script("gw-echo", Rules([(r"(.*)", lambda m, _: f"echo: {m.group(1)}")]))
    yield
    unregister_script("gw-canned")
    unregister_script("gw-echo")


def fake_model(fake: FakeOpenAIServer, **fields: Any) -> ModelConfig:
    return ModelConfig(model="openai/whatever", api_base=fake.url, api_key_env="HGM_TEST_KEY", **fields)


PRICED = {"input_cost_per_token": 0.001, "output_cost_per_token": 0.002}  # fake call: 11 * 0.001 + 7 * 0.002 USD


@contextmanager
def running(models: dict[str, ModelConfig], recorder: Recorder, **options: Any) -> Iterator[Gateway]:
    gateway_options = {k: options.pop(k) for k in ("socket_dir", "spent_run", "spent_by_node") if k in options}
    config = GatewayConfig(models=models, backoff=0.01, **options)
    with Gateway(config, recorder, **gateway_options) as gateway:
        yield gateway


def tcp_token(gateway: Gateway, node_id: int | None, purpose: str) -> str:
    """A token for every alias, accepted on the loopback TCP endpoint (as a host-side client would hold)."""
    return gateway.issue_token(node_id, purpose, models=tuple(gateway.config.models), transports=("tcp",))


def post(gateway: Gateway, token: str | None, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    host, port = gateway.url.removeprefix("http://").rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    conn.request("POST", "/v1/chat/completions", json.dumps(body), headers)
    response = conn.getresponse()
    status, data = response.status, json.loads(response.read())
    conn.close()
    return status, data


def test_openai_client_chat_with_and_without_tool_calls() -> None:
    recorder = Recorder()
    with running({"agent": ModelConfig(model="scripted/gw-canned")}, recorder) as gateway:
        client = openai.OpenAI(base_url=gateway.url + "/v1", api_key=tcp_token(gateway, 7, "agent"))
        first = client.chat.completions.create(model="agent", messages=HELLO)  # type: ignore[arg-type]
        history = [*HELLO, {"role": "assistant", "content": "hello"}, {"role": "user", "content": "now list files"}]
        second = client.chat.completions.create(model="agent", messages=history, tools=TOOLS)  # type: ignore[arg-type]
        listed = [m.id for m in client.models.list()]
    assert first.choices[0].message.content == "hello"
    assert first.usage is not None and (first.usage.prompt_tokens, first.usage.completion_tokens) == (2, 1)
    calls = second.choices[0].message.tool_calls
    assert calls is not None and calls[0].function.name == "bash"  # type: ignore[union-attr]
    assert json.loads(calls[0].function.arguments) == {"cmd": "ls"}  # type: ignore[union-attr]
    assert second.choices[0].finish_reason == "tool_calls"
    assert listed == ["agent"]
    assert [(c["node_id"], c["purpose"], c["model"], c["error"]) for c in recorder.calls] == [
        (7, "agent", "scripted/gw-canned", None),
        (7, "agent", "scripted/gw-canned", None),
    ]
    assert [(c["prompt_tokens"], c["completion_tokens"], c["cost"]) for c in recorder.calls] == [
        (2, 1, 0.0),
        (6, 3, 0.0),
    ]


def test_unix_socket_with_raw_http_client(tmp_path: Path) -> None:
    recorder = Recorder()
    socket_dir = tmp_path / "sock"
    with running({"agent": ModelConfig(model="scripted/gw-echo")}, recorder, socket_dir=socket_dir) as gateway:
        assert gateway.socket_path == socket_dir / "gateway.sock"
        assert stat.S_ISSOCK(gateway.socket_path.stat().st_mode)
        assert stat.S_IMODE(gateway.socket_path.stat().st_mode) == 0o666
        assert stat.S_IMODE(socket_dir.stat().st_mode) == 0o755
        token = gateway.issue_token(3, "selfmod", models=("agent",))
        conn = UnixHTTPConnection(gateway.socket_path)
        body = {"model": "agent", "messages": [{"role": "user", "content": "over the socket"}]}
        answers = []
        for _ in range(2):  # the same keep-alive connection serves two requests
            conn.request("POST", "/v1/chat/completions", json.dumps(body), {"Authorization": f"Bearer {token}"})
            response = conn.getresponse()
            answers.append((response.status, json.loads(response.read())["choices"][0]["message"]["content"]))
        conn.close()
    assert answers == [(200, "echo: over the socket")] * 2
    assert not (socket_dir / "gateway.sock").exists()
    assert [(c["node_id"], c["purpose"]) for c in recorder.calls] == [(3, "selfmod"), (3, "selfmod")]


def test_litellm_routes_to_a_local_openai_compatible_server(fake: FakeOpenAIServer, key: str) -> None:
    recorder = Recorder()
    with running({"agent": fake_model(fake, temperature=0.3)}, recorder) as gateway:
        client = openai.OpenAI(base_url=gateway.url + "/v1", api_key=tcp_token(gateway, 1, "agent"))
        reply = client.chat.completions.create(model="agent", messages=HELLO, tools=TOOLS, seed=5)  # type: ignore[arg-type]
    assert reply.choices[0].message.content == "hello from the fake server"
    [seen] = fake.requests
    assert seen.path == "/v1/chat/completions"
    assert seen.headers["authorization"] == f"Bearer {key}"
    assert (seen.body["model"], seen.body["messages"], seen.body["tools"]) == ("whatever", HELLO, TOOLS)
    assert (seen.body["temperature"], seen.body["seed"]) == (0.3, 5)
    [call] = recorder.calls
    assert (call["model"], call["error"]) == ("openai/whatever", None)
    assert (call["prompt_tokens"], call["completion_tokens"]) == (11, 7)
    assert call["latency"] > 0
    assert call["cost"] == 0.0  # litellm has no price for this model


def test_rate_limits_are_retried_respecting_retry_after(
    fake: FakeOpenAIServer, key: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="hgm.gateway")
    limited = Reply(429, error_body("slow down", "rate_limit_error"), {"retry-after": "0.05"})
    fake.enqueue(limited, limited)
    recorder = Recorder()
    with running({"agent": fake_model(fake)}, recorder, retries=3) as gateway:
        status, body = post(gateway, tcp_token(gateway, 1, "agent"), {"model": "agent", "messages": HELLO})
    assert status == 200
    assert body["choices"][0]["message"]["content"] == "hello from the fake server"
    assert len(fake.requests) == 3
    assert [c["error"] for c in recorder.calls] == [None]
    waits = [r.getMessage().rsplit(" in ", 1)[1] for r in caplog.records if "retry" in r.getMessage()]
    assert waits == ["0.05s", "0.05s"]  # backoff would be 0.01s, then 0.02s


def test_transient_errors_give_up_after_the_configured_retries(fake: FakeOpenAIServer, key: str) -> None:
    fake.enqueue(*[Reply(500, error_body("upstream broke", "server_error"))] * 3)
    recorder = Recorder()
    with running({"agent": fake_model(fake)}, recorder, retries=2) as gateway:
        status, body = post(gateway, tcp_token(gateway, 1, "agent"), {"model": "agent", "messages": HELLO})
    assert status == 502
    assert body["error"]["code"] == "provider_error"
    assert "after 3 attempts" in body["error"]["message"]
    assert "upstream broke" in body["error"]["message"]
    assert len(fake.requests) == 3
    assert recorder.calls[0]["error"].startswith("provider_error: ")


def test_provider_auth_failure_fails_fast_with_a_clear_message(fake: FakeOpenAIServer, key: str) -> None:
    fake.enqueue(Reply(401, error_body(f"Incorrect API key provided: {key}", "invalid_request_error")))
    recorder = Recorder()
    with running({"agent": fake_model(fake)}, recorder) as gateway:
        client = openai.OpenAI(base_url=gateway.url + "/v1", api_key=tcp_token(gateway, 1, "agent"))
        with pytest.raises(openai.APIStatusError) as info:
            client.chat.completions.create(model="agent", messages=HELLO)  # type: ignore[arg-type]
    assert info.value.status_code == 502
    message = str(info.value)
    assert "rejected the API key for openai/whatever (alias 'agent')" in message
    assert "HGM_TEST_KEY" in message
    assert len(fake.requests) == 1  # neither the gateway nor the openai client retried
    assert len(recorder.calls) == 1 and recorder.calls[0]["error"].startswith("provider_auth_failed: ")


def test_timeouts_are_reported_as_such(fake: FakeOpenAIServer, key: str) -> None:
    fake.enqueue(Reply(delay=30))
    recorder = Recorder()
    with running({"agent": fake_model(fake)}, recorder, retries=0, timeout=0.3) as gateway:
        status, body = post(gateway, tcp_token(gateway, 1, "agent"), {"model": "agent", "messages": HELLO})
    assert (status, body["error"]["code"]) == (504, "provider_timeout")


def test_missing_key_variable_fails_fast_naming_it(fake: FakeOpenAIServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HGM_UNSET_KEY", raising=False)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    models = {
        "named": ModelConfig(model="openai/whatever", api_base=fake.url, api_key_env="HGM_UNSET_KEY"),
        "default": ModelConfig(model="openai/gpt-4o-mini"),
    }
    with running(models, Recorder()) as gateway:
        token = tcp_token(gateway, None, "diagnosis")
        named = post(gateway, token, {"model": "named", "messages": HELLO})
        default = post(gateway, token, {"model": "default", "messages": HELLO})
    assert named[0] == default[0] == 502
    assert named[1]["error"]["code"] == default[1]["error"]["code"] == "provider_key_missing"
    assert "$HGM_UNSET_KEY" in named[1]["error"]["message"]
    assert "set OPENAI_API_KEY in the environment that runs hgm" in default[1]["error"]["message"]
    assert "after" not in default[1]["error"]["message"]  # not retried
    assert fake.requests == []


def test_a_local_server_gets_a_placeholder_key_never_the_providers_key(
    fake: FakeOpenAIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    local = fake.url.replace("127.0.0.1", "localhost")
    models = {
        "ip": ModelConfig(model="openai/whatever", api_base=fake.url),
        "name": ModelConfig(model="openai/x", api_base=local),
    }
    with running(models, Recorder()) as gateway:
        token = tcp_token(gateway, 1, "agent")
        answers = [post(gateway, token, {"model": alias, "messages": HELLO})[0] for alias in models]
    assert answers == [200, 200]
    assert [seen.headers["authorization"] for seen in fake.requests] == ["Bearer hgm-local-no-key"] * 2


def test_unknown_alias_lists_the_served_aliases() -> None:
    recorder = Recorder()
    models = {"agent": ModelConfig(model="scripted/gw-echo"), "selfmod": ModelConfig(model="scripted/gw-echo")}
    with running(models, recorder) as gateway:
        status, body = post(gateway, tcp_token(gateway, 2, "agent"), {"model": "gpt-4o", "messages": HELLO})
    assert status == 404
    assert body["error"]["code"] == "model_not_found"
    assert body["error"]["message"] == "unknown model 'gpt-4o'; this token may call: agent, selfmod"
    assert recorder.calls[0]["model"] == "gpt-4o" and recorder.calls[0]["error"].startswith("model_not_found")


def test_bad_missing_and_revoked_tokens_are_refused_and_not_recorded() -> None:
    recorder = Recorder()
    with running({"agent": ModelConfig(model="scripted/gw-echo")}, recorder) as gateway:
        token = tcp_token(gateway, 1, "agent")
        body = {"model": "agent", "messages": HELLO}
        assert post(gateway, token, body)[0] == 200
        bad, missing = post(gateway, "hgm-not-a-token", body), post(gateway, None, body)
        gateway.revoke(token)
        revoked = post(gateway, token, body)
        with pytest.raises(GatewayError) as info:
            gateway.complete(token, body)
    for status, error in (bad, missing, revoked):
        assert status == 401
        assert error["error"]["code"] == "invalid_api_key"
        assert error["error"]["message"].startswith("missing or unknown bearer token")
    assert info.value.status == 401
    assert len(recorder.calls) == 1


def test_unknown_routes_and_bad_json_get_openai_style_errors() -> None:
    with running({"agent": ModelConfig(model="scripted/gw-echo")}, Recorder()) as gateway:
        host, port = gateway.url.removeprefix("http://").rsplit(":", 1)
        conn = http.client.HTTPConnection(host, int(port), timeout=30)
        answers = []
        auth = {"Authorization": f"Bearer {tcp_token(gateway, 1, 'agent')}"}
        for method, path, body in [
            ("POST", "/v1/embeddings", "{}"),
            ("GET", "/v1/nothing", None),
            ("POST", "/v1/chat/completions", "{not json"),
            ("POST", "/v1/chat/completions", "[1, 2]"),
        ]:
            conn.request(method, path, body, auth)
            response = conn.getresponse()
            answers.append((response.status, json.loads(response.read())["error"]["code"]))
        conn.close()
    assert answers == [(404, "not_found"), (404, "not_found"), (400, "invalid_json"), (400, "invalid_json")]


def worst_case(model: ModelConfig, messages: list[dict[str, Any]], max_tokens: int) -> float:
    """What the gateway holds before a call: its prompt's estimated cost and `max_tokens` completion tokens."""
    held = estimate(model, {"messages": messages})
    return held.prompt_cost + held.token_cost * max_tokens


def test_per_node_budget_refuses_later_calls_without_forwarding(fake: FakeOpenAIServer, key: str) -> None:
    recorder = Recorder()
    model = fake_model(fake, **PRICED)
    budget = 0.025 + worst_case(model, HELLO, 7) + 1e-9  # one call spent, room for the worst case of one more
    with running({"agent": model}, recorder, max_cost_per_node=budget) as gateway:
        token, other = tcp_token(gateway, 1, "agent"), tcp_token(gateway, 2, "agent")
        body = {"model": "agent", "messages": HELLO, "max_tokens": 7}
        results = [post(gateway, token, body) for _ in range(3)]
        other_node = post(gateway, other, body)
        spent = (gateway.spent(1), gateway.spent(2), gateway.spent())
    assert [status for status, _ in results] == [200, 200, 429]
    refusal = results[2][1]["error"]
    assert (refusal["code"], refusal["type"]) == ("budget_exceeded", "budget_exceeded")
    assert "leaves no room for an answer within node 1's remaining budget" in refusal["message"]
    assert other_node[0] == 200
    assert len(fake.requests) == 3  # two for node 1, one for node 2
    assert spent == pytest.approx((0.05, 0.025, 0.075))
    assert [c["node_id"] for c in recorder.calls] == [1, 1, 1, 2]
    assert [c["cost"] for c in recorder.calls] == pytest.approx([0.025, 0.025, 0.0, 0.025])
    assert recorder.calls[2]["error"].startswith("budget_exceeded: this call's prompt")
    with running({"agent": model}, Recorder(), max_cost_per_node=0.05, spent_by_node={1: 0.05}) as gateway:
        status, body = post(gateway, tcp_token(gateway, 1, "agent"), {"model": "agent", "messages": HELLO})
    assert status == 429
    assert "node 1 has spent $0.0500 of its $0.0500 budget (max_cost_per_node)" in body["error"]["message"]


def test_per_run_budget_counts_every_node_and_what_was_spent_before(fake: FakeOpenAIServer, key: str) -> None:
    recorder = Recorder()
    model = fake_model(fake, **PRICED)
    budget = 0.075 + worst_case(model, HELLO, 7) + 1e-9
    options: dict[str, Any] = {"max_cost_per_run": budget, "spent_run": 0.05, "spent_by_node": {1: 0.05}}
    with running({"agent": model}, recorder, **options) as gateway:
        body = {"model": "agent", "messages": HELLO, "max_tokens": 7}
        first = post(gateway, tcp_token(gateway, 2, "agent"), body)
        second = post(gateway, tcp_token(gateway, 3, "agent"), body)
        third = post(gateway, tcp_token(gateway, 4, "agent"), body)
        with pytest.raises(GatewayError) as info:
            gateway.complete(tcp_token(gateway, None, "diagnosis"), body)
        spent = (gateway.spent(), gateway.spent(1))
    assert (first[0], second[0], third[0]) == (200, 200, 429)
    assert "leaves no room for an answer within the run's remaining budget" in third[1]["error"]["message"]
    assert (info.value.status, info.value.code) == (429, "budget_exceeded")
    assert len(fake.requests) == 2
    assert spent == pytest.approx((0.1, 0.05))
    assert [c["error"] is None for c in recorder.calls] == [True, True, False, False]
    with running({"agent": model}, Recorder(), max_cost_per_run=0.1, spent_run=0.1) as gateway:
        status, body = post(gateway, tcp_token(gateway, 5, "agent"), {"model": "agent", "messages": HELLO})
    assert status == 429
    assert "the run has spent $0.1000 of its $0.1000 budget (max_cost_per_run)" in body["error"]["message"]


def test_per_call_cost_caps_the_completion_tokens(fake: FakeOpenAIServer, key: str) -> None:
    recorder = Recorder()
    model = fake_model(fake, **PRICED)
    long = [{"role": "user", "content": "word " * 60}]
    with running({"agent": model}, recorder, max_cost_per_call=0.05) as gateway:
        token = tcp_token(gateway, 1, "agent")
        capped = post(gateway, token, {"model": "agent", "messages": HELLO, "max_tokens": 1000})
        too_long = post(gateway, token, {"model": "agent", "messages": long})
    assert capped[0] == 200
    assert fake.requests[0].body["max_tokens"] == int((0.05 - worst_case(model, HELLO, 0)) / 0.002)
    assert too_long[0] == 429
    assert "leaves no room for an answer within max_cost_per_call" in too_long[1]["error"]["message"]
    assert len(fake.requests) == 1


def test_max_tokens_is_capped_by_the_gateway_and_the_model(fake: FakeOpenAIServer, key: str) -> None:
    models = {"a": fake_model(fake, max_tokens=50), "b": fake_model(fake)}
    with running(models, Recorder(), max_tokens_per_call=100) as gateway:
        token = tcp_token(gateway, 1, "agent")
        post(gateway, token, {"model": "a", "messages": HELLO, "max_tokens": 4000})
        post(gateway, token, {"model": "b", "messages": HELLO})
        post(gateway, token, {"model": "b", "messages": HELLO, "max_completion_tokens": 30})
    assert fake.requests[0].body["max_tokens"] == 50
    assert fake.requests[1].body["max_tokens"] == 100
    assert fake.requests[2].body["max_completion_tokens"] == 30


def test_clients_cannot_redirect_calls_or_stream(fake: FakeOpenAIServer, key: str) -> None:
    with running({"agent": fake_model(fake)}, Recorder()) as gateway:
        token = tcp_token(gateway, 1, "agent")
        redirect = post(gateway, token, {"model": "agent", "messages": HELLO, "api_base": "http://127.0.0.1:9/v1"})
        stream = post(gateway, token, {"model": "agent", "messages": HELLO, "stream": True})
        empty = post(gateway, token, {"model": "agent", "messages": []})
        # Limits the budget hold is computed from must be the ones the provider reads.
        dodges = [
            post(gateway, token, {"model": "agent", "messages": HELLO, **extra})
            for extra in ({"max_tokens": 1, "max_completion_tokens": 100000}, {"max_tokens": "100000"}, {"n": 2.5})
        ]
    assert [(status, body["error"]["code"]) for status, body in dodges] == [(400, "invalid_request")] * 3
    assert redirect[0] == 400 and redirect[1]["error"]["code"] == "unsupported_parameter"
    assert "api_base" in redirect[1]["error"]["message"]
    assert stream[0] == 400 and stream[1]["error"]["code"] == "stream_unsupported"
    assert empty[0] == 400 and "'messages' must be a non-empty list" in empty[1]["error"]["message"]
    assert fake.requests == []


def test_api_keys_are_never_returned_recorded_or_logged(
    fake: FakeOpenAIServer, key: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    fake.enqueue(
        Reply(500, error_body(f"backend trouble with key {key}", "server_error")),
        Reply(401, error_body(f"Incorrect API key provided: {key}", "invalid_request_error")),
    )
    recorder = Recorder()
    with running({"agent": fake_model(fake)}, recorder) as gateway:
        token = tcp_token(gateway, 1, "agent")
        failed = post(gateway, token, {"model": "agent", "messages": HELLO})
        ok = post(gateway, token, {"model": "agent", "messages": HELLO})
        listed = gateway.list_models(token)
    assert fake.requests[0].headers["authorization"] == f"Bearer {key}"  # the key did reach the provider
    assert failed[0] == 502 and "Incorrect API key provided: ***" in failed[1]["error"]["message"]
    assert ok[0] == 200
    everything = json.dumps([failed, ok, listed, recorder.calls], default=str) + caplog.text
    assert "Incorrect API key" in everything and "backend trouble" in caplog.text
    assert key not in everything


def test_many_sandboxes_at_once_and_a_slow_call_blocks_no_one(fake: FakeOpenAIServer, key: str) -> None:
    recorder = Recorder()
    models = {"echo": ModelConfig(model="scripted/gw-echo"), "slow": fake_model(fake)}
    with running(models, recorder) as gateway:
        fake.enqueue(Reply(delay=60))
        slow: list[tuple[int, dict[str, Any]]] = []
        slow_token = tcp_token(gateway, 0, "agent")
        slow_thread = threading.Thread(
            target=lambda: slow.append(post(gateway, slow_token, {"model": "slow", "messages": HELLO}))
        )
        slow_thread.start()
        fake.wait_for_requests(1)
        clients = [
            openai.OpenAI(base_url=gateway.url + "/v1", api_key=tcp_token(gateway, i, "agent")) for i in range(1, 9)
        ]

        def ask(i: int) -> str | None:
            messages = [{"role": "user", "content": f"message {i}"}]
            reply = clients[i % 8].chat.completions.create(model="echo", messages=messages)  # type: ignore[arg-type]
            return reply.choices[0].message.content

        with ThreadPoolExecutor(max_workers=8) as pool:
            replies = list(pool.map(ask, range(16)))
        assert slow == []  # the slow call is still waiting on its provider while the others were answered
        fake.release()
        slow_thread.join()
    assert replies == [f"echo: message {i}" for i in range(16)]
    assert slow[0][0] == 200
    assert len(recorder.calls) == 17


def test_in_process_calls_are_metered_like_http_ones(fake: FakeOpenAIServer, key: str) -> None:
    recorder = Recorder()
    with running({"diagnosis": fake_model(fake, **PRICED)}, recorder) as gateway:
        token = tcp_token(gateway, None, "diagnosis")
        response = gateway.complete(token, {"model": "diagnosis", "messages": HELLO})
        spent = gateway.spent()
    assert response["choices"][0]["message"]["content"] == "hello from the fake server"
    assert response["usage"]["prompt_tokens"] == 11
    assert spent == pytest.approx(0.025)
    assert [(c["node_id"], c["purpose"], c["cost"]) for c in recorder.calls] == [
        (None, "diagnosis", pytest.approx(0.025))
    ]


def test_a_failing_recorder_does_not_lose_the_answer(caplog: pytest.LogCaptureFixture) -> None:
    class Broken:
        def record_llm_call(self, **call: Any) -> None:
            raise RuntimeError("database is locked")

    config = GatewayConfig(models={"agent": ModelConfig(model="scripted/gw-echo")})
    with Gateway(config, Broken()) as gateway:
        response = gateway.complete(tcp_token(gateway, 1, "agent"), {"model": "agent", "messages": HELLO})
    assert response["choices"][0]["message"]["content"] == "echo: say hello"
    assert "could not record a model call for node 1" in caplog.text


def test_stop_interrupts_retry_waits(fake: FakeOpenAIServer, key: str) -> None:
    fake.enqueue(Reply(503, error_body("busy", "server_error"), {"retry-after": "600"}))
    config = GatewayConfig(models={"agent": fake_model(fake)}, max_backoff=600)
    gateway = Gateway(config, Recorder())
    gateway.start()
    outcome: list[BaseException] = []

    def call() -> None:
        try:
            gateway.complete(tcp_token(gateway, 1, "agent"), {"model": "agent", "messages": HELLO})
        except GatewayError as e:
            outcome.append(e)

    worker = threading.Thread(target=call)
    worker.start()
    fake.wait_for_requests(1)
    gateway.stop()
    worker.join()
    assert isinstance(outcome[0], GatewayError) and outcome[0].code == "gateway_stopping"


def test_socket_path_problems_have_clear_messages(tmp_path: Path) -> None:
    config = GatewayConfig(models={"agent": ModelConfig(model="scripted/gw-echo")})
    (tmp_path / "gateway.sock").write_text("not a socket")
    with pytest.raises(ValueError, match="exists and is not a socket"):
        Gateway(config, Recorder(), socket_dir=tmp_path).start()
    with pytest.raises(ValueError, match="longer than 107 bytes"):
        Gateway(config, Recorder(), socket_dir=tmp_path / ("d" * 120)).start()


def test_config_rejects_typos_keys_and_half_prices() -> None:
    with pytest.raises(ValidationError, match="max_cost_per_nod"):
        GatewayConfig.model_validate({"models": {}, "max_cost_per_nod": 1})
    with pytest.raises(ValidationError, match="extra_params may not set api_key"):
        ModelConfig(model="openai/gpt-4o-mini", extra_params={"api_key": "sk-x"})
    with pytest.raises(ValidationError, match="set both input_cost_per_token and output_cost_per_token"):
        ModelConfig(model="openai/gpt-4o-mini", input_cost_per_token=0.1)


def test_error_table_decides_retry_and_wording() -> None:
    litellm = load_litellm()
    cases = {
        "RateLimitError": (True, "rate_limited"),
        "AuthenticationError": (False, "provider_auth_failed"),
        "NotFoundError": (False, "provider_model_not_found"),
        "InternalServerError": (True, "provider_error"),
        "ServiceUnavailableError": (True, "provider_unavailable"),
        "ContextWindowExceededError": (False, "context_length_exceeded"),
        "BadRequestError": (False, "invalid_request"),
    }
    for name, expected in cases.items():
        exc = getattr(litellm, name)(message="something", llm_provider="openai", model="gpt-x")
        assert (failure_for(exc).retry, failure_for(exc).code) == expected, name
    unknown_model = litellm.BadRequestError(
        message="The model `gpt-9` does not exist", llm_provider="openai", model="x"
    )
    assert failure_for(unknown_model).code == "provider_model_not_found"
    no_key = litellm.InternalServerError(message="Missing credentials. Pass an `api_key`", llm_provider="o", model="x")
    assert (failure_for(no_key).retry, failure_for(no_key).code) == (False, "provider_key_missing")
    assert failure_for(ValueError("odd")).code == "gateway_error"


def test_retry_after_headers_and_delays() -> None:
    class Response:
        def __init__(self, headers: dict[str, str]) -> None:
            self.headers = headers

    class Failed(Exception):
        def __init__(self, headers: dict[str, str]) -> None:
            self.response = Response(headers)

    later = format_datetime(datetime.now(UTC) + timedelta(seconds=120), usegmt=True)
    assert retry_after(Failed({"Retry-After": "7"})) == 7.0
    assert retry_after(Failed({"retry-after-ms": "250"})) == 0.25
    assert 100 < (retry_after(Failed({"retry-after": later})) or 0) <= 120
    assert retry_after(Failed({"retry-after": "soon"})) is None
    assert retry_after(Failed({})) is None
    assert [retry_delay(n, 1.0, 10.0, None) for n in range(5)] == [1.0, 2.0, 4.0, 8.0, 10.0]
    assert retry_delay(0, 1.0, 10.0, 3.0) == 3.0
    assert retry_delay(0, 1.0, 10.0, 3600.0) == 10.0


def test_check_model_says_what_to_fix(fake: FakeOpenAIServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("HGM_UNSET_KEY", raising=False)
    monkeypatch.setenv("HGM_TEST_KEY", SECRET)
    assert "write it as provider/model" in (check_model(ModelConfig(model="nosuchprovider/x")) or "")
    assert check_model(ModelConfig(model="scripted/gw-echo")) is None
    assert "no script is registered as 'nothing'" in (check_model(ModelConfig(model="scripted/nothing")) or "")
    unset = check_model(ModelConfig(model="openai/gpt-4o-mini", api_key_env="HGM_UNSET_KEY")) or ""
    assert "$HGM_UNSET_KEY (api_key_env) is not set" in unset
    hosted = check_model(ModelConfig(model="openai/gpt-4o-mini")) or ""
    assert "set OPENAI_API_KEY in the environment that runs hgm" in hosted
    assert check_model(fake_model(fake), probe=True) is None
    fake.enqueue(Reply(401, error_body("Incorrect API key provided", "invalid_request_error")))
    rejected = check_model(fake_model(fake), probe=True) or ""
    assert "rejected the API key" in rejected and "HGM_TEST_KEY" in rejected
    chats = [seen for seen in fake.requests if seen.path.endswith("/chat/completions")]
    assert [seen.body["max_tokens"] for seen in chats] == [1, 1]


def test_a_local_server_is_contacted_measured_and_asked_for_a_tool_call(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with FakeOpenAIServer(models=["qwen"], tool_calls=True) as tools, FakeOpenAIServer(models=["qwen"]) as text:
        native = inspect_model(ModelConfig(model="openai/qwen", api_base=tools.url))
        fenced = inspect_model(ModelConfig(model="openai/qwen", api_base=text.url))
    assert native.problem is None and fenced.problem is None
    assert native.latency is not None and native.latency > 0
    assert (native.native_tool_calls, fenced.native_tool_calls) == (True, False)
    assert "native tool calls: yes" in native.summary
    assert "native tool calls: no (the agent must read tool calls from the text)" in fenced.summary
    assert "no API key needed: hgm sends a placeholder to this local server" in native.summary
    assert tools.requests[-1].body["tools"][0]["function"]["name"] == "bash"


def test_a_missing_server_or_an_unknown_model_is_a_problem_with_its_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        nowhere = f"http://127.0.0.1:{probe.getsockname()[1]}/v1"  # bound but not listening: refused
        missing = check_model(ModelConfig(model="openai/qwen", api_base=nowhere)) or ""
    with FakeOpenAIServer(models=["qwen"]) as server:
        unknown = check_model(ModelConfig(model="openai/qwen-coder", api_base=server.url))
    assert missing.startswith(f"openai/qwen: nothing answers at {nowhere} (")
    assert missing.endswith("start the model server there or fix --api-base")
    assert unknown == (
        f"openai/qwen-coder: the server at {server.url} does not know the model 'qwen-coder'; "
        "it serves qwen: use --model openai/qwen"
    )


def raw_request(path: Path | tuple[str, int], head: str) -> socket.socket:
    """A socket that has sent `head` (request line and headers, CRLF-joined) and no body."""
    sock = socket.socket(socket.AF_UNIX if isinstance(path, Path) else socket.AF_INET)
    sock.settimeout(30)
    sock.connect(str(path) if isinstance(path, Path) else path)
    sock.sendall(head.replace("\n", "\r\n").encode())
    return sock


def read_answer(sock: socket.socket) -> tuple[int, bytes]:
    """The status of the answer on `sock` and everything the server sent until it closed the connection."""
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    return int(data.split(b" ", 2)[1]), data


def address(gateway: Gateway) -> tuple[str, int]:
    host, port = gateway.url.removeprefix("http://").rsplit(":", 1)
    return host, int(port)


def wait_until(condition: Any, what: str, ceiling: float = 60.0) -> None:
    """Poll `condition` until it holds; fail naming `what` after a generous ceiling."""
    deadline = time.monotonic() + ceiling
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting until {what}"
        time.sleep(0.02)


def test_the_token_is_checked_before_any_body_byte_is_read(tmp_path: Path) -> None:
    models = {"agent": ModelConfig(model="scripted/gw-echo")}
    with running(models, Recorder(), socket_dir=tmp_path, max_request_bytes=1000) as gateway:
        token = gateway.issue_token(1, "evaluate:t", models=("agent",))
        huge = "POST /v1/chat/completions HTTP/1.1\nHost: x\nContent-Length: 67108864\n"
        answers = [
            read_answer(raw_request(address(gateway), huge + "\n")),
            read_answer(raw_request(address(gateway), huge + "Authorization: Bearer hgm-forged\n\n")),
            read_answer(raw_request(gateway.socket_path or tmp_path, huge + f"Authorization: Bearer {token}\n\n")),
            read_answer(raw_request(gateway.socket_path or tmp_path, "GET /v1/models HTTP/1.1\nHost: x\n\n")),
        ]
    # Each answer came although not one of the 64 MiB was sent, and the server then closed the connection.
    assert [status for status, _ in answers] == [401, 401, 413, 401]
    assert b"request body of 67108864 bytes is over the 1000-byte cap" in answers[2][1]


def test_idle_connections_cost_no_thread_and_cannot_lock_out_a_sandbox(tmp_path: Path) -> None:
    models = {"agent": ModelConfig(model="scripted/gw-echo")}
    options: dict[str, Any] = {"socket_dir": tmp_path, "max_connections": 50}
    with running(models, Recorder(), **options) as gateway:
        threads = threading.active_count()
        idle = [socket.create_connection(address(gateway), timeout=30) for _ in range(200)]
        idle += [raw_request(gateway.socket_path or tmp_path, "POST /v1/chat/") for _ in range(200)]
        wait_until(lambda: sum(not alive(s) for s in idle) >= 350, "the gateway closed the idle connections over cap")
        grown = threading.active_count() - threads
        token = gateway.issue_token(1, "evaluate:t", models=("agent",))
        conn = UnixHTTPConnection(gateway.socket_path or tmp_path)
        conn.request(
            "POST",
            "/v1/chat/completions",
            json.dumps({"model": "agent", "messages": HELLO}),
            {"Authorization": f"Bearer {token}"},
        )
        status = conn.getresponse().status
        for sock in idle:
            sock.close()
    assert grown <= 1  # 400 idle connections, no thread for any of them
    assert status == 200  # the oldest idle connection made room for the sandbox's request


def alive(sock: socket.socket) -> bool:
    """False once the peer closed `sock` (a read would return end-of-file)."""
    sock.setblocking(False)
    try:
        return sock.recv(1, socket.MSG_PEEK) != b""
    except BlockingIOError:
        return True
    except OSError:
        return False
    finally:
        sock.setblocking(True)


def test_a_connection_that_sends_nothing_is_closed_after_the_request_timeout() -> None:
    with running({"agent": ModelConfig(model="scripted/gw-echo")}, Recorder(), request_timeout=0.3) as gateway:
        silent = socket.create_connection(address(gateway), timeout=30)
        slow = raw_request(address(gateway), "POST /v1/chat/completions HTTP/1.1\nHost: x\n")  # never ends
        wait_until(lambda: not alive(silent) and not alive(slow), "the gateway closed both connections")


def test_too_many_headers_or_a_long_header_line_is_refused() -> None:
    with running({"agent": ModelConfig(model="scripted/gw-echo")}, Recorder()) as gateway:
        many = "".join(f"X-Pad-{i}: x\n" for i in range(100))
        long = f"X-Pad: {'x' * 10000}\n"
        answers = [
            read_answer(raw_request(address(gateway), f"GET /v1/models HTTP/1.1\nHost: x\n{pad}\n"))[0]
            for pad in (many, long)
        ]
    assert all(status in (400, 431) for status in answers)


def test_a_token_calls_only_its_roles_and_only_where_it_was_issued_for(tmp_path: Path) -> None:
    models = {alias: ModelConfig(model="scripted/gw-echo") for alias in ("agent", "selfmod", "diagnosis")}
    recorder = Recorder()
    with running(models, recorder, socket_dir=tmp_path) as gateway:
        evaluation = gateway.issue_token(1, "evaluate:t", models=("agent",))
        selfmod = gateway.issue_token(2, "selfmod", models=("selfmod",))
        host = gateway.issue_token(2, "diagnosis", models=("diagnosis",), transports=())
        tcp = tcp_token(gateway, 3, "tool")

        def over_unix(token: str, alias: str) -> tuple[int, dict[str, Any]]:
            conn = UnixHTTPConnection(gateway.socket_path or tmp_path)
            body = json.dumps({"model": alias, "messages": HELLO})
            conn.request("POST", "/v1/chat/completions", body, {"Authorization": f"Bearer {token}"})
            response = conn.getresponse()
            return response.status, json.loads(response.read())

        allowed = [over_unix(evaluation, "agent")[0], over_unix(selfmod, "selfmod")[0]]
        escalations = [
            over_unix(evaluation, "selfmod"),
            over_unix(evaluation, "diagnosis"),
            over_unix(selfmod, "agent"),
        ]
        wrong_place = [post(gateway, evaluation, {"model": "agent", "messages": HELLO}), over_unix(tcp, "agent")]
        host_over_http = [over_unix(host, "diagnosis"), post(gateway, host, {"model": "diagnosis", "messages": HELLO})]
        in_process = gateway.complete(host, {"model": "diagnosis", "messages": HELLO})
        with pytest.raises(GatewayError) as info:
            gateway.complete(host, {"model": "agent", "messages": HELLO})
        listed = gateway.list_models(evaluation)
        with pytest.raises(ValueError, match="no model alias judge"):
            gateway.issue_token(1, "x", models=("judge",))
        with pytest.raises(TypeError, match="collection of aliases"):
            gateway.issue_token(1, "x", models="agent")
    assert allowed == [200, 200]
    assert [(s, b["error"]["code"]) for s, b in escalations] == [(403, "model_not_allowed")] * 3
    assert "this token may not call model 'selfmod'; it may call: agent" in escalations[0][1]["error"]["message"]
    assert [(s, b["error"]["code"]) for s, b in wrong_place + host_over_http] == [(401, "invalid_api_key")] * 4
    assert "not accepted on the tcp endpoint (only: unix)" in wrong_place[0][1]["error"]["message"]
    assert in_process["choices"][0]["message"]["content"] == "echo: say hello"
    assert (info.value.status, info.value.code) == (403, "model_not_allowed")
    assert [m["id"] for m in listed["data"]] == ["agent"]
    refused = [c for c in recorder.calls if c["error"]]
    assert [(c["node_id"], c["purpose"], c["model"]) for c in refused] == [
        (1, "evaluate:t", "selfmod"),
        (1, "evaluate:t", "diagnosis"),
        (2, "selfmod", "agent"),
        (2, "diagnosis", "agent"),
    ]


def test_a_token_is_tied_to_the_first_local_user_that_presents_it(tmp_path: Path) -> None:
    with running({"agent": ModelConfig(model="scripted/gw-echo")}, Recorder(), socket_dir=tmp_path) as gateway:
        token = gateway.issue_token(1, "evaluate:t", models=("agent",))
        conn = UnixHTTPConnection(gateway.socket_path or tmp_path)
        conn.request("GET", "/v1/models", headers={"Authorization": f"Bearer {token}"})
        assert conn.getresponse().status == 200
        with pytest.raises(GatewayError) as info:  # SO_PEERCRED told the gateway this process's uid
            gateway.authorize(token, "unix", os.getuid() + 1)
        assert gateway.authorize(token, "unix", os.getuid()).node_id == 1
    assert (info.value.status, info.value.code) == (403, "peer_mismatch")


def test_a_token_holds_a_bounded_number_of_connections(fake: FakeOpenAIServer, key: str) -> None:
    fake.enqueue(Reply(delay=60), Reply(delay=60))
    with running({"agent": fake_model(fake)}, Recorder(), max_calls_per_token=2) as gateway:
        token = tcp_token(gateway, 1, "agent")
        held: list[tuple[int, dict[str, Any]]] = []
        callers = [
            threading.Thread(target=lambda: held.append(post(gateway, token, {"model": "agent", "messages": HELLO})))
            for _ in range(2)
        ]
        for caller in callers:
            caller.start()
        fake.wait_for_requests(2)
        third = post(gateway, token, {"model": "agent", "messages": HELLO})
        other = post(gateway, tcp_token(gateway, 2, "agent"), {"model": "agent", "messages": HELLO})
        fake.release()
        for caller in callers:
            caller.join()
    assert (third[0], third[1]["error"]["code"]) == (429, "too_many_connections")
    assert other[0] == 200
    assert [status for status, _ in held] == [200, 200]


@pytest.mark.parametrize("budget_key", ["max_cost_per_node", "max_cost_per_run"])
def test_twenty_concurrent_calls_never_spend_past_the_node_or_run_budget(
    fake: FakeOpenAIServer, key: str, budget_key: str
) -> None:
    model = fake_model(fake, **PRICED)
    call = 11 * 0.001 + 7 * 0.002
    budget = 3 * call + worst_case(model, HELLO, 7)  # room for three calls' cost and one more worst case
    body = {"model": "agent", "messages": HELLO, "max_tokens": 7}
    recorder = Recorder()
    results: list[int] = []
    with running({"agent": model}, recorder, **{budget_key: budget}) as gateway:
        fake.enqueue(*[Reply(delay=60)] * 20)  # every forwarded call waits until all twenty were made
        node = {"max_cost_per_node": lambda i: 1, "max_cost_per_run": lambda i: i}[budget_key]
        tokens = [tcp_token(gateway, node(i), "agent") for i in range(20)]
        callers = [
            threading.Thread(target=lambda t=token: results.append(post(gateway, t, body)[0])) for token in tokens
        ]
        for caller in callers:
            caller.start()
        wait_until(lambda: len(fake.requests) + len(results) == 20, "every call was forwarded or refused")
        fake.release()
        for caller in callers:
            caller.join()
        spent = gateway.spent(1) if budget_key == "max_cost_per_node" else gateway.spent()
    forwarded = len(fake.requests)
    assert sorted(results) == [200] * forwarded + [429] * (20 - forwarded)
    assert 1 <= forwarded <= 4
    assert spent <= budget + 1e-12
    assert spent == pytest.approx(sum(c["cost"] for c in recorder.calls))


def test_a_client_that_leaves_mid_call_is_recorded_as_such_quietly(
    fake: FakeOpenAIServer, key: str, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG)
    fake.enqueue(Reply(delay=60))
    recorder = Recorder()
    with running({"agent": fake_model(fake, **PRICED)}, recorder) as gateway:
        token = tcp_token(gateway, 1, "agent")
        data = json.dumps({"model": "agent", "messages": HELLO})
        head = f"POST /v1/chat/completions HTTP/1.1\nHost: x\nAuthorization: Bearer {token}\n"
        sock = raw_request(address(gateway), head + f"Content-Length: {len(data)}\n\n")
        sock.sendall(data.encode())
        fake.wait_for_requests(1)
        sock.close()  # the agent hit its time limit
        time.sleep(0.2)  # lets the gateway notice the close before the provider answers (the order is not asserted)
        fake.release()
        wait_until(lambda: len(recorder.calls) == 1, "the abandoned call was recorded")
        after = post(gateway, token, {"model": "agent", "messages": HELLO})
    [call] = recorder.calls[:1]
    assert call["error"].startswith("client_disconnected: the client left before the answer")
    assert (call["prompt_tokens"], call["completion_tokens"]) == (11, 7)  # what the provider was paid for
    assert call["cost"] == pytest.approx(0.025)
    assert after[0] == 200
    assert "Traceback" not in caplog.text + capsys.readouterr().err
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_a_per_role_timeout_overrides_the_gateways(fake: FakeOpenAIServer, key: str) -> None:
    fake.enqueue(Reply(delay=30))
    models = {"agent": fake_model(fake, timeout=0.3)}
    with running(models, Recorder(), retries=0, timeout=600) as gateway:
        status, body = post(gateway, tcp_token(gateway, 1, "agent"), {"model": "agent", "messages": HELLO})
    assert (status, body["error"]["code"]) == (504, "provider_timeout")


def test_importing_the_gateway_loads_neither_litellm_nor_aiohttp() -> None:
    code = "import sys, hgm.gateway; print(sorted(m for m in ('litellm', 'aiohttp') if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_bodies_held_in_memory_are_bounded_and_extra_calls_wait(fake: FakeOpenAIServer, key: str) -> None:
    fake.enqueue(*[Reply(delay=60)] * 9)
    padded = [{"role": "user", "content": "x" * 900}]
    with running({"agent": fake_model(fake)}, Recorder(), max_request_bytes=1000) as gateway:
        results: list[int] = []
        tokens = [tcp_token(gateway, i, "agent") for i in range(9)]
        callers = [
            threading.Thread(
                target=lambda t=t: results.append(post(gateway, t, {"model": "agent", "messages": padded})[0])
            )
            for t in tokens
        ]
        for caller in callers[:8]:
            caller.start()
        fake.wait_for_requests(8)  # eight bodies of ~950 bytes leave no room for a ninth in 8 x 1000 bytes
        callers[8].start()
        time.sleep(0.5)  # a chance for a wrong gateway to forward the ninth (only its absence is asserted)
        waiting = len(fake.requests)
        fake.release()
        for caller in callers:
            caller.join()
    assert waiting == 8
    assert results == [200] * 9 and len(fake.requests) == 9
