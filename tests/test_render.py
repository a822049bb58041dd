"""The written report: golden Markdown and findings, downloads, escaping, failed cells,
and each workload's scaling chart."""

# The findings and charts print multiplication signs for their readers; the tests quote them.
# ruff: noqa: RUF001

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from harness.report.build import Report, build_report
from harness.report.charts import scaling_charts
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
                 "values.parquet", "decisions.csv"):  # fmt: skip
        assert (quick_report / name).is_file(), name
    links = re.findall(r'href="([^"#]+)"', page)
    for link in links:
        assert (quick_report / link.replace("%2B", "+")).is_file(), link
    assert {"summary.csv", "values.parquet", "pyperf/3.14t%2Bgil.json"} <= set(links)


def test_decisions_csv_holds_every_decision_the_findings_count_and_every_undecided_one(
    quick_report: Path,
) -> None:
    """decisions.csv is pinned; its decided rows are the decisions the findings count, and
    its undecided rows the undecided findings (one each, in the fixture)."""
    text = (quick_report / "decisions.csv").read_text()
    assert_golden("report-decisions.csv", text)
    table = pd.read_csv(quick_report / "decisions.csv")
    summary = (quick_report / "summary.md").read_text()
    (made,) = re.findall(r"the findings above rest on (\d+) decisions", summary)
    assert int(made) == int((table["decision"] != "undecided").sum()) > 0
    undecided = re.search(r"## Undecided \((\d+)\)", summary)
    assert undecided is not None
    assert int(undecided.group(1)) == int((table["decision"] == "undecided").sum()) > 0


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
    """values.parquet has one row per value, the same as the run's tidy table, and its
    cell's instruction count beside it (none here: the run counted nothing)."""
    parquet = pd.read_parquet(quick_report / "values.parquet")
    expected = load_run(quick_report).values
    counts = parquet[["instructions", "instructions_cv"]]
    pd.testing.assert_frame_equal(parquet.drop(columns=counts.columns), expected)
    assert counts.isna().all().all()


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


QuickCharts = tuple[Report, dict[str, dict[str, Any]]]
QUICK_MODELS = ["serial", "threads", "processes", "subinterpreters", "asyncio"]
QUICK_IMPLS = ["3.14", "3.14t", "3.14t+gil", "pypy3.9", "jython2.7"]  # the ones that ran


@pytest.fixture(scope="module")
def quick_charts() -> QuickCharts:
    """The quick fixture's report and its scaling figures, read back from the page's JSON:
    one per workload, so that no test over them checks none."""
    report = build_report(load_run(QUICK))
    figures = {c["workload"]: json.loads(c["json"]) for c in scaling_charts(report)}
    assert set(figures) == set(report.summary["workload"]) and figures
    return report, figures


def drawn(figure: dict[str, Any]) -> list[dict[str, Any]]:
    """The traces that draw something: not the legend's own entries."""
    return [t for t in figure["data"] if t["x"] != [None]]


def model_lines(figure: dict[str, Any]) -> list[dict[str, Any]]:
    return [t for t in drawn(figure) if t.get("mode") == "lines+markers"]


def panels(figure: dict[str, Any]) -> dict[str, str]:
    """Each panel's x axis and the implementation its lines belong to, in drawing order."""
    found: dict[str, set[str]] = {}
    for trace in model_lines(figure):
        found.setdefault(trace.get("xaxis", "x"), set()).add(trace["name"].rsplit(" ", 1)[0])
    assert all(len(impls) == 1 for impls in found.values()), found
    return {axis: impls.pop() for axis, impls in found.items()}


def test_every_models_line_starts_at_its_serial_baseline_on_one_worker(
    quick_charts: QuickCharts,
) -> None:
    """Each model's line begins at its implementation's serial cell on 1 worker (speedup 1),
    joined to 2."""
    report, figures = quick_charts
    summary = report.summary
    assert list(figures) == ["hash_sha256", "io_sleep", "nbody"]
    for workload, figure in figures.items():
        ok = summary[(summary["workload"] == workload) & (summary["status"] == "ok")]
        lines = model_lines(figure)
        assert len(lines) == ok.groupby(["impl", "model"]).ngroups  # 21, 21 and 21
        for line in lines:
            model = line["name"].rsplit(" ", 1)[1]
            assert line["x"] == ([1] if model == "serial" else [1, 2]), line["name"]
            assert line["y"][0] == 1.0, line["name"]
            assert line["text"][0].split("</b>")[0].endswith(" serial")


def test_each_panel_has_one_ideal_line_where_the_speedup_equals_the_workers(
    quick_charts: QuickCharts,
) -> None:
    """Every panel draws "ideal" once, dotted grey, at speedup W on W workers, on one y scale."""
    _, figures = quick_charts
    checked = 0
    for figure in figures.values():
        ideals = [t for t in drawn(figure) if t["name"] == "ideal"]
        owners = panels(figure)
        assert sorted(t.get("xaxis", "x") for t in ideals) == sorted(owners)
        checked += len(ideals)
        for ideal in ideals:
            assert ideal["x"] == [1, 2]
            assert ideal["y"] == [1.0, 2.0]
            colour = ideal["line"]["color"]
            assert ideal["line"]["dash"] == "dot" and colour[1:3] == colour[3:5] == colour[5:7]
        layout = figure["layout"]
        others = [layout["yaxis" + axis[1:]] for axis in owners if axis != "x"]
        assert len(others) == len(owners) - 1 and all(y["matches"] == "y" for y in others)
        assert layout["yaxis"]["title"]["text"] == "speedup (×)"
    assert checked == len(figures) * len(QUICK_IMPLS)  # a panel per implementation that ran


