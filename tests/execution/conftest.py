"""A real two-node Ray cluster on loopback, shared by the tests of this folder, torn down even when they fail."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest

from hgm.execution.localcluster import RayCluster, start_cluster

# The head takes one CPU's worth of jobs, the worker two; jobs ask for a quarter CPU each (execution.cpus_per_job),
# so the head runs up to 4 at once and the worker 8; sandboxes: 1 on the head, 2 on the worker.
HEAD = (1, {"sandbox": 1.0})
WORKER = (2, {"sandbox": 2.0})


@pytest.fixture(scope="module")
def ray_cluster() -> Iterator[RayCluster]:
    cluster = start_cluster([WORKER], HEAD)
    try:
        yield cluster
    finally:
        cluster.stop()
        shutil.rmtree(cluster.root, ignore_errors=True)


@pytest.fixture
def fresh_cluster() -> Iterator[RayCluster]:
    """A cluster of its own, for a test that kills one of its nodes."""
    cluster = start_cluster([WORKER], HEAD)
    try:
        yield cluster
    finally:
        cluster.stop()
        shutil.rmtree(cluster.root, ignore_errors=True)
