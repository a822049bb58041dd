"""``publish`` and ``history``: the commands over a history of runs (see harness/cli.py),
each a short sequence of steps:

    history add:  archive.add_run (compare's tables and figures; report/'s pages of the run)
    publish:      read.read_history (the changes decided) ──▶ report/site.write_site

The steps live in history/ and report/; this module only calls them in order, so that
history/ never imports report/ (report/ renders what history/ decided). They are imported
where they are called, as cli.py's are: ``python -m harness list`` needs no pandas.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from harness import store
from harness.options import UsageError

if TYPE_CHECKING:
    from harness.compare.cells import Cells
    from harness.compare.verdicts import Comparison
    from harness.history.archive import Entry, Night
    from harness.history.decision import Rules
    from harness.history.read import History
    from harness.results import Run


@dataclass(frozen=True)
class Published:
    site: Path
    history: History


def _say(message: str) -> None:
    print(f"gilbench: {message}", file=sys.stderr, flush=True)


def add_run(
    run_dir: Path, history: Path, keep_raw: int | None = None, night: Night | None = None
) -> tuple[Entry, bool]:
    """Add ``run_dir`` to ``history``, with its own pages; its entry, and whether it was new.
    ``keep_raw``: the runs whose raw JSON is kept (archive.KEEP_RAW by default); ``night``:
    the nightly's run and attempt, whose later attempt replaces an earlier one's entry."""
    from harness.history import archive

    keep = archive.KEEP_RAW if keep_raw is None else keep_raw
    return archive.add_run(run_dir, history, write_run_pages, keep, night)


def write_run_pages(run: Run, cells: Cells, comparison: Comparison, folder: Path) -> None:
    """A run's own report as the history keeps it: its assets are the site's one copy."""
    from harness.history import archive
    from harness.report.build import build_report
    from harness.report.write import write_report

    write_report(build_report(run, cells, comparison), folder, assets=archive.ASSETS)


def publish(source: Path, site: Path, site_url: str = "", rules: Rules | None = None) -> Published:
    """Replace ``site`` with the site of the history (or the single run) ``source``, its
    changes decided by ``rules`` (decision.DEFAULT_RULES by default). A run folder is added
    to a history of its own first."""
    from harness.history import archive
    from harness.history.decision import DEFAULT_RULES
    from harness.history.read import read_history
    from harness.report.site import write_site

    rules = DEFAULT_RULES if rules is None else rules
    if archive.is_history(source):
        history = read_history(source, rules)
        return Published(write_site(history, site, site_url), history)
    with tempfile.TemporaryDirectory(prefix="gilbench-history-") as scratch:
        add_run(source, Path(scratch))
        history = read_history(Path(scratch), rules)
        return Published(write_site(history, site, site_url), history)


def cmd_publish(args: argparse.Namespace) -> int:
    """Build the site from a history (or one run) and swap it in whole."""
    from harness.history import archive
    from harness.report.changelog import format_decided
    from harness.report.format import format_count
    from harness.results import resolve_run

    if archive.is_history(args.run):
        source = args.run
    elif args.run.is_dir() and not store.manifest_path(args.run).is_file():
        raise UsageError(f"{args.run} holds no gilbench run or history: name a history made "
                         "by 'history add RUN --into DIR', or a run folder")  # fmt: skip
    else:
        source = resolve_run(store.reports_dir(), str(args.run))
    published = publish(source, args.into, args.site_url)
    summary = os.environ.get("GITHUB_STEP_SUMMARY")  # a GitHub Actions job's summary
    if summary:
        with Path(summary).open("a") as out:
            out.write((published.site / "summary.md").read_text())
    found = published.history
    _say(f"site: {published.site / 'index.html'} ({format_count(len(found.entries), 'run')}, "
         f"{format_decided(found.counts())} decided)")  # fmt: skip
    return _regressions(published.history, args.fail_on_regression)


def cmd_history(args: argparse.Namespace) -> int:
    """``history add RUN --into HISTORY``: the run's files, written once."""
    from harness.history.archive import Night
    from harness.history.read import read_history
    from harness.report.format import format_count
    from harness.report.history import format_night

    if args.history_command in ("fetch", "push"):
        return _branch(args)
    if args.attempt is not None and args.night is None:
        raise UsageError(f"--attempt {args.attempt} says which attempt of a night the run is: "
                         "name the night with --night ID too")  # fmt: skip
    asked = None if args.night is None else Night(args.night, args.attempt or 1)
    entry, added = add_run(args.run, args.into, args.keep_raw, asked)
    history = read_history(args.into)
    state = "added as" if added else "already in the history, unchanged:"
    night = f", {format_night(entry.night)}" if entry.night else ""
    _say(f"{args.run} {state} {entry.id}{night} ({format_count(len(history.entries), 'run')})")
    return _regressions(history, args.fail_on_regression)


def _branch(args: argparse.Namespace) -> int:
    """``history fetch`` and ``history push``: the history on the repository's data branch."""
    from harness.history import archive, branch
    from harness.report.format import format_count

    if args.history_command == "fetch":
        found = branch.fetch(args.into, args.branch)
        _say(f"history from branch {args.branch} in {args.into}" if found else
             f"no branch {args.branch} yet: {args.into} starts an empty history")  # fmt: skip
        return 0
    runs = len(archive.entries(args.history_dir))
    commit = branch.push(args.history_dir, f"gilbench history: {format_count(runs, 'run')}",
                         args.branch)  # fmt: skip
    _say(f"branch {args.branch} is now {commit[:12]}: {format_count(runs, 'run')}")
    return 0


def _regressions(history: History, fail: bool) -> int:
    """Print each decision the newest run brought (a regression or an improvement); 1 if
    asked to fail on a regression and there is one. Nothing undecided is printed."""
    for change in history.new:
        _say(change.describe())
    return 1 if fail and history.alerts else 0
