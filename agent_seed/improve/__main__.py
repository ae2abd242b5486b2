"""Command line: python3 -m agent_seed.improve --evidence DIR --out DIR.

Reads the evidence in DIR (read-only), rewrites the agent source tree in --out (which holds a copy of this very
agent), and exits 0 when it made an edit; 1 when it could not, 2 on bad usage. If HGM_IMPROVE_RECORD names a
folder, what it did goes there (improve.json, and the edit's trajectory.json).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from ..errors import ModelError
from ..model import GatewayModel
from .evidence import load
from .procedure import ImproveError, improve


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m agent_seed.improve", description=__doc__)
    parser.add_argument("--evidence", required=True, type=Path, help="folder of evidence (read-only)")
    parser.add_argument("--out", required=True, type=Path, help="the agent source tree to rewrite in place")
    args = parser.parse_args(argv)
    if not args.evidence.is_dir():
        parser.error(f"evidence folder {args.evidence} does not exist")
    if not (args.out / "agent_seed").is_dir():
        parser.error(f"{args.out} holds no agent_seed/ package to improve")
    try:
        model = GatewayModel.from_env()
    except ModelError as e:
        parser.error(str(e))
    record = os.environ.get("HGM_IMPROVE_RECORD")
    try:
        report = improve(model, load(args.evidence), args.out, Path(record) if record else None)
    except ImproveError as e:
        print(f"improve: {e}", file=sys.stderr)
        return 1
    print(f"improve: {report.get('edit', {}).get('exit_status', 'done')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
