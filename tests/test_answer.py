"""The answer table: one computation, printed the same at the end of a run, at the top of
index.html, at the top of summary.md and on the published site; each entry a decision."""

from __future__ import annotations

import html
import io
import json
import math
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest
from rich.console import Console

from harness import store
from harness.compare.answer import _payoff, compare_answer
from harness.compare.cells import summarize
from harness.compare.verdicts import compare_run
from harness.publish import publish
from harness.report.answer import format_answer_json, load_answer
from harness.report.build import build_report
from harness.report.markdown import format_md
from harness.report.terminal import render_answer
from harness.results import load_run
from tests.helpers import QUICK, assert_golden, impl_record, make_run, scaling_cells

WIDE = 220  # columns: wide enough that no cell of the quick fixture's table wraps


class _Cells(HTMLParser):
    """The rows of text of the first ``<table id="answer-table">``."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self.inside = self.done = False
        self.cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table" and ("id", "answer-table") in attrs and not self.done:
            self.inside = True
        elif self.inside and tag == "tr":
            self.rows.append([])
        elif self.inside and tag in ("td", "th"):
            self.cell = []

    def handle_endtag(self, tag: str) -> None:
        if self.inside and tag in ("td", "th") and self.cell is not None:
            self.rows[-1].append("".join(self.cell).strip())
            self.cell = None
        elif self.inside and tag == "table":
            self.inside, self.done = False, True

    def handle_data(self, data: str) -> None:
        if self.cell is not None:
            self.cell.append(data)


def html_rows(page: str) -> list[list[str]]:
    parser = _Cells()
    parser.feed(page)
    return parser.rows


def markdown_rows(text: str) -> list[list[str]]:
    """The first Markdown table's rows, its separator line left out, escapes undone."""
    first: list[str] = []
    for line in text.splitlines():
        if line.startswith("|"):
            first.append(line)
        elif first:
            break
    cells = [[re.sub(r"\\(.)", r"\1", html.unescape(c.strip())) for c in line.strip("|").split("|")]
             for line in first]  # fmt: skip
    return [row for row in cells if not all(set(c) <= set(":-") for c in row)]


def terminal_text(report_dir: Path) -> str:
    """The answer as the terminal prints it, without colour, wide enough not to wrap."""
    out = Console(file=io.StringIO(), width=WIDE, color_system=None, highlight=False)
    render_answer(build_report(load_run(report_dir)).answer, "DETAILS", out)
    return str(out.file.getvalue())  # type: ignore[attr-defined]


def terminal_rows(text: str) -> list[list[str]]:
    """The table's rows as rich draws them: header lines with ┃, body lines with │."""
    rows = []
    for line in text.splitlines():
        for bar in ("┃", "│"):
            if line.startswith(bar):
                rows.append([c.strip() for c in line.strip().strip(bar).split(bar)])
    return rows


def test_the_terminal_index_html_and_summary_md_show_one_answer_table(
    quick_report: Path,
) -> None:
    """The end of a run, the top of index.html and of summary.md print the same table,
    title, sentences and caveats: one computation (Report.answer) rendered three ways."""
    answer = build_report(load_run(quick_report)).answer
    expected = answer.texts()
    assert len(expected) == 16 and len(expected[0]) == 6  # 3 kinds of work x 5 impls
    terminal = terminal_text(quick_report)
    page = (quick_report / "index.html").read_text()
    summary = (quick_report / "summary.md").read_text()
    assert terminal_rows(terminal) == expected
    assert html_rows(page) == expected
    assert markdown_rows(summary) == expected
    for text in (answer.title, *answer.sentences, answer.caveats):
        assert text in " ".join(terminal.split())
        assert text in html.unescape(page)
        assert format_md(text) in summary
    # at the top: the answer is the first table of the page and the first section of the file
    assert page.index('id="answer-table"') < page.index("<table", page.index("</table>") - 1)
    assert page.find("<table") == page.find('<table class="answer" id="answer-table">')
    assert summary.splitlines()[2] == f"## {answer.title}"
    assert summary.index("## Caveats") > summary.index("## Findings")


def test_the_answer_in_the_terminal_matches_golden(quick_report: Path) -> None:
    """The quick fixture's answer, as the terminal prints it, is pinned."""
    assert_golden("answer-terminal.txt", terminal_text(quick_report))


def test_each_entry_is_a_decision_that_comparison_decisions_lists() -> None:
    """Every figure the answer states is a row of Comparison.decisions(), with its decision."""
    comparison = compare_run(summarize(load_run(QUICK)))
    listed = comparison.decisions()
    figures = {(round(r, 9), d) for r, d in zip(listed["ratio"], listed["decision"], strict=True)}
    entries = compare_answer(comparison).entries
    assert len(entries) == 33
    stated = [e for e in entries if not math.isnan(e.ratio)]
    assert len(stated) == len(entries)
    assert all((round(e.ratio, 9), e.decision) in figures for e in stated)
    assert {e.decision for e in entries} == {"gains", "loses", "equivalent", "undecided"}


