"""Task images with their own workdir and PATH: root's repository at /testbed, a tool outside the usual PATH."""

from __future__ import annotations

import io
import subprocess
import tarfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import docker.errors
import pytest

from hgm.sandboxes import SandboxConfig, SandboxError, open_sandbox
from hgm.sandboxes.docker_sandbox import DockerSandbox, drain_removals, image_path
from hgm.sandboxes.image import docker_client

pytestmark = pytest.mark.docker

WORKDIR = "/testbed"
TOOLS = "/opt/hgm-test-tools/bin"
IMAGE_PATH = f"{TOOLS}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
OTHER_UID = 1001


def git(repo: Path, *args: str) -> str:
    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"}
    done = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=True, env=env)
    return done.stdout


def make_repo(path: Path) -> None:
    """A two-file git repository with a nested directory."""
    (path / "pkg").mkdir(parents=True)
    (path / "README.md").write_text("calc\n")
    (path / ".gitignore").write_text("/private/\n")
    (path / "pkg" / "calc.py").write_text("def add(a, b):\n    return a + b\n")
    git(path, "init", "-q", "-b", "main")
    git(path, "add", "-A")
    git(path, "commit", "-qm", "calc")


def owned_by(uid: int) -> Callable[[tarfile.TarInfo], tarfile.TarInfo]:
    def chown(info: tarfile.TarInfo) -> tarfile.TarInfo:
        return info.replace(uid=uid, gid=uid, uname="", gname="", deep=False)

    return chown


