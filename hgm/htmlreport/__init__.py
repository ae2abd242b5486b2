"""`hgm report`: one self-contained HTML page of a run (lineage, curves, solve matrix, node details), offline."""

from __future__ import annotations

import html
import json
import os
import tempfile
import time
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

from hgm.archive import Archive
from hgm.htmlreport.data import report_data
from hgm.views.status import NEW, RUNNING, STOPPING, run_status

# Everything from the archive is agent-influenced: in a <script> block only these characters could end it early
# or change how it parses, so they are written as JSON escapes (which JSON.parse reads back unchanged).
_JSON_ESCAPES = str.maketrans(
    {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}
)


def embed_json(data: Any) -> str:
    """JSON that is safe between <script type="application/json"> tags, whatever strings it holds."""
    text = json.dumps(data, ensure_ascii=False, allow_nan=False)
    return text.translate(_JSON_ESCAPES)


def _asset(name: str) -> str:
    return resources.files(__package__).joinpath(name).read_text(encoding="utf-8")


def _script(code: str) -> str:
    if "</script" in code.lower():
        raise ValueError("an inlined script contains '</script'; it would end its own <script> element")
    return code


def plotly_js() -> str:
    """plotly.js as shipped inside the plotly Python package (no network, no CDN)."""
    from plotly.offline import get_plotlyjs

    return get_plotlyjs()


def render_html(data: dict[str, Any], refresh: float | None = None) -> str:
    """The page: inlined plotly.js, the report's own script and style, and the data as escaped JSON."""
    meta = f'<meta http-equiv="refresh" content="{int(refresh)}">' if refresh else ""
    replacements = {
        "<!--HGM:TITLE-->": html.escape(f"hgm report: {data['run']['name']}"),
        "<!--HGM:REFRESH-->": meta,
        "/*HGM:CSS*/": _asset("report.css"),
        "/*HGM:PLOTLY*/": _script(plotly_js()),
        "/*HGM:JS*/": _script(_asset("report.js")),
        "<!--HGM:DATA-->": embed_json(data),
    }
    page = _asset("page.html")
    for marker, value in replacements.items():
        before, found, after = page.partition(marker)
        assert found, marker
        page = before + value + after  # no str.replace: values may hold other markers' text
    return page


def write_report(archive: Archive, output: Path, refresh: float | None = None) -> None:
    """Write the report atomically, so a browser reloading it never reads half a file."""
    data = report_data(archive)
    text = render_html(data, refresh)
    output.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{output.name}-", dir=output.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, output)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def watch_report(
    run_dir: Path,
    output: Path,
    every: float,
    on_write: Callable[[str], None],
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Rewrite the report every `every` seconds while the run is live (the page reloads itself), then once more."""
    try:
        while True:
            with Archive(run_dir, readonly=True) as archive:
                # A page written while the run is live reloads itself; the loop ends only after a final one.
                state = run_status(archive).state
                live = state in (RUNNING, STOPPING, NEW)
                write_report(archive, output, refresh=every if live else None)
            if not live:
                on_write(f"the run is {state}; wrote the final report")
                return
            on_write(f"{time.strftime('%H:%M:%S')} wrote {output} (run {state}); next in {every:g}s, Ctrl-C stops")
            sleep(every)
    except KeyboardInterrupt:
        on_write("stopped watching")
