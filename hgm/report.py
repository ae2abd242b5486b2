"""Read-only views of a run (tree, node details, best agent); safe while the run is in progress."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from hgm.archive import Archive, ArchiveError
from hgm.posterior import best_belief_of, best_mean_of, beta_lower_quantiles


@dataclass(frozen=True)
class NodeSummary:
    id: int
    parent: int | None
    status: str
    n_evals: int
    n_success: int
    mean: float | None
    cmp: float | None
    clade_evals: int
    lower_bound: float
    commit: str | None
    reason: str | None
    true_quality: float | None
    best: bool
    improver_changed: bool | None = None
    """Meta mode: whether this node's improver differs from its parent's (None: not recorded, e.g. classic mode)."""


def improver_changed(archive: Archive, node_id: int) -> bool | None:
    """What the expansion that made the node recorded in improver.json (hgm writes that file, never an agent)."""
    text = archive.artefact_text(node_id, "improver.json")
    try:
        data = json.loads(text) if text is not None else None
    except ValueError:
        return None
    return bool(data.get("changed")) if isinstance(data, dict) else None


def epsilon_of(archive: Archive) -> float:
    return float(archive.config().get("search", {}).get("epsilon", 0.01))


def summarize(archive: Archive) -> list[NodeSummary]:
    """Every recorded node with its own and clade results and its lower bound; the best-belief node is marked.

    Only what the views show is read: per-node result counts, counted by the database, and clades summed in one
    pass from the leaves up (a parent's id is always below its children's), rather than replaying every
    evaluation into the search's in-memory tree: `hgm tree` on thousands of nodes answers at once.
    """
    rows = archive.nodes()
    counts = archive.eval_counts()
    size = rows[-1].id + 1 if rows else 0
    own_s, own_f = [0] * size, [0] * size
    for node, (s, f) in counts.items():
        if node < size:  # a live run may have evaluated a node made after `rows` was read
            own_s[node], own_f[node] = s, f
    clade_s, clade_f = own_s.copy(), own_f.copy()
    for row in reversed(rows):
        if row.parent is not None:
            clade_s[row.parent] += clade_s[row.id]
            clade_f[row.parent] += clade_f[row.id]
    epsilon = epsilon_of(archive)
    s_array, f_array = np.array(own_s, dtype=np.int64), np.array(own_f, dtype=np.int64)
    rule = archive.config().get("search", {}).get("best_rule", "quantile")
    best = best_mean_of(s_array, f_array) if rule == "mean" else best_belief_of(s_array, f_array, epsilon)
    lower = beta_lower_quantiles(s_array, f_array, epsilon).tolist()
    out = []
    for row in rows:
        s, f = own_s[row.id], own_f[row.id]
        cs, cf = clade_s[row.id], clade_f[row.id]
        out.append(
            NodeSummary(
                id=row.id,
                parent=row.parent,
                status=row.status,
                n_evals=s + f,
                n_success=s,
                mean=s / (s + f) if s + f else None,
                cmp=cs / (cs + cf) if cs + cf else None,
                clade_evals=cs + cf,
                lower_bound=lower[row.id],
                commit=row.commit_sha,
                reason=row.reason,
                true_quality=row.true_q,
                best=row.id == best,
                improver_changed=improver_changed(archive, row.id) if row.parent is not None else None,
            )
        )
    return out


def tree_json(archive: Archive) -> str:
    return json.dumps([asdict(n) for n in summarize(archive)], indent=2)


def tree_dot(archive: Archive) -> str:
    lines = ["digraph hgm {", "  node [shape=box, fontname=monospace];"]
    for n in summarize(archive):
        mean = f"{n.mean:.2f}" if n.mean is not None else "-"
        cmp = f"{n.cmp:.2f}" if n.cmp is not None else "-"
        style = ", style=bold, color=blue" if n.best else ", style=dashed, color=red" if n.status == "failed" else ""
        style += ", peripheries=2" if n.improver_changed else ""
        improver = "\\nimprover changed" if n.improver_changed else ""
        lines.append(f'  n{n.id} [label="{n.id}\\n{n.n_success}/{n.n_evals} own {mean}\\ncmp {cmp}{improver}"{style}];')
        if n.parent is not None:
            lines.append(f"  n{n.parent} -> n{n.id};")
    lines.append("}")
    return "\n".join(lines)


def ranked(nodes: list[NodeSummary]) -> list[NodeSummary]:
    """Evaluated nodes, best first, in the order that names the best-belief node (lower bound, then id)."""
    return sorted((n for n in nodes if n.n_evals), key=lambda n: (-n.lower_bound, n.id))


def select(
    nodes: list[NodeSummary], *, depth: int | None = None, top: int | None = None, failed: bool = True
) -> tuple[list[NodeSummary], dict[int, int]]:
    """The nodes a filtered tree shows, and for each shown node how many of its descendants it hides."""
    by_id = {n.id: n for n in nodes}
    level: dict[int, int] = {}
    for n in sorted(nodes, key=lambda n: n.id):  # a parent's id is always below its children's
        level[n.id] = 0 if n.parent is None else level.get(n.parent, -1) + 1
    keep = {n.id for n in nodes}
    if top is not None:
        keep = set()
        for n in ranked(nodes)[:top]:
            a: int | None = n.id
            while a is not None and a not in keep:
                keep.add(a)
                a = by_id[a].parent if a in by_id else None
    if depth is not None:
        keep = {i for i in keep if level[i] <= depth}
    if not failed:
        keep = {i for i in keep if by_id[i].status != "failed"}
    below = dict.fromkeys(by_id, 0)
    for n in sorted(nodes, key=lambda n: -n.id):
        if n.parent is not None and n.parent in below:
            below[n.parent] += below[n.id] + (n.id not in keep)
    shown = [n for n in nodes if n.id in keep]
    return shown, {i: below[i] for i in keep if below[i]}


def best_summary(archive: Archive) -> NodeSummary:
    for n in summarize(archive):
        if n.best:
            return n
    raise ArchiveError(f"{archive.path} has no evaluated node yet; wait for the run to evaluate its root")


EXPORT_README = """\
# hgm agent: node {node} of {run}

