"""Building the docker sandbox image, online from debian:bookworm-slim or offline from a debootstrap base."""

from __future__ import annotations

import os
import tarfile
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import docker
import docker.errors

from hgm.sandboxes.config import SandboxConfig
from hgm.sandboxes.rootfs import DEFAULT_MIRROR, PACKAGES, ensure_rootfs, parse_toolchains, toolchain_packages

ONLINE_BASE = "debian:bookworm-slim"
OFFLINE_BASE = "hgm-base:bookworm"
TOOLCHAINS_LABEL = "hgm.toolchains"
CONTEXT = Path(__file__).resolve().parents[2] / "sandbox"

Log = Callable[[str], None]


class ImageBuildError(RuntimeError):
    """The sandbox image could not be built."""


# The API version each engine (by DOCKER_HOST) answered with, so later clients skip asking for it again.
_api_versions: dict[str, str] = {}


def docker_client(timeout: int = 60) -> Any:
    """A docker client for the engine named by the environment (DOCKER_HOST or the local socket)."""
    host = os.environ.get("DOCKER_HOST", "")
    client = docker.from_env(timeout=timeout, version=_api_versions.get(host, "auto"))
    _api_versions[host] = client.api.api_version
    return client


def image_exists(client: Any, name: str) -> bool:
    """Whether the engine has the image `name`."""
    try:
        client.images.get(name)
    except docker.errors.ImageNotFound:
        return False
    return True


def _pull(client: Any, name: str, log: Log) -> bool:
    if image_exists(client, name):
        return True
    try:
        client.images.pull(name)
    except docker.errors.APIError as exc:
        log(f"cannot pull {name} ({exc.explanation or exc}); building offline")
        return False
    return True


def import_rootfs(client: Any, rootfs: Path, name: str, log: Log) -> str:
    """Import a root filesystem directory as the image `name` (like `docker import`)."""
    log(f"importing {rootfs} as {name}")
    repository, _, tag = name.partition(":")
    with tempfile.NamedTemporaryFile(suffix=".tar") as tmp:
        with tarfile.open(fileobj=tmp, mode="w") as tar:
            tar.add(rootfs, arcname=".")
        tmp.flush()
        client.api.import_image_from_file(tmp.name, repository=repository, tag=tag or "latest")
    return name


def offline_base(toolchains: tuple[str, ...]) -> str:
    """The name the debootstrap base with `toolchains` is imported as."""
    extra = [t for t in toolchains if t != "python"]
    return OFFLINE_BASE if not extra else f"{OFFLINE_BASE}-{'-'.join(extra)}"


def _build(client: Any, base: str, tag: str, toolchains: tuple[str, ...], log: Log) -> None:
    if not (CONTEXT / "Dockerfile").is_file():
        raise ImageBuildError(f"{CONTEXT}/Dockerfile is missing; build from a source checkout of hgm")
    log(f"building {tag} from {CONTEXT}/Dockerfile on {base} with toolchains {','.join(toolchains)}")
    args = {
        "BASE": base,
        "PACKAGES": " ".join(PACKAGES + toolchain_packages(toolchains)),
        "TOOLCHAINS": ",".join(toolchains),
    }
    stream = client.api.build(
        path=str(CONTEXT), tag=tag, buildargs=args, rm=True, forcerm=True, pull=False, decode=True
    )
    for chunk in stream:
        if "error" in chunk:
            raise ImageBuildError(f"docker build of {tag} failed: {chunk['error'].strip()}")
        text = chunk.get("stream", "").rstrip()
        if text:
            log(text)


def build_image(
    config: SandboxConfig,
    offline: bool | None = None,
    rootfs_dir: Path | None = None,
    log: Log = print,
    *,
    mirror: str = DEFAULT_MIRROR,
    toolchains: tuple[str, ...] | None = None,
) -> str:
    """Build `config.image` with `toolchains` (default python); offline (None: only if the online base cannot be
    pulled) uses a debootstrap base that already holds every package."""
    chosen = parse_toolchains(toolchains)
    client = docker_client(timeout=600)
    try:
        if offline is None:
            offline = not _pull(client, ONLINE_BASE, log)
        base = ONLINE_BASE
        if offline:
            rootfs = ensure_rootfs(rootfs_dir, mirror, log, toolchains=chosen)
            base = offline_base(chosen)
            if rootfs_dir is not None or not image_exists(client, base):
                import_rootfs(client, rootfs, base, log)
        elif not _pull(client, ONLINE_BASE, log):
            raise ImageBuildError(f"cannot pull {ONLINE_BASE}; build offline with `hgm sandbox build --offline`")
        _build(client, base, config.image, chosen, log)
    finally:
        client.close()
    log(f"built {config.image}")
    return config.image
