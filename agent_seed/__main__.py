"""Command line: python3 -m agent_seed --task TASK_FILE --workdir DIR [--trajectory FILE] [--max-steps N]."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import settings
from .agent import Agent
from .errors import ModelError
from .model import GatewayModel


def main(argv: list[str] | None = None) -> int:
    """Run the agent on one task; exit 0 when it submitted, 3 at a limit, 1 on a gateway error, 2 on bad usage."""
    parser = argparse.ArgumentParser(prog="python3 -m agent_seed", description=__doc__)
    parser.add_argument("--task", required=True, type=Path, help="file holding the task statement")
    parser.add_argument("--workdir", required=True, type=Path, help="directory the agent works in")
    parser.add_argument("--trajectory", type=Path, help="JSON file to record the run in (default: none)")
    parser.add_argument("--max-steps", type=int, default=settings.MAX_STEPS, help="model calls allowed")
    parser.add_argument("--max-tokens", type=int, default=settings.MAX_TOKENS, help="total tokens allowed")
    args = parser.parse_args(argv)
    if not args.task.is_file():
        parser.error(f"task file {args.task} does not exist")
    if not args.workdir.is_dir():
        parser.error(f"working directory {args.workdir} does not exist")
    try:
        model = GatewayModel.from_env()
    except ModelError as e:
        parser.error(str(e))
    agent = Agent(model, args.workdir, args.trajectory, max_steps=args.max_steps, max_tokens=args.max_tokens)
    info = agent.run(args.task.read_text(encoding="utf-8", errors="replace"))
    stream = sys.stdout if agent.exit_code == 0 else sys.stderr
    print(f"{info['exit_status']}: {info['message']}", file=stream)
    return agent.exit_code


if __name__ == "__main__":
    sys.exit(main())
