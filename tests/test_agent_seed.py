"""The seed agent: its own unittest suite, and its command line against a small fake gateway."""

from __future__ import annotations

import http.server
import json
import os
import socketserver
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]


class FakeGateway(http.server.BaseHTTPRequestHandler):
    """Replays the server's canned (status, body) answers in order and records every request."""

    def do_POST(self) -> None:
        server: Any = self.server
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        server.requests.append({"path": self.path, "auth": self.headers.get("Authorization"), "body": body})
        status, answer = server.answers.pop(0) if server.answers else (500, {"error": "no more answers"})
        data = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class TCPGateway(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True


class UnixGateway(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


def completion(*calls: tuple[str, dict[str, Any]], content: str = "") -> tuple[int, dict[str, Any]]:
    """A 200 chat-completions answer whose message carries the given tool calls."""
    tool_calls = [
        {"id": f"call_{i}", "type": "function", "function": {"name": name, "arguments": json.dumps(args)}}
        for i, (name, args) in enumerate(calls)
    ]
    message: dict[str, Any] = {"role": "assistant", "content": content}
    if tool_calls:
        message["tool_calls"] = tool_calls
    return 200, {"choices": [{"message": message}], "usage": {"total_tokens": 50}}


@pytest.fixture
def serve() -> Iterator[Any]:
    servers: list[Any] = []

    def start(server: Any, answers: list[tuple[int, dict[str, Any]]]) -> Any:
        server.answers, server.requests = list(answers), []
        threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def run_agent(tmp: Path, gateway: str, *extra: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    task = tmp / "task.md"
    task.write_text("Create answer.txt containing 42, then submit.")
    workdir = tmp / "work"
    workdir.mkdir(exist_ok=True)
    full_env = {"PATH": os.environ["PATH"], "HGM_GATEWAY": gateway, "HGM_TOKEN": "tok-123", "HGM_MODEL": "agent"}
    full_env.update(env or {})
    args = ["--task", str(task), "--workdir", str(workdir), "--trajectory", str(tmp / "traj.json"), *extra]
    # -S: no site-packages, so a stray third-party import in the agent fails here as it would in a sandbox.
    return subprocess.run(
        [sys.executable, "-S", "-m", "agent_seed", *args],
        cwd=REPO,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_agent_carries_a_passing_stdlib_only_test_suite() -> None:
    done = subprocess.run(
        [sys.executable, "-S", "-m", "unittest", "discover", "-s", "agent_seed/tests", "-t", "."],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "OK" in done.stderr
    ran = int(done.stderr.split("Ran ")[1].split()[0])
    assert ran >= 25


def test_cli_solves_a_task_through_a_tcp_gateway(tmp_path: Path, serve: Any) -> None:
    answers = [
        completion(("bash", {"command": "echo 42 > answer.txt && cat answer.txt"})),
        completion(content="Looks done."),
        completion(("editor", {"command": "str_replace", "path": "answer.txt", "old_str": "42", "new_str": "42!"})),
        completion(("submit", {"summary": "wrote the answer"})),
    ]
    server = serve(TCPGateway(("127.0.0.1", 0), FakeGateway), answers)
    done = run_agent(tmp_path, f"http://127.0.0.1:{server.server_address[1]}")
    assert done.returncode == 0, done.stderr
    assert "Submitted: wrote the answer" in done.stdout
    assert (tmp_path / "work" / "answer.txt").read_text() == "42!\n"
    assert [r["path"] for r in server.requests] == ["/v1/chat/completions"] * 4
    assert {r["auth"] for r in server.requests} == {"Bearer tok-123"}
    first = server.requests[0]["body"]
    assert first["model"] == "agent"
    assert [t["function"]["name"] for t in first["tools"]] == ["bash", "editor", "submit"]
    assert "answer.txt containing 42" in first["messages"][1]["content"]
    second = server.requests[1]["body"]["messages"]
    assert second[-1] == {"role": "tool", "tool_call_id": "call_0", "content": "42\n\n[exit code: 0]"}
    assert "No tool call found" in server.requests[2]["body"]["messages"][-1]["content"]
    trajectory = json.loads((tmp_path / "traj.json").read_text())
    assert trajectory["info"]["exit_status"] == "Submitted"
    assert trajectory["info"]["steps"] == 4
    assert trajectory["info"]["tokens"] == 200
    assert len(trajectory["steps"]) == 4


def test_cli_reads_the_token_file_and_runs_calls_written_as_text(tmp_path: Path, serve: Any) -> None:
    token = tmp_path / "token"
    token.write_text("tok-from-file\n")
    call = {"name": "bash", "arguments": {"command": "echo 42 > answer.txt"}}
    answers = [
        completion(content=f"I will write the answer.\n```json\n{json.dumps(call)}\n```"),
        completion(content="What now?"),
        completion(content='```json\n{"name": "submit", "arguments": {"summary": "wrote it"}}\n```'),
    ]
    server = serve(TCPGateway(("127.0.0.1", 0), FakeGateway), answers)
    env = {"HGM_TOKEN": "", "HGM_TOKEN_FILE": str(token)}
    done = run_agent(tmp_path, f"http://127.0.0.1:{server.server_address[1]}", env=env)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "work" / "answer.txt").read_text() == "42\n"
    assert {r["auth"] for r in server.requests} == {"Bearer tok-from-file"}
    second = server.requests[1]["body"]["messages"]
    assert second[-2]["tool_calls"][0]["function"]["name"] == "bash"
    assert second[-1] == {"role": "tool", "tool_call_id": "text_1_1", "content": "[no output; exit code: 0]"}
    reminder = server.requests[2]["body"]["messages"][-1]["content"]
    assert reminder.startswith("No tool call found") and '"name": "submit"' in reminder
    steps = json.loads((tmp_path / "traj.json").read_text())["steps"]
    assert [s.get("calls_from_text") for s in steps] == [1, None, 1]


def test_cli_over_a_unix_socket_and_step_limit(tmp_path: Path, serve: Any) -> None:
    sock = tmp_path / "gw.sock"
    answers = [completion(("bash", {"command": "true"}))] * 3
    server = serve(UnixGateway(str(sock), FakeGateway), answers)
    done = run_agent(tmp_path, f"unix://{sock}", "--max-steps", "2")
    assert done.returncode == 3
    assert "LimitsExceeded: Step limit reached (2 steps)" in done.stderr
    assert len(server.requests) == 2
    assert json.loads((tmp_path / "traj.json").read_text())["info"]["exit_status"] == "LimitsExceeded"


def test_cli_stops_on_a_client_error_with_a_clear_message(tmp_path: Path, serve: Any) -> None:
    answers = [(403, {"error": {"message": "budget exhausted for node 7"}}), completion(("submit", {"summary": ""}))]
    server = serve(TCPGateway(("127.0.0.1", 0), FakeGateway), answers)
    done = run_agent(tmp_path, f"http://127.0.0.1:{server.server_address[1]}")
    assert done.returncode == 1
    assert "HTTP 403" in done.stderr and "budget exhausted for node 7" in done.stderr
    assert len(server.requests) == 1
    info = json.loads((tmp_path / "traj.json").read_text())["info"]
    assert info["exit_status"] == "ModelError"
    assert "budget exhausted" in info["message"]


def test_cli_usage_errors(tmp_path: Path) -> None:
    done = run_agent(tmp_path, "")
    assert done.returncode == 2
    assert "HGM_GATEWAY" in done.stderr
    done = run_agent(tmp_path, "http://127.0.0.1:9", "--workdir", str(tmp_path / "missing"))
    assert done.returncode == 2
    assert "does not exist" in done.stderr


def test_a_scripted_agent_writes_a_builtin_reference_solution(tmp_path: Path, serve: Any) -> None:
    from hgm.coding.benchmarks import BuiltinBenchmark

    bench = BuiltinBenchmark()
    files = bench.solution("bank_transfer_fix")
    calls = [("editor", {"command": "create", "path": rel, "file_text": text}) for rel, text in files.items()]
    answers = [completion(*calls), completion(("submit", {"summary": "fixed the bank"}))]
    server = serve(TCPGateway(("127.0.0.1", 0), FakeGateway), answers)
    bench.prepare("bank_transfer_fix", tmp_path / "work")
    done = run_agent(tmp_path, f"http://127.0.0.1:{server.server_address[1]}")
    assert done.returncode == 0, done.stderr
    for rel, text in files.items():
        assert (tmp_path / "work" / rel).read_text() == text
    assert (tmp_path / "work" / "bank" / "__init__.py").is_file()
