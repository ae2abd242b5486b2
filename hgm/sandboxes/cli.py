"""`hgm sandbox ...`: build the sandbox image, show what is available, remove leftovers."""

from __future__ import annotations

import os
import shutil
from typing import Annotated

import typer
from rich.console import Console

from hgm import defaults

app = typer.Typer(help="Build, inspect and clean up sandboxes.", no_args_is_help=True)
err = Console(stderr=True)


@app.command()
def build(
    offline: Annotated[
        bool | None,
        typer.Option("--offline/--online", help="Force the debootstrap base (offline) or debian:bookworm-slim."),
    ] = None,
    image: Annotated[str, typer.Option(help="Tag of the image to build.")] = defaults.SANDBOX_IMAGE,
    toolchains: Annotated[
        str,
        typer.Option(help="Languages to install, comma-separated: python,javascript,go,rust,cpp,java (or all)."),
    ] = "python",
    bwrap: Annotated[
        bool | None,
        typer.Option(
            "--bwrap/--no-bwrap",
            help="Also make the root filesystem bwrap sandboxes use.  [default: when debootstrap can run here]",
        ),
    ] = None,
) -> None:
    """Build the docker sandbox image (offline from Debian's archive if the online base cannot be pulled), and the
    root filesystem bwrap uses, with the chosen language toolchains."""
    from hgm.sandboxes.config import SandboxConfig
    from hgm.sandboxes.image import ImageBuildError, build_image
    from hgm.sandboxes.registry import docker_problem
    from hgm.sandboxes.rootfs import RootfsError, ensure_rootfs, parse_toolchains, set_default_rootfs

    def log(line: str) -> None:
        err.print(line, markup=False)

    try:
        chosen = parse_toolchains(toolchains)
    except ValueError as exc:
        err.print(f"[red]{exc}[/red]", soft_wrap=True)
        raise typer.Exit(2) from exc
    problem = docker_problem()
    if bwrap is None:
        debootstrap = shutil.which("debootstrap", path=f"{os.environ.get('PATH', '')}:/usr/sbin:/sbin")
        bwrap = (os.geteuid() == 0 and debootstrap is not None) or problem is not None
    built: list[str] = []
    try:
        if bwrap:
            rootfs = ensure_rootfs(log=log, toolchains=chosen)
            set_default_rootfs(rootfs)
            built.append(str(rootfs))
        if problem is None:
            build_image(SandboxConfig(image=image), offline=offline, log=log, toolchains=chosen)
            built.append(image)
        elif not bwrap:
            err.print(f"[red]cannot build the image: {problem}[/red]; start the Docker engine or set DOCKER_HOST")
            raise typer.Exit(1)
        else:
            log(f"no docker engine ({problem}): made only the root filesystem for bwrap sandboxes")
    except (ImageBuildError, RootfsError) as exc:
        err.print(f"[red]{exc}[/red]", soft_wrap=True)
        raise typer.Exit(1) from exc
    for item in built:
        typer.echo(item)


@app.command()
def cleanup(
    all_: Annotated[bool, typer.Option("--all", help="Also remove sandboxes of processes still running.")] = False,
) -> None:
    """Remove sandboxes (containers, workspaces) that crashed runs left behind."""
    from hgm.sandboxes.registry import cleanup_orphans

    typer.echo(f"removed {cleanup_orphans(include_live=all_)} leftover sandboxes")


@app.command()
def info() -> None:
    """Show which backends work here, the image and the cached root filesystem."""
    from rich.table import Table

    from hgm.sandboxes.config import SandboxConfig
    from hgm.sandboxes.registry import SandboxUnavailable, bwrap_problem, docker_problem, resolve_backend
    from hgm.sandboxes.rootfs import default_rootfs, installed_toolchains

    config = SandboxConfig()
    table = Table("item", "state")
    docker_issue = docker_problem()
    table.add_row("docker engine", docker_issue or "answers")
    if docker_issue is None:
        from hgm.sandboxes.image import docker_client, image_exists

        client = docker_client()
        try:
            table.add_row(f"image {config.image}", "present" if image_exists(client, config.image) else "missing")
        finally:
            client.close()
        table.add_row(
            "docker limits",
            f"each sandbox is a container with its own cgroup (memory {config.memory_mb} MB, {config.cpus:g} CPU, "
            f"{config.pids} processes) and a {config.workspace_mb} MB tmpfs workspace",
        )
    bwrap_issue = bwrap_problem(config)
    table.add_row("bubblewrap", bwrap_issue or "works")
    if bwrap_issue is None:
        from hgm.sandboxes.bwrap_sandbox import limits_statement, run_as

        table.add_row("bwrap limits", limits_statement(run_as(config.bwrap_uid)))
    rootfs = default_rootfs()
    state = f"toolchains {','.join(installed_toolchains(rootfs))}" if (rootfs / "usr").is_dir() else "missing"
    table.add_row("root filesystem", f"{rootfs} ({state})")
    try:
        table.add_row("auto backend", resolve_backend("auto"))
    except SandboxUnavailable as exc:
        table.add_row("auto backend", f"none: {exc}")
    Console().print(table)
