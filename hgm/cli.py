"""The `hgm` command line."""

from __future__ import annotations

import errno
import json
import os
import secrets
import sqlite3
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager, nullcontext
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from hgm import defaults
from hgm.archive import Archive, ArchiveError, check_new_run_dir, is_run_dir
from hgm.interrupts import DONE, ERRORS, INTERRUPTED, Interrupts
from hgm.sandboxes.base import SandboxUnavailable
from hgm.scratch import ScratchError, run_scratch

if TYPE_CHECKING:
    # Imported by the commands that need them, not by `hgm --help` and the read-only views: the engine brings numpy,
    # scipy and git, the config pydantic and yaml.
    from hgm.config import RunConfig
    from hgm.engine import Engine, Snapshot

app = typer.Typer(no_args_is_help=True, add_completion=False, help=__doc__, rich_markup_mode=None)
console = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


def _mount_sandbox_commands() -> None:
    from hgm.sandboxes.cli import app as sandbox_app

    app.add_typer(sandbox_app, name="sandbox", help="Build the sandbox image, clean up leftover sandboxes.")


_mount_sandbox_commands()

USAGE_ERROR = 2
STOPPED_BY_ERRORS = 3
INTERRUPTED_EXIT = 130
EXIT_CODES = {INTERRUPTED: INTERRUPTED_EXIT, ERRORS: STOPPED_BY_ERRORS}

RunDir = Annotated[Path, typer.Argument(help="A run directory, e.g. runs/20261125-120000-hgm-ab12.")]


def _default(text: str, value: object) -> str:
    """Help text showing the config's default for an option whose own default means "as configured"."""
    return f"{text}  [default: {value}]"


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn mistakes the user can fix into one clear line on stderr and exit code 2."""
    try:
        yield
    # Config and preflight errors are ValueErrors: caught here without importing their (heavier) modules.
    except (ArchiveError, ValueError, SandboxUnavailable, ScratchError) as exc:
        err.print(f"[red]error:[/red] {exc}", highlight=False)
        raise typer.Exit(USAGE_ERROR) from None
    except KeyboardInterrupt:
        err.print("interrupted; nothing was changed", highlight=False)
        raise typer.Exit(INTERRUPTED_EXIT) from None


def _overrides(pairs: dict[str, Any], extra: list[str] | None) -> list[str]:
    out = [f"{key}={value}" for key, value in pairs.items() if value is not None]
    return out + list(extra or [])


def make_world(config: RunConfig, archive: Archive) -> Any:
    """The world a config names, working for the run in `archive`."""
    if config.world == "sim":
        from hgm.worlds import sim_meta
        from hgm.worlds.sim import SimWorld

        sim = config.sim
        if config.selfmod.mode == "meta" or sim_meta.is_meta_landscape(sim.landscape):
            return sim_meta.MetaSimWorld(
                sim.landscape,
                config.selfmod.mode,
                config.seed,
                n_tasks=sim.n_tasks,
                latency=sim.latency,
                cost_per_eval=sim.cost_per_eval,
                cost_per_expansion=sim.cost_per_expansion,
            )
        return SimWorld(
            sim.landscape,
            config.seed,
            n_tasks=sim.n_tasks,
            latency=sim.latency,
            cost_per_eval=sim.cost_per_eval,
            cost_per_expansion=sim.cost_per_expansion,
        )
    from hgm.coding.world import CodingWorld

    return CodingWorld(config, archive)


def _disk_full(exc: BaseException) -> bool:
    return (isinstance(exc, OSError) and exc.errno == errno.ENOSPC) or "disk is full" in str(exc)


def _execute(archive: Archive, config: RunConfig, interrupts: Interrupts, *, live: bool, summary: bool) -> Engine:
    """Run (or resume) the search in `archive` inside the run's scratch directory; return the engine that did."""
    with ExitStack() as stack:
        with user_errors():
            stack.enter_context(run_scratch(archive.path, containers=config.world == "coding"))
        return _work(archive, config, interrupts, live=live, summary=summary)


