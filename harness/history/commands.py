"""``publish`` and ``history``: the commands over a history of runs (see harness/cli.py)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from harness import store
from harness.options import UsageError


def _say(message: str) -> None:
    print(f"gilbench: {message}", file=sys.stderr, flush=True)


def cmd_publish(args: argparse.Namespace) -> int:
    """Build the site from a history (or one run) and swap it in whole."""
    from harness.history.archive import is_history
    from harness.report.format import format_count
    from harness.report.site import publish
    from harness.results import resolve_run

    if is_history(args.run):
        source = args.run
    elif args.run.is_dir() and not store.manifest_path(args.run).is_file():
        raise UsageError(f"{args.run} holds no gilbench run or history: name a history made "
                         "by 'history add RUN --into DIR', or a run folder")  # fmt: skip
    else:
        source = resolve_run(store.REPORTS_DIR, str(args.run))
    published = publish(source, args.into, args.site_url)
    summary = os.environ.get("GITHUB_STEP_SUMMARY")  # a GitHub Actions job's summary
    if summary:
        with Path(summary).open("a") as out:
            out.write((published.site / "summary.md").read_text())
    found = published.history
    _say(f"site: {published.site / 'index.html'} ({format_count(len(found.entries), 'run')}, "
         f"{format_count(len(found.changes), 'change')} found)")  # fmt: skip
    return _regressions(published.history, args.fail_on_regression)


def cmd_history(args: argparse.Namespace) -> int:
    """``history add RUN --into HISTORY``: the run's files, written once."""
    from harness.history import archive
    from harness.report.format import format_count
    from harness.report.site import read_history

    if args.history_command in ("fetch", "push"):
        return _branch(args)
    keep = archive.KEEP_RAW if args.keep_raw is None else args.keep_raw
    entry, added = archive.add_run(args.run, args.into, keep)
    history = read_history(args.into)
    state = "added as" if added else "already in the history, unchanged:"
    _say(f"{args.run} {state} {entry.id} ({format_count(len(history.entries), 'run')})")
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


def _regressions(history: Any, fail: bool) -> int:
    """Print what the newest run brought to light; 1 if asked to fail on a regression."""
    for change in history.new:
        _say(change.describe())
    return 1 if fail and any(c.kind == "regression" for c in history.new) else 0
