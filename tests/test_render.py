"""The written report: golden Markdown and findings, downloads, escaping, failed cells."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from harness.report.findings import format_findings_text
from harness.report.markdown import format_md
from harness.results import load_run
from tests.helpers import (
    JITTER,
    QUICK,
    assert_golden,
    impl_record,
    make_run,
    render,
    scaling_cells,
    units,
)


def test_summary_markdown_matches_golden(quick_report: Path) -> None:
    """summary.md (findings, headline tables, every cell) is pinned for the quick fixture."""
    assert_golden("report-summary.md", (quick_report / "summary.md").read_text())


def test_findings_sentences_match_golden(tmp_path: Path) -> None:
    """The findings generated from the quick fixture are pinned, stated and withheld."""
    report = render(load_run(QUICK), tmp_path)
    assert_golden("report-findings.txt", format_findings_text(report.findings))


def test_site_and_downloads_are_written(quick_report: Path) -> None:
    """Three pages, local assets and every download the overview links to are on disk."""
    page = (quick_report / "index.html").read_text()
    for name in ("index.html", "results.html", "impls.html", "assets/plotly.min.js",
                 "assets/report.js", "assets/report.css", "summary.csv", "summary.md",
                 "values.parquet"):  # fmt: skip
        assert (quick_report / name).is_file(), name
    links = re.findall(r'href="([^"#]+)"', page)
    for link in links:
        assert (quick_report / link.replace("%2B", "+")).is_file(), link
    assert {"summary.csv", "values.parquet", "raw/3.14t%2Bgil.json"} <= set(links)


def test_a_superlinear_speedup_is_marked_with_its_note_on_the_results_page(
    tmp_path: Path,
) -> None:
    """Paired units 30% slower than the workers' own read 2.60x on 2 workers, marked ⚠."""
    cells = scaling_cells("3.14", "loop", one=0.1, threads2=0.2, processes2=0.1)
    cell = ("3.14", "loop", "processes", 2)
    run = make_run(cells, [impl_record("3.14", 1, False)], {"loop": "cpu"},
                   paired=units(cell, [0.13 * j for j in JITTER]), tokens=[cell])  # fmt: skip
    render(run, tmp_path)
    page = (tmp_path / "results.html").read_text()
    marked = re.findall(r'<td class="num flag" title="([^"]*)">([^<]*)</td>', page)
    assert [shown for note, shown in marked if "superlinear" in note] == ["2.60\u00d7† ⚠"]


def test_values_parquet_holds_every_measured_value(quick_report: Path) -> None:
    """values.parquet has one row per value, the same as the run's tidy table."""
    parquet = pd.read_parquet(quick_report / "values.parquet")
    expected = load_run(quick_report).values
    pd.testing.assert_frame_equal(parquet, expected)


def test_no_page_loads_anything_from_the_network(quick_report: Path) -> None:
    """Every script and stylesheet is a relative path: the site works offline."""
    for name in ("index.html", "results.html", "impls.html"):
        page = (quick_report / name).read_text()
        sources = re.findall(r'(?:src|href)="([^"]+)"', page)
        assert sources, name
        assert not [s for s in sources if re.match(r"[a-z]+:|//", s)], name
    assert "https://" not in (quick_report / "index.html").read_text()


def test_hostile_names_are_escaped_in_every_page(hostile_report: Path) -> None:
    """Tags in workload or category names appear only escaped, in the HTML and in the JSON."""
    for name in ("index.html", "results.html", "impls.html"):
        page = (hostile_report / name).read_text()
        assert "<script>alert" not in page, name
        assert "<img" not in page, name
    index = (hostile_report / "index.html").read_text()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in index
    blocks = re.findall(r'<script type="application/json"[^>]*>(.*?)</script>', index, re.S)
    assert len(blocks) == 4 and "alert(1)" in blocks[-1]
    assert not [b for b in blocks if "<" in b or ">" in b]  # can't end its element early


def test_hostile_names_are_escaped_in_the_markdown(hostile_report: Path) -> None:
    """summary.md shows tag names as text: no raw tag reaches a PR comment."""
    text = (hostile_report / "summary.md").read_text()
    assert "<script" not in text and "<img" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("alloc_trees", "alloc_trees"),
        ("a|b", "a\\|b"),
        ("*x* _y_", "\\*x\\* \\_y\\_"),
        ("[link](javascript:x)", "\\[link\\](javascript:x)"),
        ("<b>&", "&lt;b&gt;&amp;"),
        ("two\nlines", "two lines"),
    ],
)
def test_markdown_escaping_keeps_text_literal(raw: str, shown: str) -> None:
    """Markup characters from result files are escaped; word-internal underscores are kept."""
    assert format_md(raw) == shown


def test_failed_and_unavailable_cells_are_shown_with_their_reason(tmp_path: Path) -> None:
    """A crash is listed as a failure with its reason; an absent implementation is neutral."""
    cells = scaling_cells("3.14", "loop", one=0.1, threads2=0.2, processes2=0.1026)
    impls = [
        impl_record("3.14", 1, False),
        {**impl_record("pypy3", 1, False, family="pypy"), "unavailable": "not installed"},
    ]
    run = make_run(
        cells,
        impls,
        {"loop": "cpu"},
        failed={("3.14", "loop", "threads", 4): ("crashed", "Segmentation fault")},
    )
    summary = render(run, tmp_path).summary
    statuses = summary.groupby("status").size().to_dict()
    # the absent implementation gets a row for every cell the run attempted, the crash too
    assert statuses == {"ok": 6, "crashed": 1, "unavailable": 7}
    index = (tmp_path / "index.html").read_text()
    assert "loop/threads/4: crashed: Segmentation fault</li>" in index
    assert re.search(r'<li class="status-na">[^\n]*pypy3 unavailable: not installed</li>', index)
    markdown = (tmp_path / "summary.md").read_text()
    assert "## Failures\n\n- 3.14 loop/threads/4: crashed: Segmentation fault\n" in markdown
    assert "unavailable" not in markdown.split("## Failures")[1].split("##")[0]