def _work(archive: Archive, config: RunConfig, interrupts: Interrupts, *, live: bool, summary: bool) -> Engine:
    from hgm.engine import Engine

    world = make_world(config, archive)
    display: AbstractContextManager[Any] = nullcontext()
    on_tick: Callable[[Snapshot], None] | None = None
    if live:
        from hgm.display import progress

        display, on_tick = progress(console, config, reasons=summary)
    try:
        with user_errors():
            engine = Engine(archive, world, config, on_tick=on_tick, interrupts=interrupts)
        with display:
            reason = engine.run()
    except (sqlite3.OperationalError, OSError) as exc:
        if not _disk_full(exc):
            raise
        err.print(
            f"[red]error:[/red] the disk holding {archive.path} is full ({exc}). Everything completed is saved; "
            f"free some space, then `hgm resume {archive.path}`.",
            highlight=False,
        )
        raise typer.Exit(1) from None
    finally:
        world.close()
    if summary:
        snap = engine.snapshot()
        best = f"node {snap.best} ({snap.best_own[0]}/{sum(snap.best_own)} solved)" if snap.best is not None else "-"
        console.print(
            f"stopped: {reason or 'done'}; {snap.evals_done} evaluations, {snap.nodes} nodes, "
            f"best belief {best}, cost ${snap.spent:.4f}",
            highlight=False,
        )
        console.print(f"inspect: hgm tree {archive.path}   resume: hgm resume {archive.path}", highlight=False)
    return engine


def _exit_for(engine: Engine) -> None:
    """Exit with the code that says why the run stopped (0 when it finished or spent its budget)."""
    code = EXIT_CODES.get(engine.stop_kind, 0)
    if engine.abandoned:
        # Worker threads stuck in work that ignored its cancellation would hold the interpreter's exit forever;
        # everything they did not finish is already recorded as interrupted. Sandboxes already closed are removed.
        from hgm.sandboxes.registry import finish_closing

        finish_closing()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    if code:
        raise typer.Exit(code)


