"""Where a run's temporary things go: one labelled directory per run, reclaimed when a later process resumes it.

Everything temporary a process makes while it works for a run (sandbox workspaces, node checkouts, the gateway's
socket directory, git index files, files the benchmark adapters and libraries make through `tempfile`) lands in
`<system temp>/hgm-run-<hash of the run path>/`, which holds `owner.json` naming the run and the owning process.
The name is short because unix socket paths must stay under about 100 bytes, and it is the same for every process
of the run, so a resume finds what a killed process left and removes it with the run's leftover containers.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from hgm.sandboxes.hostfs import remove_tree
from hgm.sandboxes.owner import (
    SCRATCH_PREFIX,
    current_run,
    mark_scratch,
    owner_alive,
    scratch_owner,
    set_current_run,
    temp_base,
)


class ScratchError(RuntimeError):
    """The run's scratch directory cannot be made; the message says why and what to do."""


def root_for(run_dir: Path | str) -> Path:
    """The scratch directory of the run at `run_dir`."""
    key = hashlib.sha256(str(Path(run_dir).absolute()).encode()).hexdigest()[:12]
    return Path(temp_base()) / f"{SCRATCH_PREFIX}{key}"


def mkdtemp(prefix: str) -> Path:
    """A fresh temporary directory (in the run's scratch directory during a run) that sandbox users can read."""
    path = Path(tempfile.mkdtemp(prefix=prefix))
    # Sandboxes may run the agent under an unprivileged uid that mounts these directories.
    path.chmod(0o755)
    return path


@contextmanager
def run_scratch(run_dir: Path, *, containers: bool = False) -> Iterator[Path]:
    """Own the run's scratch directory while the block runs, as the default place of every temporary file.

    What dead processes of the run left there is removed first, with their sandbox containers when `containers` is
    set (or when they left anything). The caller must hold the run's lock. Nested use for the same run is a no-op.
    """
    run = str(Path(run_dir).absolute())
    if current_run() == run:
        yield Path(tempfile.gettempdir())
        return
    if current_run():
        raise ScratchError(f"this process already works for run {current_run()}; one run per process")
    root = root_for(run)
    _reclaim(run, root, containers)
    try:
        os.mkdir(root, 0o755)
    except FileExistsError:
        raise ScratchError(f"{root} appeared while hgm was cleaning it up; is another process using {run}?") from None
    root.chmod(0o755)  # whatever the umask: sandbox users must be able to reach what is inside
    mark_scratch(root, run)
    base, previous = temp_base(), tempfile.tempdir
    set_current_run(run, base)
    tempfile.tempdir = str(root)
    try:
        yield root
    finally:
        tempfile.tempdir = previous
        set_current_run("")
        remove_tree(root)


def _reclaim(run: str, root: Path, containers: bool) -> None:
    leftover = os.path.lexists(root)
    if leftover:
        owned = scratch_owner(root)
        if owned is None:
            raise ScratchError(f"{root} exists but is no hgm scratch directory of this user; remove it, or set TMPDIR")
        if owned[0] != run:
            raise ScratchError(f"{root} is the scratch directory of run {owned[0]}; set TMPDIR to keep them apart")
        if owner_alive(owned[1]):
            raise ScratchError(f"{root} is in use by a live process ({owned[1]}); stop it first")
    if leftover or containers:
        from hgm.sandboxes.registry import cleanup_orphans

        cleanup_orphans(run=run)
