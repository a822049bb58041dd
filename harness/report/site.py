"""The published site, rebuilt whole from a history (archive.py) and swapped in.

    SITE/index.html       the runs, newest first, and the newest scaling curves over a
                          week's and a month's earlier ones
    SITE/trends.html      every followed series over the runs
    SITE/changes.html     the change points found; changes.json and changes.atom too
    SITE/summary.md       the newest run's summary.md, then "Changes since the last
                          comparable run" (a job summary or PR comment)
    SITE/assets/          plotly, the CSS and the script: one copy for every page
    SITE/runs/<id>/       each run's own report; the newest DOWNLOADS runs' with their
                          summary.csv, values.parquet and raw JSON (while kept)

``publish`` writes into a fresh folder beside the site and then swaps it in, so a site
being served is never half written, and a lost site is rebuilt from the history. A run
folder given instead of a history is added to a history of its own first.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from harness import store
from harness.history import archive
from harness.history.changes import DEFAULT_RULES, Rules, find_changes, new_changes
from harness.report.changelog import format_atom, format_changes_json, format_history_summary
from harness.report.history import DOWNLOADS, History, render_site_pages
from harness.report.write import write_assets


@dataclass(frozen=True)
class Published:
    site: Path
    history: History


def read_history(folder: Path, rules: Rules = DEFAULT_RULES) -> History:
    """The history's runs and points, with its changes found once over all of them."""
    found = archive.entries(folder)
    if not found:
        raise archive.HistoryError(f"{folder} holds no run yet; add one with 'history add'")
    points = archive.points(found)
    changes = find_changes(points, rules)
    earlier = find_changes(points[points["order"] < len(found) - 1], rules)
    return History(found, points, changes, new_changes(changes, earlier), rules)


def publish(
    source: Path, site: Path, site_url: str = "", rules: Rules = DEFAULT_RULES
) -> Published:
    """Replace ``site`` with the site of the history (or the single run) ``source``."""
    if archive.is_history(source):
        return _publish(read_history(source, rules), site, site_url)
    with tempfile.TemporaryDirectory(prefix="gilbench-history-") as scratch:
        archive.add_run(source, Path(scratch))
        return _publish(read_history(Path(scratch), rules), site, site_url)


def _publish(history: History, site: Path, site_url: str) -> Published:
    fresh = site.with_name(f".{site.name}.new")
    old = site.with_name(f".{site.name}.old")
    for stale in (fresh, old):
        shutil.rmtree(stale, ignore_errors=True)
    fresh.mkdir(parents=True)
    write_assets(fresh / "assets")
    for number, entry in enumerate(reversed(history.entries)):
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
    return Published(site, history)
