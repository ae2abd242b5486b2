"""The HTML report in a real headless browser: Debian's chromium, driven by Playwright."""

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from story_world import HOSTILE_FAILURE, HOSTILE_TASKS, make_story_run

from hgm.archive import Archive
from hgm.htmlreport import write_report
from hgm.report import summarize

pytestmark = pytest.mark.browser
READY = 120_000  # ms; the page is ready within seconds, CI machines can be ten times slower


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.fail("the report's browser tests need Debian's chromium: apt-get install chromium", pytrace=False)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium)
        try:
            yield browser
        finally:
            browser.close()


class Page:
    """A page that records console errors, uncaught exceptions and every URL it asks for."""

    def __init__(self, browser: Any, report: Path) -> None:
        self.problems: list[str] = []
        self.requests: list[str] = []
        self.page = browser.new_page(viewport={"width": 1500, "height": 1000})
        self.page.on("console", lambda m: self.problems.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.problems.append(str(e)))
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.goto(report.as_uri())
        self.page.wait_for_selector("body[data-ready='1']", timeout=READY)

    def tree_ids(self) -> list[int]:
        return self.page.evaluate("() => document.getElementById('tree').data.slice(1, 4).flatMap(t => t.customdata)")

    def rendered_points(self) -> list[int]:
        traces = "document.querySelectorAll('#tree .scatterlayer .trace')"
        return self.page.evaluate(f"() => Array.from({traces}, t => t.querySelectorAll('path.point').length)")

    def click_node(self, node: int) -> None:
        """Click where the node is drawn, as a user would."""
        self.page.locator("#tree").scroll_into_view_if_needed()
        x, y = self.page.evaluate(
            """(id) => { const gd = document.getElementById('tree'), size = gd._fullLayout._size;
                const box = gd.getBoundingClientRect();
                for (const t of gd.data.slice(1, 4)) {
                  const i = t.customdata.indexOf(id);
                  if (i >= 0) return [box.left + size.l + gd._fullLayout.xaxis.l2p(t.x[i]),
                                      box.top + size.t + gd._fullLayout.yaxis.l2p(t.y[i])];
                } }""",
            node,
        )
        # Plotly reads two clicks less than 300 ms apart (its doubleClickDelay) as a double-click, which fits the
        # view instead of selecting: pace clicks as a person would.
        self.page.wait_for_timeout(400)
        self.page.mouse.click(x, y)
        self.page.wait_for_function(
            "(id) => document.querySelector('#details h2')?.textContent.startsWith(`node ${id}`)",
            arg=node,
            timeout=READY,
        )

    def details(self) -> str:
        return self.page.inner_text("#details")


def _report(run: Path, out: Path) -> list[int]:
    with Archive(run) as archive:
        write_report(archive, out)
        return [n.id for n in summarize(archive)]


def test_report_opens_offline_shows_every_node_and_a_click_shows_the_diagnosis(browser: Any, tmp_path: Path):
    run = make_story_run(tmp_path / "run", max_evals=60)
    ids = _report(run, tmp_path / "report.html")
    page = Page(browser, tmp_path / "report.html")
    assert page.problems == []
    assert all(url.startswith("file:") or url.startswith("data:") for url in page.requests), page.requests
    assert sorted(page.tree_ids()) == ids
    # Drawn, not only held: one marker per node in the node traces, plus the best-belief star.
    assert sum(page.rendered_points()) == len(ids) + 1
    page.click_node(5)
    details = page.details()
    assert "failure\nthe agent gave up on task 5" in details
    assert "proposal\nRaise VERSION to 5 so that the agent tries harder." in details
    assert "self-modification" in details and "+VERSION = 5" in details
    page.click_node(4)
    assert "why it failed" in page.details().lower() and "the child deleted its tests" in page.details()
    page.page.select_option("#colour", "cmp")
    assert page.page.evaluate("document.getElementById('tree').data[3].marker.colorbar.title.text") == (
        "clade estimate (CMP)"
    )
    screenshot = tmp_path / "report.png"
    page.page.screenshot(path=str(screenshot), full_page=True)
    assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert page.problems == []


def test_agent_text_shows_as_text_and_runs_nothing(browser: Any, tmp_path: Path):
    run = make_story_run(tmp_path / "hostile", hostile=True)
    ids = _report(run, tmp_path / "report.html")
    page = Page(browser, tmp_path / "report.html")
    assert sorted(page.tree_ids()) == ids
    page.click_node(1)
    page.click_node(4)
    page.page.locator("#details button.link").first.click()  # to the parent, and its evaluations
    page.page.hover("#matrix")
    assert page.page.evaluate("window.__pwned") is None
    assert page.page.evaluate("document.querySelectorAll('img, iframe, object, embed').length") == 0
    assert page.page.evaluate("document.scripts.length") == 3
    page.click_node(1)
    details = page.details()
    assert HOSTILE_FAILURE in details
    assert "</script><script>window.__pwned='diff'</script>" in details
    labels = page.page.text_content("#matrix") or ""
    assert HOSTILE_TASKS[0][:27] + "…" in labels  # long names are shortened on the axis, in full on hover
    page.click_node(4)
    assert "<svg onload=" in page.details()
    assert page.page.evaluate("window.__pwned") is None
    assert page.problems == []
    page.page.screenshot(path=str(tmp_path / "hostile.png"), full_page=True)
