"""Finding cgroup hierarchies and writing limits, v1 and v2, on a stand-in tree (this host may have either)."""

from __future__ import annotations

from pathlib import Path

from hgm.sandboxes.cgroups import PARENT, Hierarchy, SandboxCgroup, _prepare_parent, hierarchies

V1_MOUNTS = """\
cgroup /sys/fs/cgroup/systemd cgroup rw,nosuid,nodev,noexec,relatime,xattr,name=systemd 0 0
cgroup /sys/fs/cgroup/cpu,cpuacct cgroup rw,nosuid,nodev,noexec,relatime,cpu,cpuacct 0 0
cgroup /sys/fs/cgroup/memory cgroup rw,nosuid,nodev,noexec,relatime,memory 0 0
cgroup /sys/fs/cgroup/pids cgroup rw,nosuid,nodev,noexec,relatime,pids 0 0
cgroup2 /sys/fs/cgroup/unified cgroup2 rw,nosuid,nodev,noexec,relatime 0 0
"""


def test_v1_hierarchies_are_found_per_controller() -> None:
    found = hierarchies(V1_MOUNTS)
    assert found["memory"] == Hierarchy(Path("/sys/fs/cgroup/memory"), 1, frozenset({"memory"}))
    assert (
        found["cpu"]
        == found["cpuacct"]
        == Hierarchy(Path("/sys/fs/cgroup/cpu,cpuacct"), 1, frozenset({"cpu", "cpuacct"}))
    )
    assert found["pids"].path == Path("/sys/fs/cgroup/pids")


def test_v2_hierarchy_offers_what_its_root_lists(tmp_path: Path) -> None:
    (tmp_path / "cgroup.controllers").write_text("cpuset cpu io memory hugetlb pids rdma misc\n")
    found = hierarchies(f"cgroup2 {tmp_path} cgroup2 rw,nosuid,nodev,noexec,relatime 0 0\n")
    assert set(found) == {"memory", "cpu", "pids"}
    assert found["memory"] == Hierarchy(tmp_path, 2, frozenset({"memory", "cpu", "pids"}))


def test_v1_controllers_win_over_an_empty_unified_hierarchy(tmp_path: Path) -> None:
    (tmp_path / "cgroup.controllers").write_text("hugetlb\n")
    mounts = V1_MOUNTS.replace("/sys/fs/cgroup/unified", str(tmp_path))
    assert {h.version for h in hierarchies(mounts).values()} == {1}


def test_v2_limits_and_usage(tmp_path: Path) -> None:
    (tmp_path / "cgroup.subtree_control").write_text("cpu memory\n")
    hierarchy = Hierarchy(tmp_path, 2, frozenset({"memory", "cpu", "pids"}))
    (tmp_path / PARENT).mkdir()
    (tmp_path / PARENT / "cgroup.subtree_control").write_text("")
    _prepare_parent(hierarchy)
    assert (tmp_path / "cgroup.subtree_control").read_text() == "+cpu +memory +pids"
    assert (tmp_path / PARENT / "cgroup.subtree_control").read_text() == "+cpu +memory +pids"
    group = SandboxCgroup(memory_bytes=512 << 20, cpus=0.5, pids=64, layout=(hierarchy,))
    [path] = group.dirs
    assert path.parent == tmp_path / PARENT
    assert (path / "memory.max").read_text() == str(512 << 20)
    assert (path / "cpu.max").read_text() == "50000 100000"
    assert (path / "pids.max").read_text() == "64"
    assert group.procs_files == [path / "cgroup.procs"]
    (path / "cpu.stat").write_text("usage_usec 1500000\nuser_usec 1000000\nnr_periods 40\nnr_throttled 12\n")
    (path / "memory.peak").write_text("123456\n")
    usage = group.usage()
    assert (usage.cpu_seconds, usage.periods, usage.throttled, usage.memory_peak) == (1.5, 40, 12, 123456)


def test_v1_limits_and_usage(tmp_path: Path) -> None:
    memory = Hierarchy(tmp_path / "memory", 1, frozenset({"memory"}))
    cpu = Hierarchy(tmp_path / "cpu,cpuacct", 1, frozenset({"cpu", "cpuacct"}))
    pids = Hierarchy(tmp_path / "pids", 1, frozenset({"pids"}))
    for hierarchy in (memory, cpu, pids):
        (hierarchy.path / PARENT).mkdir(parents=True)
    group = SandboxCgroup(memory_bytes=256 << 20, cpus=2, pids=99, layout=(memory, cpu, pids))
    mem, cpus, procs = group.dirs
    assert (mem / "memory.limit_in_bytes").read_text() == str(256 << 20)
    assert (cpus / "cpu.cfs_quota_us").read_text() == "200000"
    assert (cpus / "cpu.cfs_period_us").read_text() == "100000"
    assert (procs / "pids.max").read_text() == "99"
    (cpus / "cpu.stat").write_text("nr_periods 7\nnr_throttled 2\nthrottled_time 5\n")
    (cpus / "cpuacct.usage").write_text("2500000000\n")
    (mem / "memory.max_usage_in_bytes").write_text("4096\n")
    usage = group.usage()
    assert (usage.cpu_seconds, usage.periods, usage.throttled, usage.memory_peak) == (2.5, 7, 2, 4096)


def test_settling_waits_for_processes_not_for_charges_the_kernel_releases_late(tmp_path: Path) -> None:
    """Some kernels keep an exited task's pid charged for ~2 s: a few such charges must not hold every command up,
    while a cgroup still full of dying processes is waited for."""
    from hgm.sandboxes.cgroups import LINGERING_PIDS

    group = tmp_path / "sbx"
    group.mkdir()
    (group / "cgroup.procs").write_text("")
    cgroup = object.__new__(SandboxCgroup)
    cgroup.name, cgroup.dirs = "sbx", [group]
    (group / "pids.current").write_text("1\n")
    assert cgroup.settle(timeout=0.0) is True
    (group / "pids.current").write_text(f"{LINGERING_PIDS + 1}\n")
    assert cgroup.settle(timeout=0.0) is False