This directory holds the source of node {node} of the hgm run in `{run}`: a coding agent that rewrote itself,
exported with `hgm best --export`. It solved {solved}/{evaluated} of the benchmark tasks it was evaluated on
(lower {epsilon:g} posterior bound of its success rate: {lower_bound:.3f}; lineage commit {commit}).

It needs only Python 3.11+ and its standard library.

## Run it on a repository of your own

The agent talks to an OpenAI-compatible `/v1/chat/completions` endpoint over plain HTTP (or a unix socket):
a local server such as llama.cpp's `llama-server`, vLLM or Ollama, or a proxy in front of a hosted provider.

```sh
cat > /tmp/task.md <<'TASK'
Describe the change you want, as you would in an issue: what is wrong, what should happen instead.
TASK
export HGM_GATEWAY=http://127.0.0.1:8000    # the server's address (http://HOST:PORT or unix:///path/to.sock)
export HGM_MODEL=my-model                   # the model name that server expects
export HGM_TOKEN=...                        # sent as `Authorization: Bearer ...`: the server's key, or any word
cd {dest}
python3 -m agent_seed --task /tmp/task.md --workdir /path/to/your/repo --trajectory /tmp/trajectory.json
```

Instead of `HGM_TOKEN`, `HGM_TOKEN_FILE` may name a file holding the token, so that it appears in no environment.
The agent runs shell commands and edits files inside `--workdir`, with your user's rights and no sandbox: give it
a copy or a clean git checkout, and read its changes (`git -C /path/to/your/repo diff`) before you keep them.
`--max-steps N` and `--max-tokens N` bound a run; `agent_seed/README.md` describes the agent and its exit codes
(0 submitted, 3 at a step or token limit, 1 model or gateway error, 2 bad usage).

## Score it on a benchmark

```sh
hgm bench {dest} --benchmark builtin --json
```
"""


def export(archive: Archive, node: NodeSummary, dest: Path) -> None:
    """Write a node's agent source into an empty or new directory, with a README telling how to run it."""
    if dest.exists() and any(dest.iterdir()):
        raise ArchiveError(f"{dest} exists and is not empty; choose an empty or new directory")
    if node.commit is None:
        raise ArchiveError(f"node {node.id} has no source to export")
    archive.checkout(node.commit, dest)
    text = EXPORT_README.format(
        node=node.id,
        run=archive.path,
        solved=node.n_success,
        evaluated=node.n_evals,
        epsilon=epsilon_of(archive),
        lower_bound=node.lower_bound,
        commit=node.commit,
        dest=dest.absolute(),
    )
    # An agent may have written its own README (even as a link): ours goes beside it, and never through a link.
    for name in ("README.md", "README-hgm.md", "README-hgm-export.md"):
        try:
            with (dest / name).open("x", encoding="utf-8") as handle:
                handle.write(text)
            return
        except FileExistsError:
            continue
    raise ArchiveError(f"node {node.id}'s source already has files named like the README hgm writes; see {dest}")
