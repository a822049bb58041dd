"""The history and its site stay bounded: pages for the newest runs only, every run's
tables kept, nothing on the site linking to pages that are gone; site-bench measures it."""

from __future__ import annotations

import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from harness.history import archive
from harness.history.read import read_history
from harness.publish import publish, write_run_pages
from harness.report import sitebench
from tests.test_history import ATOM, NIGHTLIES, copy_run, regressed_history

SET = {"manifest.json", *(f"{name}.parquet" for name in (*archive.TABLES, "values"))}


def test_the_history_keeps_the_pages_of_its_newest_runs_and_the_tables_of_every_run(
    tmp_path: Path,
) -> None:
    """history add with keep_pages 2: the oldest of three runs loses its report/ and keeps
    its manifest and every table; the history reads as three runs."""
    history = tmp_path / "history"
    for day in ("2026-11-29", "2026-11-30", "2026-12-01"):
        run = copy_run(tmp_path, f"{day}T03:17:00+00:00")
        archive.add_run(run, history, write_run_pages, keep_raw=1, keep_pages=2)
    oldest, *newest = archive.entries(history)
    assert not oldest.has_pages and {p.name for p in oldest.folder.iterdir()} == SET
    assert all(e.has_pages and (e.folder / "report" / "index.html").is_file() for e in newest)
    found = read_history(history)
    assert [e.id for e in found.entries] == [e.id for e in (oldest, *newest)]
    assert set(found.points["run"]) == {e.id for e in found.entries}


def test_pages_are_pruned_whole_and_a_prune_cut_short_is_finished(tmp_path: Path) -> None:
    """A run's pages go in one rename: a folder left from a prune cut short is deleted by
    the next, and a run counts as paged only with its whole report/."""
    history = tmp_path / "history"
    shutil.copytree(NIGHTLIES, history)
    found = archive.entries(history)
    (found[-1].folder / ".report.pruned").mkdir()  # what a cut-off delete left behind
    archive.prune(history, keep_raw=1, keep_pages=3)
    assert [e.has_pages for e in archive.entries(history)] == [False] * 4 + [True] * 3
    assert list((history / "runs").glob("*/.report.pruned")) == []
    archive.prune(history, keep_raw=1, keep_pages=0)  # the newest always keeps its pages
    assert [e.has_pages for e in archive.entries(history)] == [False] * 6 + [True]


def _links(page: Path) -> list[str]:
    return re.findall(r'(?:href|src)="([^"]+)"', page.read_text())


def test_the_site_links_only_what_it_has(tmp_path: Path) -> None:
    """With the pages of the newest 2 of 18 nights kept, the site has those 2 runs' folders;
    every link of its pages and feed leads to a file it has or to a run's row in the index,
    and the index says which runs keep only their tables."""
    history = regressed_history(tmp_path)
    archive.prune(history, keep_raw=1, keep_pages=2)
    site = publish(history, tmp_path / "site").site
    found = read_history(history)
    assert found.changes  # some link to runs whose pages are gone
    assert sorted(p.name for p in (site / "runs").iterdir()) == [e.id for e in found.entries[-2:]]
    index = (site / "index.html").read_text()
    assert index.count("(tables in the history)") == len(found.entries) - 2
    assert "The newest 2 have pages of their own" in index
    feed = ET.parse(site / "changes.atom").getroot()
    hrefs = [link.get("href", "") for link in feed.iter(f"{ATOM}link") if link.get("rel") != "self"]
    checked = 0
    for page, links in [(site / "changes.atom", hrefs),
                        *[(p, _links(p)) for p in site.glob("*.html")]]:  # fmt: skip
        for link in links:
            if link.startswith(("http", "mailto:")) or not link:
                continue
            target, _, anchor = link.partition("#")
            assert (page.parent / target).is_file(), (page.name, link)
            if anchor:
                assert f'id="{anchor}"' in (page.parent / target).read_text(), (page.name, link)
            checked += 1
    assert checked > len(found.entries)
    assert any("#run-" in link for link in hrefs)


def test_site_bench_prints_the_site_before_and_with_the_bound(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Three nights, pages kept for one: a row for every night's pages and one for the
    bound, whose site carries one run's pages and is the smaller."""
    argv = ["--nights", "3", "--copies", "1", "--keep-pages", "1"]
    assert sitebench.main(argv) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("a night: ") and "105 cells, 3 workloads" in lines[0]
    rows = [line.split() for line in lines[2:]]
    assert [row[:3] for row in rows] == [["3", "every", "night"], ["3", "newest", "1"]]
    every, bounded = rows
    assert (every[5], bounded[5]) == ("3", "1")  # runs the site carries pages for
    assert float(bounded[4]) < float(every[4]) and float(bounded[3]) < float(every[3])


@pytest.mark.parametrize("argv", [["--nights", "0"], ["--copies", "x"],
                                  ["--run", "/nonexistent"]])  # fmt: skip
def test_site_bench_refuses_bad_input_in_one_line(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    """A bad flag: one line saying what to do, exit 2, before anything is built."""
    with pytest.raises(SystemExit) as exited:
        sitebench.main(argv)
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and err.startswith("site-bench: error: ")