@app.command()
def run(
    config_file: Annotated[Path | None, typer.Option("--config", "-c", help="YAML config file.")] = None,
    world: Annotated[str | None, typer.Option(help=_default("sim | coding", defaults.WORLD))] = None,
    policy: Annotated[
        str | None, typer.Option(help=_default("hgm | reference | dgm | greedy | random", defaults.POLICY))
    ] = None,
    workers: Annotated[
        int | None, typer.Option(help=_default("Expansions and evaluations run at once.", defaults.WORKERS))
    ] = None,
    max_evals: Annotated[
        int | None, typer.Option(help=_default("Evaluation budget (task runs).", defaults.MAX_EVALS))
    ] = None,
    max_cost: Annotated[float | None, typer.Option(help="Model spending budget in USD.  [default: none]")] = None,
    max_time: Annotated[str | None, typer.Option(help="Wall-clock budget, e.g. 90m or 2h.  [default: none]")] = None,
    seed: Annotated[int | None, typer.Option(help=_default("Random seed.", defaults.SEED))] = None,
    landscape: Annotated[
        str | None, typer.Option(help=_default("Simulated landscape (world sim).", defaults.LANDSCAPE))
    ] = None,
    sim_latency: Annotated[
        float | None, typer.Option(help=_default("Seconds each simulated step takes.", defaults.SIM_LATENCY))
    ] = None,
    model: Annotated[
        str | None,
        typer.Option(help=_default("litellm model name for every role (world coding).", defaults.MODEL)),
    ] = None,
    api_base: Annotated[str | None, typer.Option(help="URL of a local or self-hosted model server.")] = None,
    benchmark: Annotated[
        str | None,
        typer.Option(help=_default("Benchmark the agents are scored on (world coding).", defaults.BENCHMARK)),
    ] = None,
    sandbox: Annotated[
        str | None,
        typer.Option(help=_default("auto | docker | bwrap | local (world coding).", defaults.SANDBOX_BACKEND)),
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="Run directory to create.  [default: runs/<time>-<policy>-<id>]")
    ] = None,
    set_: Annotated[
        list[str] | None, typer.Option("--set", help="Any config key, e.g. --set search.alpha=0.7.")
    ] = None,
    executor: Annotated[
        str | None, typer.Option(help=_default("local | ray: where expansions and evaluations run.", "local"))
    ] = None,
    ray_address: Annotated[
        str | None, typer.Option(help="Ray cluster HOST:PORT (with --executor ray).  [default: this machine's]")
    ] = None,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="No live display; print only the run directory.")
    ] = False,
) -> None:
    """Start a new run."""
    from hgm import preflight
    from hgm.config import load_config

    with user_errors():
        pairs = {
            "world": world,
            "policy": policy,
            "workers": workers,
            "budget.max_evals": max_evals,
            "budget.max_cost": max_cost,
            "budget.max_time": max_time,
            "seed": seed,
            "sim.landscape": landscape,
            "sim.latency": sim_latency,
            "coding.model": model,
            "coding.api_base": api_base,
            "coding.benchmark": benchmark,
            "coding.sandbox.backend": sandbox,
            "execution.executor": executor,
            "execution.ray_address": ray_address,
        }
        config = load_config(config_file, _overrides(pairs, set_))
        named = out is not None
        out = out or Path("runs") / f"{time.strftime('%Y%m%d-%H%M%S')}-{config.policy}-{secrets.token_hex(2)}"
        check_new_run_dir(out)
        preflight.check_run(config, out)
    with Interrupts().installed() as interrupts:
        with user_errors():
            archive = Archive.create(out, config.model_dump(mode="json"))
        try:
            if not quiet:
                console.print(f"run directory: {out}", highlight=False)
            elif not named:
                console.print(str(out), highlight=False)
            engine = _execute(archive, config, interrupts, live=not quiet, summary=not quiet)
        finally:
            archive.close()
        _exit_for(engine)


@app.command()
def resume(
    run_dir: RunDir,
    max_evals: Annotated[int | None, typer.Option(help="Raise (or set) the evaluation budget.")] = None,
    max_cost: Annotated[float | None, typer.Option(help="Raise (or set) the USD budget.")] = None,
    max_time: Annotated[str | None, typer.Option(help="Raise (or set) the wall-clock budget.")] = None,
    workers: Annotated[int | None, typer.Option(help="Expansions and evaluations run at once.")] = None,
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", help="A budget or operational key, e.g. --set shutdown_grace=60 (not world, seed, ...)."),
    ] = None,
    executor: Annotated[str | None, typer.Option(help="local | ray: where the rest of the work runs.")] = None,
    ray_address: Annotated[str | None, typer.Option(help="Ray cluster HOST:PORT (with --executor ray).")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No live display.")] = False,
) -> None:
    """Continue a run after a crash, Ctrl-C or a spent budget; nothing completed is redone."""
    from hgm import preflight
    from hgm.config import resumed_config

    with user_errors():
        if not is_run_dir(run_dir):
            raise ArchiveError(f"{run_dir} is not an hgm run directory (no hgm.db); start one with `hgm run`")
        pairs = {
            "budget.max_evals": max_evals,
            "budget.max_cost": max_cost,
            "budget.max_time": max_time,
            "workers": workers,
            "execution.executor": executor,
            "execution.ray_address": ray_address,
        }
        overrides = _overrides(pairs, set_)
        with Archive(run_dir) as frozen:
            config = resumed_config(frozen.config(), overrides)
            _check_not_below_spent(frozen, config, overrides)
        preflight.check_run(config, run_dir)
    with Interrupts().installed() as interrupts:
        with user_errors():
            archive = Archive(run_dir, readonly=False)
        try:
            if overrides:
                archive.set_meta("config", json.dumps(config.model_dump(mode="json")))
                archive.event("config_changed", overrides=overrides)
            engine = _execute(archive, config, interrupts, live=not quiet, summary=not quiet)
        finally:
            archive.close()
        _exit_for(engine)


