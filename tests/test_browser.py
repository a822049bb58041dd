"""The report in a real browser: Debian's headless Chromium, driven by playwright.

Never a downloaded browser build: ``nox -s tests`` installs Debian's ``chromium`` with apt,
so a missing /usr/bin/chromium fails these tests instead of skipping them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pytest
from playwright.sync_api import Browser, Page, Request, Route, sync_playwright

from harness.publish import Published, publish
from tests.helpers import HOSTILE_CATEGORY, HOSTILE_WORKLOAD

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update"]  # fmt: skip
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
LOCAL_SCHEMES = ("file:", "data:", "blob:", "about:")
DRAWN_MS = 20_000  # every chart of the quick fixture draws in about a second here
# Marks a plotly chart draws: lines and points of a scatter, the image of a heatmap.
MARKS = "path.js-line, path.point, g.hm image"

pytestmark = pytest.mark.browser


@dataclass
class Visit:
    """What a page did while it loaded: requests, console errors, dialogs."""

    page: Page
    requests: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)

    @property
    def remote(self) -> list[str]:
        return [url for url in self.requests if not url.startswith(LOCAL_SCHEMES)]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's Chromium, headless; fails when it isn't installed."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run 'apt-get install -y chromium' (nox -s tests does)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=ARGS
        )
        yield launched
        launched.close()


def visit(browser: Browser, path: Path, width: int = 1280) -> Visit:
    """Open ``path`` from disk; block (and record) anything that would leave the machine."""
    page = browser.new_page(viewport={"width": width, "height": 900})
    seen = Visit(page)

    def on_route(route: Route, request: Request) -> None:
        seen.requests.append(request.url)
        if request.url.startswith(LOCAL_SCHEMES):
            route.continue_()
        else:
            route.abort()

    page.route("**/*", on_route)
    page.on("console", lambda m: seen.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: seen.errors.append(str(e)))
    page.on("dialog", lambda d: (seen.dialogs.append(d.message), d.dismiss()))
    page.goto(path.as_uri())
    page.wait_for_function(
        "() => [...document.querySelectorAll('.chart')].every(c => c.dataset.drawn === 'true')",
        timeout=DRAWN_MS,
    )
    return seen


def marks_per_chart(page: Page) -> dict[str, int]:
    return dict(
        page.evaluate(
            "sel => [...document.querySelectorAll('.chart')]"
            ".map(c => [c.id, c.querySelectorAll(sel).length])",
            MARKS,
        )
    )


def figures_in(page: Page) -> int:
    """The figures the page's HTML carries, each to be drawn into a chart."""
    return page.locator('script[type="application/json"].figure').count()


def overview_charts(run_dir: Path) -> int:
    """The heatmap and one scaling chart per workload of the run."""
    return 1 + pd.read_csv(run_dir / "summary.csv")["workload"].nunique()


def test_overview_draws_every_chart_offline_without_errors(
    browser: Browser, quick_report: Path
) -> None:
    """The overview draws the heatmap and each scaling chart, logs no error, fetches nothing."""
    seen = visit(browser, quick_report / "index.html")
    marks = marks_per_chart(seen.page)
    assert len(marks) == overview_charts(quick_report) == figures_in(seen.page)
    assert all(count > 0 for count in marks.values()), marks
    assert seen.errors == []
    assert seen.remote == []
    assert any(url.endswith("assets/plotly.min.js") for url in seen.requests)
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "report-overview.png"
    seen.page.screenshot(path=str(shot), full_page=True)
    print(f"\nscreenshot: {shot}")
    seen.page.close()


def test_overview_fits_a_narrow_window(browser: Browser, quick_report: Path) -> None:
    """At 420 px the page doesn't scroll sideways: wide tables scroll inside their boxes."""
    seen = visit(browser, quick_report / "index.html", width=420)
    overflow = seen.page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0
    marks = marks_per_chart(seen.page)
    assert len(marks) == overview_charts(quick_report)
    assert all(count > 0 for count in marks.values()), marks
    shot = ARTIFACTS / "report-narrow.png"
    ARTIFACTS.mkdir(exist_ok=True)
    seen.page.screenshot(path=str(shot), full_page=True)
    print(f"\nscreenshot: {shot}")
    seen.page.close()


@pytest.mark.parametrize("page_name", ["results.html", "impls.html"])
def test_other_pages_load_offline_without_errors(
    browser: Browser, quick_report: Path, page_name: str
) -> None:
    """The results and implementation pages log no error and fetch nothing remote."""
    seen = visit(browser, quick_report / page_name)
    assert seen.errors == []
    assert seen.remote == []
    seen.page.close()


@pytest.fixture(scope="module")
def merged_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The frozen quick run cut into 3 shards, merged without shard 2, and published."""
    from harness.merge import merge
    from harness.publish import publish
    from tests.helpers import QUICK, split_run

    root = tmp_path_factory.mktemp("merged-site")
    shards = split_run(QUICK, 3, root / "shards")
    merged = merge([shards[0], shards[2]], root / "merged")
    published = publish(merged, root / "site")
    return published.site / "runs" / published.history.newest.id  # the run's own report


@pytest.mark.parametrize("page_name", ["index.html", "results.html", "impls.html"])
def test_a_published_merged_site_loads_offline_and_shows_its_machines(
    browser: Browser, merged_site: Path, page_name: str
) -> None:
    """The site of a merged nightly: no error, nothing remote, a missing shard said plainly."""
    seen = visit(browser, merged_site / page_name)
    assert seen.errors == []
    assert seen.remote == []
    text = seen.page.inner_text("body")
    assert "shard 2/3" in text
    if page_name == "impls.html":
        rows = seen.page.locator("#shards-table tr").count()
        assert rows == 4  # a header and one row per shard, the missing one included
    seen.page.close()


@pytest.fixture(scope="module")
def history_site(tmp_path_factory: pytest.TempPathFactory) -> Published:
    """The frozen nightlies' history, published."""
    from tests.helpers import DATA

    return publish(DATA / "history", tmp_path_factory.mktemp("history-site") / "site")


