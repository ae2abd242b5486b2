"""The lineage repository read as diffs: between any two nodes, or of every node against its parent at once."""

from __future__ import annotations

import subprocess
from collections.abc import Iterable

from hgm.archive import Archive, ArchiveError

DIFF_LIMIT = 40_000


def _commit(archive: Archive, node_id: int) -> str:
    row = archive.node(node_id)
    if row is None:
        raise ArchiveError(f"{archive.path} has no node {node_id}; `hgm tree {archive.path}` lists them")
    if not row.commit_sha:
        raise ArchiveError(f"node {node_id} is a failed self-modification and has no source to compare")
    return row.commit_sha


def diff_nodes(archive: Archive, a: int, b: int, *, stat: bool = False) -> str:
    """`git diff` from node a's source to node b's."""
    old, new = _commit(archive, a), _commit(archive, b)
    args = ["git", f"--git-dir={archive.lineage_path}", "diff", "--no-color", "--no-ext-diff", "--no-textconv"]
    proc = subprocess.run([*args, *(["--stat"] if stat else []), old, new], capture_output=True, check=False)
    if proc.returncode != 0:
        raise ArchiveError(f"git cannot diff node {a} and node {b}: {proc.stderr.decode(errors='replace').strip()}")
    return proc.stdout.decode("utf-8", errors="replace")


def parent_diffs(archive: Archive, commits: Iterable[str], limit: int = DIFF_LIMIT) -> dict[str, str]:
    """Each commit's diff against its parent (the parent node), from one `git log`, each clipped to `limit`."""
    wanted = list(dict.fromkeys(commits))
    if not wanted:
        return {}
    args = ["git", f"--git-dir={archive.lineage_path}", "log", "--stdin", "--no-walk=unsorted", "-p", "--no-color"]
    args += ["--no-renames", "--no-ext-diff", "--no-textconv", "--format=%x00%H"]
    out: dict[str, list[str]] = {}
    sizes: dict[str, int] = {}
    current: str | None = None
    with subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL) as proc:
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write("\n".join(wanted).encode() + b"\n")
        proc.stdin.close()
        # Read line by line and keep a bounded head of each diff: agent diffs can be large, and there are many.
        for raw in proc.stdout:
            if raw.startswith(b"\x00"):
                current = raw[1:].strip().decode()
                out[current], sizes[current] = [], 0
                continue
            if current is None:
                continue
            sizes[current] += len(raw)
            if sizes[current] <= limit:
                out[current].append(raw.decode("utf-8", errors="replace"))
    diffs = {}
    for sha, lines in out.items():
        text = "".join(lines).strip("\n") + "\n"
        if sizes[sha] > limit:
            text += f"… clipped: the diff has {sizes[sha]:,} bytes (`hgm diff` shows all)\n"
        diffs[sha] = text
    return diffs
