"""The gateway client against small local HTTP servers, over TCP and over a unix socket."""

from __future__ import annotations

import http.server
import json
import os
import socketserver
import tempfile
import threading
import unittest
from typing import Any
from unittest import mock

from agent_seed import settings
from agent_seed.errors import ModelError
from agent_seed.model import GatewayModel, parse_reply

OK_BODY = {
    "choices": [{"message": {"role": "assistant", "content": None, "tool_calls": [{"id": "a"}], "refusal": None}}],
    "usage": {"total_tokens": 42},
}


class Handler(http.server.BaseHTTPRequestHandler):
    """Answers with the next (status, body) of the server's script and records each request."""

    def do_POST(self) -> None:
        length = int(self.headers["Content-Length"])
        server: Any = self.server
        server.requests.append((self.path, dict(self.headers), json.loads(self.rfile.read(length))))
        status, body, *extra = server.script.pop(0)
        data = json.dumps(body).encode()
        self.send_response(status)
        for name, value in (extra[0] if extra else {}).items():
            self.send_header(name, value)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class TCPServer(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True


class UnixServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


class GatewayModelTest(unittest.TestCase):
    def setUp(self) -> None:
        patcher = mock.patch.object(settings, "RETRY_BACKOFF", 0.0)
        patcher.start()
        self.addCleanup(patcher.stop)

    def serve(self, server: Any, script: list[tuple[Any, ...]]) -> Any:
        server.script = list(script)
        server.requests = []
        thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
        thread.start()
        self.addCleanup(server.server_close)
        self.addCleanup(server.shutdown)
        return server

    def tcp(self, script: list[tuple[Any, ...]]) -> tuple[Any, GatewayModel]:
        server = self.serve(TCPServer(("127.0.0.1", 0), Handler), script)
        return server, GatewayModel(f"http://127.0.0.1:{server.server_address[1]}", "secret", "agent")

    def test_tcp_request_format_and_reply(self) -> None:
        server, model = self.tcp([(200, OK_BODY)])
        reply = model.query([{"role": "user", "content": "hi"}], [{"type": "function"}])
        self.assertEqual(reply.tokens, 42)
        self.assertEqual(reply.message, {"role": "assistant", "content": "", "tool_calls": [{"id": "a"}]})
        path, headers, body = server.requests[0]
        self.assertEqual(path, "/v1/chat/completions")
        self.assertEqual(headers["Authorization"], "Bearer secret")
        self.assertEqual(body["model"], "agent")
        self.assertEqual(body["messages"], [{"role": "user", "content": "hi"}])
        self.assertEqual(body["tools"], [{"type": "function"}])

    def test_unix_socket(self) -> None:
        with tempfile.TemporaryDirectory() as root:
            path = os.path.join(root, "gateway.sock")
            server = self.serve(UnixServer(path, Handler), [(200, OK_BODY)])
            reply = GatewayModel(f"unix://{path}", "tok", "agent").query([], [])
        self.assertEqual(reply.tokens, 42)
        self.assertEqual(server.requests[0][1]["Authorization"], "Bearer tok")

    def test_retries_server_errors(self) -> None:
        server, model = self.tcp([(502, {"error": "bad gateway"}), (503, {}), (200, OK_BODY)])
        self.assertEqual(model.query([], []).tokens, 42)
        self.assertEqual(len(server.requests), 3)

    def test_gives_up_after_retries(self) -> None:
        server, model = self.tcp([(500, {"error": "down"})] * (settings.MODEL_RETRIES + 1))
        with self.assertRaisesRegex(ModelError, "HTTP 500"):
            model.query([], [])
        self.assertEqual(len(server.requests), settings.MODEL_RETRIES + 1)

    def test_error_the_gateway_marks_final_is_not_retried(self) -> None:
        final = (502, {"error": "provider_key_missing"}, {"x-should-retry": "false"})
        server, model = self.tcp([final, (200, OK_BODY)])
        with self.assertRaisesRegex(ModelError, "refused the request.*502.*provider_key_missing"):
            model.query([], [])
        self.assertEqual(len(server.requests), 1)

    def test_client_error_is_not_retried(self) -> None:
        server, model = self.tcp([(401, {"error": "bad token"}), (200, OK_BODY)])
        with self.assertRaisesRegex(ModelError, "refused the request.*401.*bad token"):
            model.query([], [])
        self.assertEqual(len(server.requests), 1)

    def test_connection_refused_is_retried_then_reported(self) -> None:
        with tempfile.TemporaryDirectory() as root:
            model = GatewayModel(f"unix://{root}/missing.sock", "t", "agent")
            with self.assertRaisesRegex(ModelError, "failed 5 times.*missing.sock"):
                model.query([], [])

    def test_bad_gateway_url_and_missing_env(self) -> None:
        with self.assertRaisesRegex(ModelError, "not http://HOST:PORT"):
            GatewayModel("ftp://x", "t", "m")
        env = {"HGM_GATEWAY": "http://127.0.0.1:1"}
        with mock.patch.dict(os.environ, env, clear=True), self.assertRaisesRegex(ModelError, "HGM_TOKEN, HGM_MODEL"):
            GatewayModel.from_env()

    def test_token_is_read_from_the_file_hgm_token_file_names(self) -> None:
        with tempfile.TemporaryDirectory() as root:
            path = os.path.join(root, "token")
            with open(path, "w") as f:
                f.write("tok-from-file\n")
            env = {"HGM_GATEWAY": "http://127.0.0.1:1", "HGM_MODEL": "agent", "HGM_TOKEN_FILE": path}
            with mock.patch.dict(os.environ, env, clear=True):
                self.assertEqual(GatewayModel.from_env().token, "tok-from-file")
            with mock.patch.dict(os.environ, {**env, "HGM_TOKEN": "tok-from-env"}, clear=True):
                self.assertEqual(GatewayModel.from_env().token, "tok-from-file")
            no_file = {**env, "HGM_TOKEN_FILE": ""}
            with mock.patch.dict(os.environ, no_file, clear=True), self.assertRaisesRegex(ModelError, "HGM_TOKEN"):
                GatewayModel.from_env()

    def test_unusable_token_files_are_clear_errors(self) -> None:
        with tempfile.TemporaryDirectory() as root:
            env = {"HGM_GATEWAY": "http://127.0.0.1:1", "HGM_MODEL": "agent"}
            missing = os.path.join(root, "missing")
            with (
                mock.patch.dict(os.environ, {**env, "HGM_TOKEN_FILE": missing}, clear=True),
                self.assertRaisesRegex(ModelError, "HGM_TOKEN_FILE=.*missing.* cannot be read"),
            ):
                GatewayModel.from_env()
            for content in ("", "\n", "two words\n"):
                path = os.path.join(root, "token")
                with open(path, "w") as f:
                    f.write(content)
                with (
                    mock.patch.dict(os.environ, {**env, "HGM_TOKEN_FILE": path}, clear=True),
                    self.assertRaisesRegex(ModelError, "does not hold a token"),
                ):
                    GatewayModel.from_env()

    def test_a_reply_stopped_by_the_length_limit_is_marked_truncated(self) -> None:
        cut = b'{"choices": [{"message": {"content": "```json"}, "finish_reason": "length"}]}'
        self.assertTrue(parse_reply(cut).truncated)
        self.assertFalse(parse_reply(json.dumps(OK_BODY).encode()).truncated)

    def test_malformed_response(self) -> None:
        with self.assertRaisesRegex(ModelError, "malformed"):
            parse_reply(b'{"choices": []}')
        self.assertEqual(parse_reply(b'{"choices": [{"message": {"content": "x"}}]}').message["content"], "x")
