"""How fast `hgm report` pages render in headless chromium, for simulated runs of growing size.

    python benchmarks/report_render.py                       # runs of ~500 and ~2,100 nodes, 5 loads each
    python benchmarks/report_render.py --run runs/RUN        # an existing run instead
    python benchmarks/report_render.py --run runs/demo --screenshots docs --select 3

Render time is what a reader waits for: from the start of navigation until the page's script has drawn every
figure and the browser has painted it (the first animation frame after the page marks itself ready). Needs
Debian's chromium (`apt-get install chromium`) and the dev dependencies (Playwright).
"""

from __future__ import annotations

import argparse
import math
import re
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from rich.console import Console
from rich.table import Table

from hgm.archive import Archive
from hgm.config import load_config
from hgm.engine import Engine
from hgm.htmlreport import write_report
from hgm.report import summarize
from hgm.worlds.sim import SimWorld

PAINTED = "() => new Promise(done => requestAnimationFrame(() => done(performance.now())))"


def sim_run(out: Path, evals: int, seed: int) -> Path:
    """A simulated run of `evals` evaluations with alpha = 1: about two nodes for every three evaluations (the engine
    never makes a child the evaluations left could not evaluate)."""
    config = load_config(overrides=["world=sim", f"budget.max_evals={evals}", "search.alpha=1.0", f"seed={seed}"])
    archive = Archive.create(out, config.model_dump(mode="json"))
    try:
        Engine(archive, SimWorld(config.sim.landscape, config.seed, config.sim.n_tasks), config).run()
    finally:
        archive.close()
    return out


def render_times(browser: object, page_path: Path, runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        page = browser.new_page(viewport={"width": 1500, "height": 1000})  # type: ignore[attr-defined]
        page.goto(page_path.as_uri())
        page.wait_for_selector("body[data-ready='1']", timeout=120_000)
        times.append(page.evaluate(PAINTED) / 1000)
        page.close()
    return times


def screenshots(browser: object, run: Path, page_path: Path, dest: Path, select: int | None) -> list[Path]:
    """PNGs of the report (with a node's details open) and of `hgm status` for the same run."""
    from hgm.views.render import status_view
    from hgm.views.status import run_status

    dest = dest.absolute()
    dest.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1500, "height": 1000}, device_scale_factor=1)  # type: ignore[attr-defined]
    page.goto(page_path.as_uri() + (f"#node-{select}" if select is not None else ""))
    page.wait_for_selector("body[data-ready='1']", timeout=120_000)
    page.evaluate(PAINTED)
    report_png = dest / f"report-{run.name}.png"
    page.screenshot(path=str(report_png), full_page=True)
    page.close()

    console = Console(record=True, width=100, file=open("/dev/null", "w"))  # noqa: SIM115
    with Archive(run) as archive:
        best = next((n for n in summarize(archive) if n.best), None)
        label = "-" if best is None else f"node {best.id}: {best.n_success}/{best.n_evals} solved"
        console.print(f"$ hgm status {run.name}", style="bold", highlight=False)
        console.print(status_view(replace(run_status(archive), path=str(run)), label))
    svg = console.export_svg(title="hgm status")
    width, height = (math.ceil(float(v)) for v in re.findall(r'viewBox="0 0 ([\d.]+) ([\d.]+)"', svg)[0])
    page = browser.new_page(viewport={"width": width, "height": height})  # type: ignore[attr-defined]
    page.set_content(f"<html><body style='margin:0'>{svg}</body></html>")
    status_png = dest / f"status-{run.name}.png"
    page.screenshot(path=str(status_png))
    page.close()
    return [report_png, status_png]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--evals", type=int, nargs="+", default=[800, 3300], help="evaluations of each simulated run")
    parser.add_argument("--run", type=Path, action="append", help="measure this run (repeatable) instead")
    parser.add_argument("--runs", type=int, default=5, help="page loads per report")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--screenshots", type=Path, help="also save PNGs of the last run's report and status here")
    parser.add_argument("--select", type=int, help="node whose details the report screenshot shows")
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium")
    if chromium is None:
        print("needs Debian's chromium: apt-get install chromium", file=sys.stderr)
        return 2
    table = Table("run", "nodes", "evals", "HTML MB", "write s", "render median s", "render max s")
    with tempfile.TemporaryDirectory(prefix="hgm-render-") as tmp, sync_playwright() as playwright:
        runs = args.run or [sim_run(Path(tmp) / f"sim-{n}", n, args.seed) for n in args.evals]
        browser = playwright.chromium.launch(executable_path=chromium)
        try:
            for run in runs:
                page_path = Path(tmp) / f"{run.name}.html"
                with Archive(run) as archive:
                    start = time.perf_counter()
                    write_report(archive, page_path)
                    written = time.perf_counter() - start
                    nodes, evals = len(archive.nodes()), len(archive.evaluations())
                times = render_times(browser, page_path, args.runs)
                size = page_path.stat().st_size / 1e6
                name = run.name if args.run else "simulated"
                table.add_row(
                    name, f"{nodes:,}", f"{evals:,}", f"{size:.1f}", f"{written:.2f}",
                    f"{statistics.median(times):.2f}", f"{max(times):.2f}",
                )  # fmt: skip
            if args.screenshots is not None:
                for path in screenshots(browser, runs[-1], page_path, args.screenshots, args.select):
                    print(f"wrote {path}")
        finally:
            browser.close()
    Console(width=100).print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