def _check_not_below_spent(archive: Archive, config: RunConfig, overrides: list[str]) -> None:
    """Refuse a budget lowered below what the run has already used."""
    from hgm.config import ConfigError

    changed = {assignment.split("=", 1)[0].strip() for assignment in overrides}
    budget = config.budget
    done = len(archive.evaluations())
    if "budget.max_evals" in changed and budget.max_evals < done:
        raise ConfigError(
            f"budget.max_evals={budget.max_evals} is below the {done} evaluations this run has done; "
            f"give at least {done + 1} to continue it"
        )
    spent = archive.spent()
    if "budget.max_cost" in changed and budget.max_cost is not None and budget.max_cost < spent:
        raise ConfigError(f"budget.max_cost={budget.max_cost} is below the ${spent:.4f} this run has spent")
    elapsed = float(archive.meta("elapsed") or 0)
    if "budget.max_time" in changed and budget.max_time is not None and budget.max_time < elapsed:
        raise ConfigError(f"budget.max_time={budget.max_time:g}s is below the {elapsed:.0f}s this run has run")


def _open(run_dir: Path) -> Archive:
    return Archive(run_dir, readonly=True)


@app.command()
def tree(
    run_dir: RunDir,
    depth: Annotated[
        int | None, typer.Option(min=0, show_default="all", help="Show nodes up to this generation.")
    ] = None,
    top: Annotated[
        int | None, typer.Option(min=1, show_default="all", help="Show only the best K nodes and their ancestors.")
    ] = None,
    failed: Annotated[bool, typer.Option("--failed/--no-failed", help="Show failed self-modifications.")] = True,
    as_json: Annotated[
        bool, typer.Option("--json", show_default="off", help="Machine-readable list of every node.")
    ] = False,
    dot: Annotated[bool, typer.Option("--dot", show_default="off", help="Graphviz dot of every node.")] = False,
) -> None:
    """Show the lineage tree: evaluations, own mean, clade estimate, status; the best-belief node is marked."""
    from hgm import report

    if as_json and dot:
        err.print("[red]error:[/red] choose one of --json or --dot", highlight=False)
        raise typer.Exit(USAGE_ERROR)
    with user_errors(), _open(run_dir) as archive:
        if as_json:
            print(report.tree_json(archive))
        elif dot:
            print(report.tree_dot(archive))
        else:
            from hgm.views.tree import lineage_tree

            nodes, hidden = report.select(report.summarize(archive), depth=depth, top=top, failed=failed)
            console.print(lineage_tree(nodes, hidden), soft_wrap=True)


@app.command()
def show(
    run_dir: RunDir,
    node: Annotated[int, typer.Argument(help="Node id.")],
    show_all: Annotated[
        bool, typer.Option("--all", show_default="off", help="List every evaluation and artefact file.")
    ] = False,
    diff: Annotated[bool, typer.Option("--diff/--no-diff", help="Show the diff against the parent.")] = True,
) -> None:
    """Show one node: why it was made, its scores, costs by role, evaluations, artefacts and diff."""
    from hgm.views.node import node_detail
    from hgm.views.render import node_view

    with user_errors(), _open(run_dir) as archive:
        detail = node_detail(archive, node)
        console.print(node_view(detail, str(archive.node_dir(node)), show_all), soft_wrap=not console.is_terminal)
        parent = archive.node(detail.summary.parent) if detail.summary.parent is not None else None
        if diff and detail.summary.commit and parent is not None and parent.commit_sha:
            console.rule(f"diff against parent (node {parent.id})", align="left", style="dim")
            _print_diff(archive.diff(parent.commit_sha, detail.summary.commit))