@pytest.fixture(scope="module")
def task_image(docker_image: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A task image on top of the sandbox image: root's repository at /testbed, a tool on the image's own PATH.

    Files go into a container of the sandbox image with the owners set in the archive, and the container is committed:
    one layer, no build step, and the same ownership as an image whose Dockerfile ran as root.
    """
    src = tmp_path_factory.mktemp("task-image")
    make_repo(src / "testbed")
    (src / "private").mkdir(mode=0o700)
    (src / "private" / "notes.txt").write_text("another user's\n")
    (src / "hgm-test-tool").write_text("#!/bin/sh\necho hgm-test-tool ran\n")
    (src / "hgm-test-tool").chmod(0o755)
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w") as tar:
        tar.add(src / "testbed", arcname=WORKDIR.lstrip("/"), filter=owned_by(0))
        tar.add(src / "private", arcname=f"{WORKDIR.lstrip('/')}/private", filter=owned_by(OTHER_UID))
        tar.add(src / "hgm-test-tool", arcname=f"{TOOLS.lstrip('/')}/hgm-test-tool", filter=owned_by(0))
    repository, tag = "hgm-test-task", uuid.uuid4().hex[:8]
    client = docker_client(timeout=300)
    container = client.containers.create(docker_image, command=["true"])
    try:
        container.put_archive("/", archive.getvalue())
        container.commit(repository, tag, changes=[f"ENV PATH={IMAGE_PATH}", 'CMD ["sleep", "infinity"]'])
    finally:
        container.remove(force=True)
    try:
        yield f"{repository}:{tag}"
    finally:
        client.images.remove(f"{repository}:{tag}", force=True)
        client.close()


def host_checkout(tmp_path: Path) -> Path:
    """The repository as a benchmark prepares it on the host: a copy of the image's /testbed."""
    workspace = tmp_path / "workspace"
    make_repo(workspace)
    return workspace


def volume_of(box: DockerSandbox) -> str:
    client = docker_client()
    try:
        mounts = client.api.inspect_container(box.name)["Mounts"]
    finally:
        client.close()
    return str(next(m["Name"] for m in mounts if m["Destination"] == WORKDIR))


def test_agent_owns_the_image_workdir_and_can_empty_it(
    task_image: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = f"sk-test-secret-{uuid.uuid4().hex}"
    monkeypatch.setenv("OPENAI_API_KEY", secret)
    config = SandboxConfig(backend="docker", image=task_image, workdir=WORKDIR)
    workspace = host_checkout(tmp_path)
    with open_sandbox(config, workspace, label="test-task-image") as box:
        assert isinstance(box, DockerSandbox)
        volume = volume_of(box)

        def run(cmd: str) -> str:
            result = box.exec(cmd, timeout=60)
            assert result.returncode == 0, f"{cmd}: {result.output}"
            return result.output

        assert run("pwd; id -u") == f"{WORKDIR}\n1000\n"
        assert run(f"stat -c %u:%g {WORKDIR}") == "1000:1000\n"
        assert run(f"find {WORKDIR} ! -user 1000") == ""
        assert run("git status --porcelain") == ""
        run("echo new > NEW.txt && echo more >> README.md && rm pkg/calc.py")
        assert sorted(run("git status --porcelain").splitlines()) == [" D pkg/calc.py", " M README.md", "?? NEW.txt"]
        run("rm NEW.txt README.md && mkdir top && rmdir top")
        assert run("ls -A") == ".git\n.gitignore\npkg\nprivate\n"
        assert run("cat private/notes.txt") == "another user's\n"

        assert run("command -v hgm-test-tool && hgm-test-tool") == f"{TOOLS}/hgm-test-tool\nhgm-test-tool ran\n"
        env = run("env")
        assert f"PATH={IMAGE_PATH}\n" in env
        assert secret not in env
        assert "OPENAI_API_KEY" not in env

        # Scoring empties the workspace and copies a fresh checkout in.
        assert run("find . -mindepth 1 -maxdepth 1 -exec rm -rf {} +; ls -A") == ""
        box.copy_in(workspace, ".")
        assert run("git status --porcelain; ls -A") == ".git\n.gitignore\nREADME.md\npkg\n"
    assert drain_removals(timeout=300)
    client = docker_client()
    try:
        assert client.containers.list(all=True, filters={"label": "hgm.label=test-task-image"}) == []
        with pytest.raises(docker.errors.NotFound):
            client.volumes.get(volume)
    finally:
        client.close()


def test_image_files_outside_the_workspace_copy_are_the_agents_too(task_image: str, tmp_path: Path) -> None:
    config = SandboxConfig(backend="docker", image=task_image, workdir=WORKDIR)
    empty = tmp_path / "empty"
    empty.mkdir()
    with open_sandbox(config, empty, env={"PATH": "/usr/bin:/bin"}) as box:
        changed = box.exec("echo x >> pkg/calc.py && rm README.md && rm -r private && git status --porcelain", 60)
        assert changed.returncode == 0, changed.output
        assert sorted(changed.output.splitlines()) == [" D README.md", " M pkg/calc.py"]
        # A PATH the caller passes still wins over the image's.
        assert box.exec("echo $PATH; command -v hgm-test-tool", 60).output == "/usr/bin:/bin\n"


def test_image_path_is_used_only_when_the_image_sets_one() -> None:
    assert image_path(["LANG=C", "PATH=/opt/conda/bin:/usr/bin"]) == {"PATH": "/opt/conda/bin:/usr/bin"}
    assert image_path(["LANG=C"]) == {}
    assert image_path(["PATH="]) == {}
    assert image_path(None) == {}


def test_stand_in_image_workdir_belongs_to_root(task_image: str) -> None:
    """The premise of the tests above: in the image itself, /testbed is root's and private/ another user's."""
    client = docker_client()
    container = client.containers.create(task_image, command=["true"])
    try:
        chunks, _ = container.get_archive(WORKDIR)
        with tarfile.open(fileobj=io.BytesIO(b"".join(chunks))) as tar:
            owners = {member.name: member.uid for member in tar.getmembers()}
    finally:
        container.remove(force=True)
        client.close()
    assert owners["testbed"] == 0
    assert owners["testbed/README.md"] == 0
    assert owners["testbed/private"] == OTHER_UID


def test_an_image_workdir_larger_than_the_workspace_is_a_clear_error(docker_image: str, tmp_path: Path) -> None:
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w") as tar:
        big = tarfile.TarInfo(f"{WORKDIR.lstrip('/')}/big.bin")
        big.size = 24 * 1024 * 1024
        tar.addfile(big, io.BytesIO(bytes(big.size)))
    tag = f"hgm-test-big:{uuid.uuid4().hex[:8]}"
    client = docker_client(timeout=300)
    container = client.containers.create(docker_image, command=["true"])
    try:
        container.put_archive("/", archive.getvalue())
        container.commit(*tag.split(":"))
    finally:
        container.remove(force=True)
    empty = tmp_path / "empty"
    empty.mkdir()
    try:
        config = SandboxConfig(backend="docker", image=tag, workdir=WORKDIR, workspace_mb=16)
        with pytest.raises(SandboxError, match="it does not fit in workspace_mb; raise it"):
            open_sandbox(config, empty, label="test-too-big")
        assert drain_removals(timeout=300)
        assert client.containers.list(all=True, filters={"label": "hgm.label=test-too-big"}) == []
        with open_sandbox(config.model_copy(update={"workspace_mb": 64}), empty) as box:
            assert box.exec("stat -c %s big.bin", 60).output == f"{24 * 1024 * 1024}\n"
    finally:
        client.images.remove(tag, force=True)
        client.close()


@pytest.fixture(scope="module")
def image_as(docker_image: str) -> Iterator[Callable[[str], str]]:
    """Images of the sandbox image that differ only in the USER they name."""
    client = docker_client(timeout=300)
    made: list[str] = []

    def commit(user: str) -> str:
        container = client.containers.create(docker_image, command=["true"])
        try:
            tag = uuid.uuid4().hex[:8]
            container.commit("hgm-test-user", tag, changes=[f"USER {user}"])
        finally:
            container.remove(force=True)
        made.append(f"hgm-test-user:{tag}")
        return made[-1]

    try:
        yield commit
    finally:
        for name in made:
            client.images.remove(name, force=True)
        client.close()


@pytest.mark.parametrize(
    ("user", "config_user", "expected"),
    [
        ("agent", "image", "1000:1000"),
        ("root", "image", "0:0"),
        ("1001", "image", "1001:0"),
        ("1000", "image", "1000:1000"),
        ("agent:root", "image", "1000:0"),
        ("agent", "1002:1003", "1002:1003"),
    ],
)
def test_commands_run_as_the_user_the_image_names(
    image_as: Callable[[str], str], tmp_path: Path, user: str, config_user: str, expected: str
) -> None:
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    (workspace / "given.txt").write_text("x\n")
    config = SandboxConfig(backend="docker", image=image_as(user), user=config_user)
    with open_sandbox(config, workspace, secrets={"token": "s3cret"}) as box:
        seen = box.exec("echo $(id -u):$(id -g); stat -c %u:%g . given.txt; cat /run/hgm/secrets/token", 60)
        assert seen.output.split() == [expected, expected, expected, "s3cret"], seen.output
        # What a command leaves running is stopped, as for any user; the container itself survives it.
        assert box.exec("sleep 600 & echo started", 60).output == "started\n"
        assert box.exec("cat /proc/[0-9]*/comm | grep -c '^sleep$'", 60).output == "1\n"  # the keeper's
        assert box.exec("touch /etc/by-agent 2>/dev/null || echo read-only", 60).output == "read-only\n"


def test_an_image_user_missing_from_its_passwd_is_a_clear_error(image_as: Callable[[str], str], tmp_path: Path) -> None:
    with pytest.raises(SandboxError, match="runs as user 'nobody-here', which its /etc/passwd lacks"):
        open_sandbox(SandboxConfig(backend="docker", image=image_as("nobody-here")), tmp_path)


def test_a_writable_root_is_bounded_by_disk_mb_and_network_is_off_unless_asked(
    image_as: Callable[[str], str], tmp_path: Path
) -> None:
    image = image_as("root")
    interfaces = "tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' ' | sort | tr '\\n' ' '"
    with open_sandbox(SandboxConfig(backend="docker", image=image), tmp_path) as box:
        assert box.exec(interfaces, 60).output.split() == ["lo"]
    config = SandboxConfig(backend="docker", image=image, read_only_root=False, disk_mb=32, network=True)
    with open_sandbox(config, tmp_path) as box:
        assert "eth0" in box.exec(interfaces, 60).output.split()
        installed = box.exec("mkdir -p /opt/env && echo installed > /opt/env/pkg && cat /opt/env/pkg", 60)
        assert (installed.returncode, installed.output) == (0, "installed\n")
        # Writes go on until stopped: the size check, not the command's own end, stops them.
        filler = "i=0; while :; do head -c 4194304 /dev/zero > /var/tmp/fill-$i || exit 7; i=$((i+1)); sleep 0.2; done"
        stopped = box.exec(filler, timeout=600)
        assert stopped.returncode == -9 and not stopped.timed_out
        assert "wrote more than 32 MB outside the workspace and /tmp" in stopped.output
        assert box.exec("echo still usable", 60).output == "still usable\n"


def test_bwrap_refuses_what_only_docker_offers(tmp_path: Path) -> None:
    from hgm.sandboxes.bwrap_sandbox import BwrapSandbox

    for setting in ({"network": True}, {"read_only_root": False}):
        with pytest.raises(SandboxError, match="those settings need docker"):
            BwrapSandbox(SandboxConfig(backend="bwrap", **setting), tmp_path)


def test_sandbox_user_setting_is_checked() -> None:
    with pytest.raises(ValueError, match="user must be 'image' or numeric uid:gid"):
        SandboxConfig(user="agent")