def test_the_answer_is_given_at_the_cpu_count_not_an_oversubscribed_count() -> None:
    """Measured at 1, 2 and 4 workers on 2 CPUs, the answer and the models' comparison are
    at 2 workers, and the title says it is the CPU count."""
    cells = {}
    for impl in ("3.14", "3.14t"):
        cells.update(scaling_cells(impl, "loop", one=0.1, threads2=0.1, processes2=0.1))
        cells.update({(impl, "loop", m, 4): [0.2 * j for j in (1.0, 1.002, 0.998) * 3]
                      for m in ("threads", "processes")})  # fmt: skip
    impls = [impl_record("3.14", 1, False), impl_record("3.14t", 0, True)]
    comparison = compare_run(summarize(make_run(cells, impls, {"loop": "cpu"})))
    answer = compare_answer(comparison)
    assert comparison.workers == answer.workers == 2 and answer.cpus == 2
    text = build_report(make_run(cells, impls, {"loop": "cpu"})).answer
    assert text.title == "The answer at 2 workers, this machine's CPU count"
    (ours,) = [r for r in answer.rows if r.impl == "3.14t"]
    assert ours.payoff is not None and ours.cost is not None


def test_threads_pay_off_from_the_fewest_workers_from_which_every_count_gains() -> None:
    """Gains at 8 and 4 but not at 2: "from 4 workers"; at the answer's count only."""
    rows = [{"workers": n, "decision": d, "ratio": r, "ci_low": r * 0.9, "ci_high": r * 1.1,
             "rival": "processes"}
            for n, d, r in ((1, "loses", 0.5), (2, "undecided", 1.0), (4, "gains", 1.5),
                            (8, "gains", 2.0), (16, "loses", 0.8))]  # fmt: skip
    found = _payoff(rows, 8)
    assert (found.decision, found.workers, found.ratio) == ("gains", 4, 2.0)
    assert _payoff(rows, 16).decision == "loses"
    assert _payoff(rows, 3).decision == "undecided"  # nothing measured at 3


def test_answer_json_reads_back_and_refuses_a_version_it_does_not_know(
    quick_report: Path, tmp_path: Path
) -> None:
    """answer.json holds the report's answer; a newer format version is refused in one line."""
    answer = build_report(load_run(quick_report)).answer
    assert load_answer(quick_report / "answer.json") == answer
    assert format_answer_json(answer) == (quick_report / "answer.json").read_text()
    newer = tmp_path / "answer.json"
    newer.write_text(json.dumps({**json.loads(format_answer_json(answer)), "version": 99}))
    with pytest.raises(store.StoreError, match="version 99; this gilbench reads"):
        load_answer(newer)
    assert load_answer(tmp_path / "absent.json") is None


def test_the_published_site_opens_on_the_newest_runs_answer_table(tmp_path: Path) -> None:
    """The site's index shows the newest run's answer first, the same table as its report,
    and the runs index below it; a report that predates the answer says so."""
    run_dir = tmp_path / "run"
    shutil.copytree(QUICK, run_dir)
    published = publish(run_dir, tmp_path / "site")
    page = (published.site / "index.html").read_text()
    report = published.site / "runs" / published.history.newest.id / "index.html"
    assert html_rows(page) == html_rows(report.read_text()) != []
    assert page.index('id="answer-table"') < page.index('id="runs"')
    assert f'href="runs/{published.history.newest.id}/index.html#caveats"' in page
    from tests.helpers import DATA

    older = publish(DATA / "history", tmp_path / "older-site").site / "index.html"
    assert "predates the answer table" in older.read_text()


def test_the_sentences_say_each_decision_once_over_the_kinds_of_work_it_holds_for() -> None:
    """Two undecided kinds of work read "are undecided on A and B", once; a gain names its
    worker count; three sentences at most."""
    from harness.compare.answer import Answer, Entry, Row
    from harness.report.answer import format_answer

    def row(category: str, payoff: Entry, cost: Entry) -> Row:
        return Row(category, "3.14t", Entry("gains", 1.5, 1.4, 1.6, "threads", "processes"),
                   Entry("gains", 2.0, 1.9, 2.1), payoff, cost)  # fmt: skip

    open_ = Entry("undecided", 1.0, 0.5, 2.0)
    rows = (row("cpu", Entry("gains", 1.8, 1.7, 1.9, "processes", workers=2), open_),
            row("io", open_, Entry("equivalent", 1.0, 0.99, 1.01)),
            row("c-release", open_, open_))  # fmt: skip
    text = format_answer(Answer(4, 4, "3.14", "3.14t", "3.14", 0.05, rows))
    assert text.sentences == (
        "Against 3.14's best model at 4 workers, 3.14t's threads pay off on pure-Python CPU "
        "work from 2 workers and are undecided on I/O-bound work and C code that releases "
        "the GIL.",
        "On one thread, 3.14t takes the same time, within 5%, on I/O-bound work, against "
        "3.14; its cost is undecided on pure-Python CPU work and C code that releases the GIL.",
        "4 of 12 entries are undecided: a longer run would decide them ('gilbench show' "
        "lists what each needs).",
    )
    assert text.title == "The answer at 4 workers, this machine's CPU count"
