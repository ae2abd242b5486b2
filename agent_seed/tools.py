"""The agent's tools: a bash command runner and a file editor, plus their JSON schemas for the model."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from . import settings


class ToolError(Exception):
    """A tool was used wrongly; the message is shown to the model."""


def truncate(text: str, limit: int | None = None) -> str:
    """Keep the head and tail of a long text, saying how much of the middle was cut."""
    limit = settings.OUTPUT_LIMIT if limit is None else limit
    if len(text) <= limit:
        return text
    half = limit // 2
    return f"{text[:half]}\n\n[... {len(text) - 2 * half} characters cut ...]\n\n{text[-half:]}"


def run_bash(command: str, cwd: str, timeout: float | None = None) -> tuple[str, int | None]:
    """Run a command in a fresh shell; return its combined output and exit code (None if it was killed)."""
    timeout = settings.COMMAND_TIMEOUT if timeout is None else timeout
    shell = shutil.which("bash") or "/bin/sh"
    # A file rather than a pipe: a background process left holding the pipe open would block the read.
    with tempfile.TemporaryFile() as out:
        proc = subprocess.Popen(
            [shell, "-c", command],
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            code: int | None = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            code = None
        out.seek(0)
        text = out.read().decode("utf-8", errors="replace")
    if code is None:
        text += f"\n[command killed after {timeout:g} seconds]"
    return text, code


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    """Kill a process and everything it started in its session."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def bash(args: dict[str, Any], workdir: str) -> str:
    """The bash tool: the command's output followed by its exit code."""
    command = args.get("command")
    if not isinstance(command, str) or not command.strip():
        raise ToolError("bash needs a non-empty string argument 'command'.")
    text, code = run_bash(command, workdir)
    status = "killed (timeout)" if code is None else str(code)
    return truncate(f"{text}\n[exit code: {status}]" if text else f"[no output; exit code: {status}]")


def editor(args: dict[str, Any], workdir: str) -> str:
    """The editor tool: dispatch on args['command']."""
    command = args.get("command")
    path = args.get("path")
    if not isinstance(path, str) or not path:
        raise ToolError("editor needs a string argument 'path'.")
    target = Path(workdir, path)
    if command == "view":
        return truncate(view(target, args.get("view_range")))
    if command == "create":
        return create(target, _text(args, "file_text"))
    if command == "str_replace":
        return str_replace(target, _text(args, "old_str"), str(args.get("new_str") or ""))
    if command == "insert":
        return insert(target, args.get("insert_line"), _text(args, "insert_text"))
    raise ToolError(f"Unknown editor command {command!r}; use view, create, str_replace or insert.")


def _text(args: dict[str, Any], name: str) -> str:
    value = args.get(name)
    if not isinstance(value, str):
        raise ToolError(f"This editor command needs a string argument {name!r}.")
    return value


def _read(path: Path) -> str:
    if not path.is_file():
        raise ToolError(f"{path} is not a file.")
    return path.read_text(encoding="utf-8", errors="replace")


def view(path: Path, view_range: Any = None) -> str:
    """Show a file with line numbers (optionally lines [first, last], last -1 = end) or list a directory."""
    if path.is_dir():
        return "\n".join(_listing(path, depth=2)) or "(empty directory)"
    lines = _read(path).splitlines()
    first, last = 1, len(lines)
    if view_range is not None:
        if not (isinstance(view_range, list) and len(view_range) == 2 and all(isinstance(n, int) for n in view_range)):
            raise ToolError("view_range must be a list of two integers [first, last].")
        first, last = view_range[0], len(lines) if view_range[1] == -1 else view_range[1]
        if not 1 <= first <= max(len(lines), 1) or last < first:
            raise ToolError(f"Invalid view_range {view_range}: the file has {len(lines)} lines.")
    shown = "\n".join(f"{n:6}\t{lines[n - 1]}" for n in range(first, min(last, len(lines)) + 1))
    return shown or "(empty file)"


def _listing(root: Path, depth: int) -> list[str]:
    """Entries under root down to `depth` levels, directories marked with a slash, .git skipped."""
    entries = []
    for child in sorted(root.iterdir()):
        if child.name == ".git":
            continue
        if child.is_dir():
            entries.append(child.name + "/")
            if depth > 1:
                entries += [f"{child.name}/{sub}" for sub in _listing(child, depth - 1)]
        else:
            entries.append(child.name)
    return entries


def create(path: Path, text: str) -> str:
    """Write a new file (or overwrite one), creating parent directories."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return f"Wrote {len(text.splitlines())} lines to {path}."


def str_replace(path: Path, old: str, new: str) -> str:
    """Replace the one occurrence of `old` in a file."""
    content = _read(path)
    count = content.count(old) if old else 0
    if count != 1:
        where = "does not occur" if count == 0 else f"occurs {count} times"
        raise ToolError(f"old_str {where} in {path}; it must match exactly one place (add surrounding lines).")
    path.write_text(content.replace(old, new), encoding="utf-8")
    line = content[: content.index(old)].count("\n") + 1
    return f"Replaced text at line {line} of {path}."


def insert(path: Path, line: Any, text: str) -> str:
    """Insert text after line `line` (0 = at the top)."""
    lines = _read(path).splitlines(keepends=True)
    if not isinstance(line, int) or not 0 <= line <= len(lines):
        raise ToolError(f"insert_line must be an integer from 0 to {len(lines)}.")
    if lines and not lines[-1].endswith("\n") and line == len(lines):
        lines[-1] += "\n"
    lines[line:line] = [text if text.endswith("\n") else text + "\n"]
    path.write_text("".join(lines), encoding="utf-8")
    return f"Inserted {len(text.splitlines())} lines after line {line} of {path}."


TOOLS = {"bash": bash, "editor": editor}

SCHEMAS: list[dict[str, Any]] = [
    {
        "type": "function",
        "function": {
            "name": "bash",
            "description": "Run one command in a fresh shell in the working directory; returns output and exit code.",
            "parameters": {
                "type": "object",
                "properties": {"command": {"type": "string", "description": "The command to run."}},
                "required": ["command"],
            },
        },
    },
    {
        "type": "function",
        "function": {
            "name": "editor",
            "description": "View, create or edit files. Paths are relative to the working directory or absolute.",
            "parameters": {
                "type": "object",
                "properties": {
                    "command": {"type": "string", "enum": ["view", "create", "str_replace", "insert"]},
                    "path": {"type": "string", "description": "File or directory path."},
                    "view_range": {
                        "type": "array",
                        "items": {"type": "integer"},
                        "description": "view: [first, last] line numbers, 1-based; last = -1 means to the end.",
                    },
                    "file_text": {"type": "string", "description": "create: the whole content of the file."},
                    "old_str": {"type": "string", "description": "str_replace: exact text occurring once."},
                    "new_str": {"type": "string", "description": "str_replace: replacement text."},
                    "insert_line": {"type": "integer", "description": "insert: add the text after this line."},
                    "insert_text": {"type": "string", "description": "insert: the text to add."},
                },
                "required": ["command", "path"],
            },
        },
    },
    {
        "type": "function",
        "function": {
            "name": "submit",
            "description": "Finish the task. Call once, when the work is done and checked.",
            "parameters": {
                "type": "object",
                "properties": {"summary": {"type": "string", "description": "What you changed, in a few lines."}},
                "required": ["summary"],
            },
        },
    },
]