def test_each_implementation_has_its_own_panel_in_its_colour(quick_charts: QuickCharts) -> None:
    """One panel per implementation that ran, titled with it; its lines and bands in its colour."""
    report, figures = quick_charts
    for figure in figures.values():
        owners = panels(figure)
        assert list(owners.values()) == QUICK_IMPLS
        layout = figure["layout"]
        axes = [layout["xaxis" + axis[1:]] for axis in owners]
        spans = sorted((x["domain"], layout["yaxis" + x["anchor"][1:]]["domain"]) for x in axes)
        assert len({repr(s) for s in spans}) == len(QUICK_IMPLS)  # no two panels coincide
        titles = [a["text"] for a in layout["annotations"]]
        assert [t.rsplit(" ", 1)[-1] for t in titles] == QUICK_IMPLS
        for trace in drawn(figure):
            if trace["name"] == "ideal":
                continue
            impl = owners[trace.get("xaxis", "x")]
            colour = report.colours[impl]
            assert trace["name"].startswith(impl + " ")
            if "fill" in trace:
                assert trace["fillcolor"].startswith("rgba(" + ",".join(
                    str(int(colour[i : i + 2], 16)) for i in (1, 3, 5)))  # fmt: skip
            else:
                assert trace["line"]["color"] == colour


def test_the_legend_lists_each_model_once_then_ideal(quick_charts: QuickCharts) -> None:
    """The legend names the models, not implementation x model, and "ideal" once."""
    _, figures = quick_charts
    for figure in figures.values():
        shown = [t["name"] for t in figure["data"] if t.get("showlegend", True)]
        assert shown == [*QUICK_MODELS, "ideal"]
        groups = {t["legendgroup"] for t in figure["data"]}
        assert groups == {*QUICK_MODELS, "ideal"}  # a click hides a model in every panel


def test_noisy_cells_keep_their_open_markers_and_every_line_its_band(
    quick_charts: QuickCharts,
) -> None:
    """A flagged cell is hollow wherever it is drawn; each joined line has its 95% band."""
    report, figures = quick_charts
    lines = {t["name"]: t for t in model_lines(figures["nbody"])}
    flags = report.summary.set_index(["impl", "workload", "model", "workers"])["flag"]
    checked, hollow = 0, 0
    for name, line in lines.items():
        impl, model = name.rsplit(" ", 1)
        for workers, symbol in zip(line["x"], line["marker"]["symbol"], strict=True):
            # every line starts from its implementation's serial cell on one worker
            cell = (impl, "nbody", model if workers > 1 else "serial", workers)
            assert symbol.endswith("-open") == bool(flags[cell]), (name, workers)
            checked, hollow = checked + 1, hollow + symbol.endswith("-open")
    assert checked == sum(len(t["x"]) for t in lines.values()) > 10 and 0 < hollow < checked
    bands = {t["name"]: t for t in drawn(figures["nbody"]) if t.get("fill") == "toself"}
    assert {n for n, t in lines.items() if len(t["x"]) > 1} <= set(bands)
    assert bands["3.14 threads"]["x"] == [1, 2, 2, 1]


def two_workload_run(failed_on_spin: bool) -> Report:
    """3.14 and 3.14t on loop and spin, every cell precise; 3.14t's spin cells crash if
    ``failed_on_spin``."""
    cells = {
        **scaling_cells("3.14", "loop", one=0.100, threads2=0.200, processes2=0.1026),
        **scaling_cells("3.14", "spin", one=0.050, threads2=0.100, processes2=0.0513),
        **scaling_cells("3.14t", "loop", one=0.110, threads2=0.1158, processes2=0.1158),
    }
    spin = scaling_cells("3.14t", "spin", one=0.055, threads2=0.0579, processes2=0.0579)
    failed = {cell: ("crashed", "Segmentation fault") for cell in spin}
    impls = [impl_record("3.14", 1, False), impl_record("3.14t", 0, True)]
    if not failed_on_spin:
        cells, failed = {**cells, **spin}, {}
    return build_report(make_run(cells, impls, {"loop": "cpu", "spin": "cpu"}, failed=failed))


def headline_of(report: Report) -> str:
    (text,) = [f.text for f in report.findings if f.topic == "headline" and f.stated]
    return text


def test_the_headline_states_the_workloads_behind_each_implementations_mean() -> None:
    """An implementation that completed fewer workloads is quoted over its own count, with
    those it lacks named; one that completed all is quoted over all of them."""
    text = headline_of(two_workload_run(failed_on_spin=True))
    assert "3.14 on one worker (a geometric mean over the workloads each completed), " in text
    assert re.search(r"; 3\.14t \d\.\d\d× over 1 of 2 workloads, without spin \(95% CI ", text)
    assert re.search(r": 3\.14 \d\.\d\d× over 2 workloads \(95% CI ", text)
    complete = headline_of(two_workload_run(failed_on_spin=False))
    assert re.search(r"; 3\.14t \d\.\d\d× over 2 workloads \(95% CI ", complete)
    assert "without" not in complete and " of 2 " not in complete


def test_a_headline_over_one_workload_names_it_instead_of_a_mean() -> None:
    """With a single workload there is no mean: the sentence names the workload."""
    cells = scaling_cells("3.14", "loop", one=0.1, threads2=0.2, processes2=0.1026)
    report = build_report(make_run(cells, [impl_record("3.14", 1, False)], {"loop": "cpu"}))
    assert re.fullmatch(
        r"With the best model for each workload at 2 workers, against 3\.14 on one worker "
        r"\(on loop\), these do more work than it: 3\.14 \d\.\d\d× \(95% CI [^)]*\)\.",
        headline_of(report),
    )
