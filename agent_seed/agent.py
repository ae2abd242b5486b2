"""The agent loop: run -> step -> query -> execute, until an exception ends it."""

from __future__ import annotations

import json
import os
import time
import traceback
from pathlib import Path
from typing import Any

from . import settings
from .errors import FormatError, LimitsExceeded, NonTerminating, Submitted, Terminating
from .model import Model
from .textcalls import text_tool_calls
from .tools import SCHEMAS, TOOLS, ToolError, truncate


class Agent:
    """Talks to a model, runs its tool calls in `workdir` and records everything in a trajectory."""

    def __init__(
        self,
        model: Model,
        workdir: str | Path,
        trajectory: str | Path | None = None,
        max_steps: int = settings.MAX_STEPS,
        max_tokens: int = settings.MAX_TOKENS,
    ) -> None:
        self.model = model
        self.workdir = str(Path(workdir).resolve())
        self.trajectory = Path(trajectory) if trajectory else None
        self.max_steps = max_steps
        self.max_tokens = max_tokens
        self.messages: list[dict[str, Any]] = []
        self.steps: list[dict[str, Any]] = []
        self.tokens = 0
        self.exit_code = 1
        self.info: dict[str, Any] = {"exit_status": "", "message": ""}
        self._started = time.monotonic()

    def run(self, task: str) -> dict[str, Any]:
        """Solve the task; return the run's info (exit_status, message, steps, tokens, ...)."""
        system = settings.SYSTEM_PROMPT.format(command_timeout=settings.COMMAND_TIMEOUT, max_steps=self.max_steps)
        self.messages = [
            {"role": "system", "content": system},
            {"role": "user", "content": settings.TASK_TEMPLATE.format(workdir=self.workdir, task=task)},
        ]
        try:
            while True:
                try:
                    self.step()
                except NonTerminating as e:
                    self.messages.append({"role": "user", "content": str(e)})
                self.save()
        except Terminating as e:
            self.exit_code = e.exit_code
            self.info.update(exit_status=type(e).__name__, message=str(e))
        except BaseException as e:
            self.info.update(exit_status=type(e).__name__, message=traceback.format_exc())
            raise
        finally:
            self.save()
        return self.info

    def step(self) -> None:
        """One model call and the tool calls it asked for."""
        self.execute(self.query())

    def query(self) -> dict[str, Any]:
        """Ask the model for its next message, after checking the limits."""
        if len(self.steps) >= self.max_steps:
            raise LimitsExceeded(f"Step limit reached ({self.max_steps} steps).")
        if self.tokens >= self.max_tokens:
            raise LimitsExceeded(f"Token limit reached ({self.tokens} of {self.max_tokens} tokens).")
        started = time.monotonic()
        reply = self.model.query(self.messages, SCHEMAS)
        self.tokens += reply.tokens
        self.messages.append(reply.message)
        self.steps.append(
            {"step": len(self.steps) + 1, "tokens": reply.tokens, "model_seconds": time.monotonic() - started}
        )
        if reply.truncated:
            self.steps[-1]["truncated"] = True
        return reply.message

    def execute(self, message: dict[str, Any]) -> None:
        """Run every tool call of the message; a submit call ends the run once all have answers."""
        calls = message.get("tool_calls") or []
        if not calls:
            calls = text_tool_calls(message.get("content") or "", {*TOOLS, "submit"}, f"text_{len(self.steps)}")
            if not calls:
                truncated = self.steps[-1].get("truncated")
                raise FormatError(settings.TRUNCATED_ERROR if truncated else settings.FORMAT_ERROR)
            # Recorded as a tool call, so the tool answers that follow pair with it like native ones.
            message["tool_calls"] = calls
            self.steps[-1]["calls_from_text"] = len(calls)
        actions = self.steps[-1].setdefault("actions", [])
        summary = None
        for call in calls:
            started = time.monotonic()
            name, args, output = self.call_tool(call)
            if name == "submit" and args is not None:
                summary = str(args.get("summary", ""))
            actions.append({"tool": name, "arguments": args, "seconds": time.monotonic() - started})
            self.messages.append({"role": "tool", "tool_call_id": call.get("id", ""), "content": output})
        if summary is not None:
            raise Submitted(summary)

    def call_tool(self, call: dict[str, Any]) -> tuple[str, dict[str, Any] | None, str]:
        """Run one tool call; return the tool's name, its parsed arguments and the output for the model."""
        function = call.get("function") or {}
        name = str(function.get("name", ""))
        try:
            args = json.loads(function.get("arguments") or "{}")
            if not isinstance(args, dict):
                raise ValueError("arguments must be a JSON object")
        except ValueError as e:
            return name, None, f"Error: the arguments of {name} are not a valid JSON object ({e})."
        if name == "submit":
            return name, args, "Submitted."
        if name not in TOOLS:
            return name, args, f"Error: unknown tool {name!r}; the tools are {', '.join([*TOOLS, 'submit'])}."
        try:
            return name, args, TOOLS[name](args, self.workdir)
        except ToolError as e:
            return name, args, f"Error: {e}"
        except Exception as e:
            return name, args, truncate(f"Error: {type(e).__name__}: {e}")

    def save(self) -> None:
        """Write the trajectory atomically, so a reader never sees half a file."""
        self.info.update(
            steps=len(self.steps),
            tokens=self.tokens,
            model=getattr(self.model, "name", ""),
            elapsed_seconds=round(time.monotonic() - self._started, 3),
            max_steps=self.max_steps,
            max_tokens=self.max_tokens,
        )
        if self.trajectory is None:
            return
        data = {"info": self.info, "messages": self.messages, "steps": self.steps}
        self.trajectory.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.trajectory.with_name(self.trajectory.name + ".tmp")
        tmp.write_text(json.dumps(data, indent=1, ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, self.trajectory)
