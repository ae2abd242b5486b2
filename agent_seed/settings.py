"""Tunable constants of the agent: one place for a self-modification to change its behaviour."""

from __future__ import annotations

MAX_STEPS = 60
"""Model calls allowed before the run stops with LimitsExceeded."""

MAX_TOKENS = 2_000_000
"""Total tokens (prompt + completion, summed over calls) allowed before the run stops."""

COMMAND_TIMEOUT = 120.0
"""Seconds one bash command may run before it and its children are killed."""

OUTPUT_LIMIT = 12_000
"""Characters of one tool output shown to the model; the middle of longer outputs is cut."""

MODEL_TIMEOUT = 600.0
"""Seconds to wait for one answer from the gateway."""

MODEL_RETRIES = 4
"""Extra attempts after a transient gateway failure (5xx status, dropped connection)."""

RETRY_BACKOFF = 2.0
"""Seconds before the first retry; doubled after every further failure."""

TEMPERATURE: float | None = None
"""Sampling temperature sent to the model; None leaves the gateway's default."""

SYSTEM_PROMPT = """\
You are a careful software engineer working alone in a Linux sandbox on a coding task.

Tools:
- bash: run one shell command. Every call starts a fresh shell in the working directory, so `cd` and
  exported variables do not carry over; chain commands with `&&` instead. Commands that run longer than
  {command_timeout:.0f} seconds are killed. There is no network and nothing can be installed.
- editor: view a file (with line numbers) or a directory, create a file, replace a unique string in a
  file (str_replace), or insert text after a line (insert; line 0 inserts at the top).
- submit: call it once, when the task is done, with a short summary of what you changed. The run ends
  at that call.

How to call a tool: use the native tool-calling interface. If you cannot, write the call in your reply as a
JSON object in a fenced block, one block per call; they run in order:
```json
{{"name": "bash", "arguments": {{"command": "ls"}}}}
```
Each fenced ```bash block runs as one bash command when the reply holds no such JSON call.

How to work: read the relevant files first, make focused changes, then check them by running code or
tests. Do not ask questions: nobody will answer. Only tool calls have an effect; a reply without a tool
call is wasted. You have at most {max_steps} steps."""

TASK_TEMPLATE = """\
Your working directory is {workdir}.

<task>
{task}
</task>"""

FORMAT_ERROR = """\
No tool call found. Call a tool natively, or write the call as a JSON object in a fenced block, for example:
```json
{"name": "editor", "arguments": {"command": "view", "path": "."}}
```
The tools are bash (arguments: command), editor (command, path, ...) and submit (summary). When the task is done:
```json
{"name": "submit", "arguments": {"summary": "what you changed"}}
```"""
"""Sent back when a reply holds no tool call, native or written in the text."""

TRUNCATED_ERROR = """\
Your reply was cut off at the model's length limit before a tool call was complete, so nothing ran. Keep each
reply short: one tool call and no long explanation. Write a long file in parts: create it with the first part,
then add the rest with the editor's insert command."""
"""Sent back instead of FORMAT_ERROR when the reply without a call ended at the length limit."""