def history_charts(published: Published) -> dict[str, int]:
    """The fewest charts each page of the history site must draw, from its points: the
    newest run's scaling curve per category; per category a speedup trend, per workload a
    serial throughput trend, the overhead's, the CPU speed's; the changes page lists."""
    points = published.history.points
    speedup = points[points["metric"] == "speedup"]
    newest = speedup[speedup["run"] == published.history.newest.id]
    trends = (speedup["category"].nunique()
              + points.loc[points["metric"] == "throughput", "workload"].nunique()
              + int((points["metric"] == "overhead").any()) + 1)  # fmt: skip
    return {"index.html": newest["category"].nunique(), "trends.html": trends,
            "changes.html": 0}  # fmt: skip


@pytest.mark.parametrize("page_name", ["index.html", "trends.html", "changes.html"])
def test_the_history_site_draws_every_chart_offline_without_errors(
    browser: Browser, history_site: Published, page_name: str
) -> None:
    """Runs, trends and changes: no console error, nothing remote, every chart drawn."""
    seen = visit(browser, history_site.site / page_name)
    assert seen.errors == []
    assert seen.remote == []
    drawn = marks_per_chart(seen.page)
    assert all(count > 0 for count in drawn.values()), drawn
    assert len(drawn) == figures_in(seen.page) >= history_charts(history_site)[page_name]
    seen.page.screenshot(path=str(ARTIFACTS / f"history-{page_name}.png"), full_page=True)
    seen.page.close()


def test_a_run_report_on_the_history_site_uses_the_sites_one_plotly(
    browser: Browser, history_site: Published
) -> None:
    """runs/<id>/index.html draws its charts from ../../assets, offline, without errors."""
    (page,) = sorted((history_site.site / "runs").glob("*/index.html"))[-1:]
    seen = visit(browser, page)
    assert seen.errors == [] and seen.remote == []
    marks = marks_per_chart(seen.page)
    assert len(marks) == overview_charts(page.parent) == figures_in(seen.page)
    assert all(count > 0 for count in marks.values()), marks
    seen.page.close()


@pytest.mark.parametrize("page_name", ["index.html", "results.html"])
def test_hostile_names_show_as_text_and_run_nothing(
    browser: Browser, hostile_report: Path, page_name: str
) -> None:
    """A workload named <script>alert(1)</script> is shown as text; no dialog or request fires."""
    seen = visit(browser, hostile_report / page_name)
    text = seen.page.inner_text("body")
    assert HOSTILE_WORKLOAD in text
    assert seen.dialogs == []
    assert seen.errors == []
    assert seen.remote == []
    assert seen.page.locator("img").count() == 0
    if page_name == "index.html":
        titles = seen.page.locator(".gtitle").all_text_contents()
        assert any(HOSTILE_WORKLOAD in t and HOSTILE_CATEGORY in t for t in titles), titles
    seen.page.close()


ANSWER_ROWS = ("() => [...document.querySelectorAll('#answer-table tr')]"
               ".map(r => [...r.cells].map(c => c.innerText.trim()))")  # fmt: skip


def test_the_overview_opens_on_the_answer_table(browser: Browser, quick_report: Path) -> None:
    """index.html's first table is the answer, inside the first screen and above the
    findings, and it shows the cells every other place prints (Report.answer)."""
    from harness.report.build import build_report
    from harness.results import load_run

    seen = visit(browser, quick_report / "index.html")
    page = seen.page
    assert page.evaluate("() => document.querySelector('main table').id") == "answer-table"
    box, findings = (page.locator(s).bounding_box() for s in ("#answer-table", "#findings"))
    assert box is not None and findings is not None
    assert 0 < box["y"] < 900 / 3 and box["y"] + box["height"] < findings["y"]
    assert page.evaluate(ANSWER_ROWS) == build_report(load_run(quick_report)).answer.texts()
    assert seen.errors == [] and seen.remote == []
    page.close()


def test_the_published_site_opens_on_the_newest_runs_answer(
    browser: Browser, tmp_path: Path
) -> None:
    """The site's index shows the newest run's answer table first, the runs index below it,
    and its details link opens that run's caveats."""
    import shutil

    from tests.helpers import QUICK

    shutil.copytree(QUICK, tmp_path / "run")
    published = publish(tmp_path / "run", tmp_path / "site")
    seen = visit(browser, published.site / "index.html")
    page = seen.page
    assert page.evaluate("() => document.querySelector('main table').id") == "answer-table"
    box, runs = (page.locator(s).bounding_box() for s in ("#answer-table", "#runs"))
    assert box is not None and runs is not None and 0 < box["y"] < 900 / 2 < runs["y"]
    own = visit(browser, published.site / "runs" / published.history.newest.id / "index.html")
    assert page.evaluate(ANSWER_ROWS) == own.page.evaluate(ANSWER_ROWS) != []
    page.click("#answer .caveats a")
    page.locator("#caveats").wait_for(state="visible")
    assert page.url.endswith(f"/runs/{published.history.newest.id}/index.html#caveats")
    assert seen.errors == [] and seen.remote == []
    own.page.close()
    page.close()
