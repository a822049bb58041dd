"""The published site, rendered whole from a history read with its decisions
(history/read.py) and swapped in.

    SITE/index.html       the newest run's answer table (its report's answer.json), then
                          the runs, newest first, and the newest scaling curves over a
                          week's and a month's earlier ones
    SITE/trends.html      every followed series over the runs
    SITE/changes.html     the regressions and improvements decided; changes.json and
                          changes.atom too
    SITE/summary.md       the newest run's summary.md, then "Changes since the last
                          comparable run" (a job summary or PR comment)
    SITE/assets/          plotly, the CSS and the script: one copy for every page
    SITE/runs/<id>/       the own report of each run whose pages the history keeps (the
                          newest archive.KEEP_PAGES); the newest DOWNLOADS runs' with their
                          summary.csv, values.parquet and raw JSON (while kept). An older
                          run is a row of the index, points of the trends and its tables
                          in the history, and nothing links to pages it no longer has

``write_site`` writes into a fresh folder beside the site and then swaps it in, so a site
being served is never half written, and a lost site is rebuilt from the history. It
renders what the history decided and decides nothing (harness/publish.py reads the
history and calls it).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from harness import store
from harness.history import archive
from harness.history.read import History
from harness.report.changelog import format_atom, format_changes_json, format_history_summary
from harness.report.history import DOWNLOADS, render_site_pages
from harness.report.write import write_assets


def write_site(history: History, site: Path, site_url: str = "") -> Path:
    """Replace ``site`` with the site of ``history``; return it."""
    fresh = site.with_name(f".{site.name}.new")
    old = site.with_name(f".{site.name}.old")
    for stale in (fresh, old):
        shutil.rmtree(stale, ignore_errors=True)
    fresh.mkdir(parents=True)
    write_assets(fresh / "assets")
    for number, entry in enumerate(reversed(history.entries)):
        if entry.has_pages:
            archive.copy_report(entry, fresh / "runs" / entry.id, downloads=number < DOWNLOADS)
    for name, text in render_site_pages(history).items():
        store.write_atomic(fresh / name, text)
    store.write_atomic(fresh / "changes.atom", format_atom(history, site_url))
    store.write_atomic(fresh / "changes.json", format_changes_json(history))
    summary = (history.newest.folder / "report" / "summary.md").read_text()
    store.write_atomic(fresh / "summary.md", format_history_summary(history, summary))
    if site.exists():
        site.rename(old)
    fresh.rename(site)
    shutil.rmtree(old, ignore_errors=True)
    return site
