"""Tool calls written in a reply's text, for models that do not use the native tool-calling interface.

Small open models often answer with a JSON object such as {"name": "bash", "arguments": {"command": "ls"}} in a
fenced block, inside <tool_call> tags or in plain text, or with a fenced bash block. These become ordinary
OpenAI-style tool calls, so the rest of the loop cannot tell them apart from native ones.
"""

from __future__ import annotations

import json
import re
from typing import Any

FENCE = re.compile(r"```[ \t]*([\w+-]*)[^\n]*\n(.*?)```", re.DOTALL)
OPENING = re.compile(r'[\[{]\s*["{]')
TRIPLE_QUOTED = re.compile(r'"""(.*?)"""', re.DOTALL)
SHELL_LANGUAGES = ("bash", "sh", "shell")
NAME_KEYS = ("name", "tool", "tool_name", "function", "action")
ARGUMENT_KEYS = ("arguments", "parameters", "args", "input", "tool_input", "action_input")


def text_tool_calls(text: str, known: set[str], prefix: str = "text") -> list[dict[str, Any]]:
    """The tool calls written in `text`, in order: JSON objects naming a known tool, else fenced shell blocks."""
    found = _json_calls(text, known)
    if not found and '"""' in text:
        # Python's triple-quoted strings are the commonest way small models break the JSON of a file's text.
        found = _json_calls(TRIPLE_QUOTED.sub(lambda m: json.dumps(m.group(1)), text), known)
    if not found:
        found = [("bash", {"command": body.strip()}) for lang, body in FENCE.findall(text) if _is_shell(lang, body)]
    return [
        {"id": f"{prefix}_{i}", "type": "function", "function": {"name": name, "arguments": json.dumps(args)}}
        for i, (name, args) in enumerate(found, 1)
    ]


def _json_calls(text: str, known: set[str]) -> list[tuple[str, dict[str, Any]]]:
    """Calls in the JSON objects (or lists of them) found anywhere in the text: fenced, tagged or bare."""
    # strict=False: models often put raw newlines inside strings (a file's text, a multi-line command).
    decoder = json.JSONDecoder(strict=False)
    calls: list[tuple[str, dict[str, Any]]] = []
    start = 0
    while match := OPENING.search(text, start):
        try:
            value, end = decoder.raw_decode(text, match.start())
        except ValueError:
            start = match.start() + 1
            continue
        found = _calls_in(value, known)
        calls += found
        # A value that is not a call may still hold one further in, e.g. a wrapper the model invented.
        start = end if found else match.start() + 1
    return calls


def _calls_in(value: Any, known: set[str]) -> list[tuple[str, dict[str, Any]]]:
    if isinstance(value, list):
        return [call for item in value for call in _calls_in(item, known)]
    if not isinstance(value, dict):
        return []
    if isinstance(value.get("tool_calls"), list):
        return _calls_in(value["tool_calls"], known)
    if isinstance(value.get("function"), dict):
        return _calls_in(value["function"], known)
    args_key = next((key for key in ARGUMENT_KEYS if key in value), None)
    name_key = next((key for key in NAME_KEYS if isinstance(value.get(key), str) and value[key] in known), None)
    if name_key is None:
        # An unknown name with explicit arguments is still a call: the model learns the tool does not exist.
        if isinstance(value.get("name"), str) and args_key is not None and isinstance(value[args_key], dict):
            return [(value["name"], value[args_key])]
        return []
    if args_key is None:
        # Flat form: {"name": "bash", "command": "ls"}.
        args: Any = {key: item for key, item in value.items() if key not in (name_key, "type", "id")}
    else:
        args = value[args_key]
        if isinstance(args, str):
            try:
                args = json.loads(args, strict=False)
            except ValueError:
                return []
    return [(value[name_key], args)] if isinstance(args, dict) else []


def _is_shell(lang: str, body: str) -> bool:
    return lang.lower() in SHELL_LANGUAGES and bool(body.strip())
