"""Settings shared by every sandbox backend."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from hgm import defaults

Backend = Literal["auto", "docker", "bwrap", "local"]


class SandboxConfig(BaseModel):
    """Where and under which limits untrusted agent code runs."""

    model_config = ConfigDict(extra="forbid")

    backend: Backend = Field(
        defaults.SANDBOX_BACKEND, description="docker, bwrap or local; auto picks docker if an engine answers"
    )
    image: str = Field(defaults.SANDBOX_IMAGE, description="Docker image built from sandbox/Dockerfile")
    cpus: float = Field(1.0, gt=0, description="CPU cores a docker sandbox may use")
    memory_mb: int = Field(
        2048, ge=64, description="memory cap of the whole sandbox, no swap (bwrap without a cgroup: per process)"
    )
    pids: int = Field(256, ge=16, description="most processes and threads alive at once")
    timeout: float = Field(600.0, gt=0, description="default wall-clock seconds per command")
    tmp_mb: int = Field(512, ge=16, description="size of /tmp (a tmpfs; bwrap as root: shares one with the workspace)")
    workspace_mb: int = Field(
        1024, ge=16, description="size of the workspace, a tmpfs whose content counts as memory (bwrap: as root only)"
    )
    file_size_mb: int = Field(1024, ge=1, description="largest file a sandboxed process may write")
    max_output: int = Field(100_000, ge=1000, description="bytes of command output kept; the middle is dropped")
    workdir: str = Field("/workspace", description="path of the workspace inside docker and bwrap sandboxes")
    rootfs: str = Field("auto", description="bwrap root: auto (built rootfs, else host), host, or a directory")
    bwrap_uid: int = Field(65534, ge=1, description="host uid that runs bwrap sandboxes when hgm runs as root")
    user: str = Field(
        "image", description="docker: who commands run as: image (the image's USER; root if it names none) or uid:gid"
    )
    network: bool = Field(False, description="docker: give the sandbox the engine's default network (off: no network)")
    read_only_root: bool = Field(True, description="docker: whether the image's files are read-only")
    disk_mb: int = Field(
        4096, ge=16, description="docker with a writable root: most MB written outside the tmpfs mounts, then stopped"
    )

    @field_validator("user")
    @classmethod
    def _user(cls, value: str) -> str:
        if value != "image" and not re.fullmatch(r"\d+:\d+", value):
            raise ValueError(f"user must be 'image' or numeric uid:gid such as 1000:1000, not {value!r}")
        return value

    @field_validator("workdir")
    @classmethod
    def _absolute(cls, value: str) -> str:
        if not value.startswith("/") or value.rstrip("/") == "":
            raise ValueError(f"workdir must be an absolute path below /, not {value!r}")
        return value.rstrip("/")