def _print_diff(text: str) -> None:
    """A diff, coloured on a terminal and byte-for-byte otherwise (agent text: never read as markup)."""
    if console.is_terminal:
        from rich.syntax import Syntax

        from hgm.views.story import visible

        console.print(Syntax(visible(text), "diff", theme="ansi_dark", word_wrap=True))
    else:
        print(text)


@app.command()
def best(
    run_dir: RunDir,
    export: Annotated[
        Path | None,
        typer.Option(
            show_default="no export",
            help="Write the best agent's source and a README on running it into this new directory.",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", show_default="off", help="Machine-readable output.")] = False,
) -> None:
    """Name the best-belief agent: highest lower posterior quantile of its success rate."""
    from hgm import report

    with user_errors(), _open(run_dir) as archive:
        node = report.best_summary(archive)
        if export is not None:
            report.export(archive, node, export)
        if as_json:
            print(json.dumps(asdict(node), indent=2))
        else:
            console.print(
                f"best belief: node {node.id}, {node.n_success}/{node.n_evals} solved, "
                f"lower bound {node.lower_bound:.3f}, commit {node.commit}",
                highlight=False,
            )
            if node.true_quality is not None:
                console.print(f"true quality (simulated world): {node.true_quality:.3f}", highlight=False)
        if export is not None:
            err.print(f"exported to {export}; {export}/README.md tells how to run it", highlight=False)


@app.command()
def status(run_dir: RunDir) -> None:
    """Show whether a run is running or why it stopped, its budgets used and left, rate, ETA and cost by role."""
    from dataclasses import replace

    from hgm import report
    from hgm.views.render import status_view
    from hgm.views.status import run_status

    with user_errors(), _open(run_dir) as archive:
        state = replace(run_status(archive), path=str(run_dir))  # as typed, so the resume hint works as shown
        best = next((n for n in report.summarize(archive) if n.best), None)
        label = "-" if best is None else f"node {best.id}: {best.n_success}/{best.n_evals} solved"
        console.print(status_view(state, label), soft_wrap=not console.is_terminal)


@app.command()
def diff(
    run_dir: RunDir,
    a: Annotated[int, typer.Argument(help="Node id to diff from.")],
    b: Annotated[int, typer.Argument(help="Node id to diff to.")],
    stat: Annotated[
        bool, typer.Option("--stat", show_default="off", help="Only the changed files and line counts.")
    ] = False,
) -> None:
    """Show how the agent's source differs between any two nodes (e.g. the seed 0 and the best)."""
    from hgm.views.lineage import diff_nodes

    with user_errors(), _open(run_dir) as archive:
        _print_diff(diff_nodes(archive, a, b, stat=stat))


@app.command("report")
def html_report(
    run_dir: RunDir,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", show_default="RUN_DIR/report.html", help="HTML file to write.")
    ] = None,
    watch: Annotated[
        bool,
        typer.Option(
            "--watch", show_default="off", help="Rewrite the report while the run goes on; the page reloads itself."
        ),
    ] = False,
    every: Annotated[float, typer.Option(min=1, help="Seconds between rewrites with --watch.")] = 30.0,
) -> None:
    """Write one self-contained HTML page (works offline): lineage tree, score and cost curves, solve matrix."""
    from hgm.htmlreport import watch_report, write_report

    output = output or run_dir / "report.html"
    with user_errors():
        try:
            if watch:
                watch_report(run_dir, output, every, on_write=lambda note: err.print(note, highlight=False))
            else:
                with _open(run_dir) as archive:
                    write_report(archive, output)
        except OSError as exc:
            raise ArchiveError(f"cannot write the report to {output}: {exc.strerror or exc}") from None
    console.print(f"wrote {output}", highlight=False)


@app.command()
def demo(
    out: Annotated[Path | None, typer.Option(help="Run directory.  [default: runs/demo-<time>]")] = None,
    sandbox: Annotated[str, typer.Option(help="auto | docker | bwrap")] = "auto",
    max_evals: Annotated[int, typer.Option(help="Evaluation budget.")] = 40,
    workers: Annotated[int, typer.Option(help="Work run at once.")] = 2,
) -> None:
    """Run the whole loop offline with a scripted model: self-modification, sandboxed evaluation, lineage."""
    from hgm import demo as demo_module
    from hgm import preflight
    from hgm.sandboxes import resolve_backend

    with user_errors():
        config = demo_module.demo_config(sandbox, max_evals, workers)
        backend = resolve_backend(config.coding.sandbox.backend)
        if backend == "docker":
            ensure_image(config)
        out = out or demo_module.default_out()
        check_new_run_dir(out)
        preflight.check_run(config, out)
    with Interrupts().installed() as interrupts:
        with user_errors():
            archive = Archive.create(out, config.model_dump(mode="json"))
        console.print(
            f"demo run in {out} (sandbox: {backend}; the model is scripted, see hgm/models/demo.py)", highlight=False
        )
        try:
            engine = _execute(archive, config, interrupts, live=True, summary=True)
            demo_module.explain(archive, console)
        finally:
            archive.close()
        _exit_for(engine)


@app.command()
def bench(
    agent: Annotated[str, typer.Argument(help="seed | an agent directory (e.g. from best --export) | RUN_DIR:NODE")],
    benchmark: Annotated[str, typer.Option(help="builtin | swebench | polyglot | custom")] = "builtin",
    path: Annotated[str | None, typer.Option(help="Benchmark location: directory, file or dataset name.")] = None,
    tasks: Annotated[str | None, typer.Option(help="Comma-separated task ids.  [default: all]")] = None,
    subset: Annotated[Path | None, typer.Option(help="File listing task ids, one per line.")] = None,
    workers: Annotated[int, typer.Option(help="Tasks run at once.")] = 2,
    model: Annotated[str | None, typer.Option(help=_default("litellm model name.", defaults.MODEL))] = None,
    api_base: Annotated[str | None, typer.Option(help="URL of a local or self-hosted model server.")] = None,
    sandbox: Annotated[
        str | None, typer.Option(help=_default("auto | docker | bwrap | local", defaults.SANDBOX_BACKEND))
    ] = None,
    out: Annotated[Path | None, typer.Option(help="Result directory.  [default: runs/bench-<time>-<id>]")] = None,
    set_: Annotated[list[str] | None, typer.Option("--set", help="Any config key.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable results on stdout.")] = False,
) -> None:
    """Evaluate one agent on a benchmark outside a run: per-task results and a summary.

    `hgm bench images --benchmark swebench [--subset F]` instead makes the selected tasks' images present: pulled
    where a registry answers, else built with swebench's own builders (network needed); missing ones are named."""
    from hgm import benchrun, preflight
    from hgm.config import load_config

    if agent == "images":
        _bench_images(benchmark, path, tasks, subset, set_)
        return
    with ExitStack() as stack:
        with user_errors():
            seed_dir, cleanup = benchrun.resolve_agent(agent)
        stack.callback(cleanup)
        with user_errors():
            pairs = {
                "world": "coding",
                "policy": "bench",
                "workers": workers,
                "budget.max_evals": 1_000_000,
                "coding.benchmark": benchmark,
                "coding.benchmark_path": path,
                "coding.subset": subset,
                "coding.model": model,
                "coding.api_base": api_base,
                "coding.sandbox.backend": sandbox,
                "coding.seed_path": seed_dir,
            }
            extra = [f"coding.tasks=[{tasks}]"] if tasks else []
            config = load_config(None, _overrides(pairs, extra + list(set_ or [])))
            out = out or Path("runs") / f"bench-{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(2)}"
            check_new_run_dir(out)
            unavailable = preflight.check_run(config, out)
        interrupts = stack.enter_context(Interrupts().installed())
        with user_errors():
            archive = Archive.create(out, config.model_dump(mode="json"))
        try:
            engine = _execute(archive, config, interrupts, live=not as_json, summary=False)
            stopped = "every task was tried" if engine.stop_kind == DONE else engine.stop_reason
            results = benchrun.results(archive, agent, benchmark, engine.tasks, unavailable, stopped)
        finally:
            archive.close()
        if as_json:
            print(json.dumps(results, indent=2))
        else:
            console.print(benchrun.table(results))
            console.print(benchrun.summary_line(results, out), highlight=False)
        _exit_for(engine)
        if results["evaluated"] == 0 and results["errors"]:
            err.print(
                "[red]error:[/red] no task could be measured: every one ended in an infrastructure error; "
                f"first: {results['errors'][0]}",
                highlight=False,
            )
            raise typer.Exit(STOPPED_BY_ERRORS)


def _bench_images(
    benchmark: str, path: str | None, tasks: str | None, subset: Path | None, set_: list[str] | None
) -> None:
    from hgm.coding.world import _check_tasks, make_benchmark
    from hgm.config import load_config
    from hgm.sandboxes import docker_problem

    with user_errors():
        pairs = {"coding.benchmark": benchmark, "coding.benchmark_path": path, "coding.subset": subset}
        extra = [f"coding.tasks=[{tasks}]"] if tasks else []
        config = load_config(None, _overrides(pairs, extra + list(set_ or [])))
        made = make_benchmark(config.coding)
        selected = _check_tasks(config.coding, made.tasks())
        obtain = getattr(made, "obtain_images", None)
        if not callable(obtain):
            raise ValueError(
                f"the {benchmark} benchmark runs in the sandbox image, not images of its own; build that with "
                "`hgm sandbox build`"
            )
    problem = docker_problem()
    if problem:
        err.print(f"[red]error:[/red] instance images need a Docker engine: {problem}", highlight=False)
        raise typer.Exit(1)
    missing = obtain(selected, log=lambda line: err.print(line, highlight=False, markup=False))
    if missing:
        for name in missing:
            console.print(f"missing: {name}", highlight=False)
        err.print(
            f"[red]error:[/red] {len(missing)} of {len(selected)} images are missing: no registry gave them and "
            "swebench could not build them here (building needs network access)",
            highlight=False,
        )
        raise typer.Exit(1)
    console.print(f"all {len(selected)} images are present", highlight=False)


@app.command()
def doctor(
    config_file: Annotated[Path | None, typer.Option("--config", "-c", help="YAML config file.")] = None,
    model: Annotated[str | None, typer.Option(help="litellm model name to check.")] = None,
    api_base: Annotated[str | None, typer.Option(help="URL of a local or self-hosted model server.")] = None,
    sandbox: Annotated[str | None, typer.Option(help="auto | docker | bwrap | local")] = None,
) -> None:
    """Check that Docker, bubblewrap, git, the sandbox image and the configured models are usable."""
    from rich.table import Table

    from hgm.config import load_config
    from hgm.doctor import healthy, run_checks

    with user_errors():
        pairs = {"coding.model": model, "coding.api_base": api_base, "coding.sandbox.backend": sandbox}
        config = load_config(config_file, _overrides(pairs, None))
        checks = run_checks(config)
    table = Table("check", "status", "detail")
    for check in checks:
        status = "[green]ok[/green]" if check.ok else "[red]missing[/red]" if check.needed else "[yellow]no[/yellow]"
        table.add_row(check.name, status, check.detail)
    console.print(table)
    if not healthy(checks):
        raise typer.Exit(1)


def ensure_image(config: RunConfig) -> None:
    """Build the sandbox image when the engine does not have it yet (offline from Debian's archive if needed)."""
    from hgm.sandboxes.image import build_image, docker_client, image_exists

    client = docker_client()
    try:
        present = image_exists(client, config.coding.sandbox.image)
    finally:
        client.close()
    if not present:
        console.print(f"building sandbox image {config.coding.sandbox.image} (once; a few minutes)...")
        build_image(config.coding.sandbox, log=lambda line: console.print(line, highlight=False, markup=False))


def main() -> None:
    app(prog_name="hgm")


if __name__ == "__main__":
    main()
