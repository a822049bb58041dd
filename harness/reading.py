"""``show`` and ``diff``: read runs back and print what they found (see harness/cli.py),
each a short sequence of steps:

    report_run:     load_run ──▶ build_report ──▶ write_report (every command that measures)
    show RUN:       resolve ──▶ load_run ──▶ build_report ──▶ the answer table, the undecided
    diff RUN RUN:   resolve x2 ──▶ load_run, summarize x2 ──▶ compare_runs ──▶ its table

A run is named by its folder, by its id (its folder's name, found anywhere under the
reports folder, or the start of one that no other shares) or as ``latest``. A name that
finds no run, or more than one, is one line and exit 2 before anything is read. The
steps are imported where they are called, as cli.py's are: resolving a name needs no
pandas.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from harness import store
from harness.options import UsageError

if TYPE_CHECKING:
    from harness.report.build import Report

LATEST = "latest"
DEPTH = 4  # reports/nightly/<night>/attempt-N/<run>: how deep a run's id is looked for


def resolve(reports: Path, name: str) -> Path:
    """The run folder ``name`` stands for: a folder, ``latest``, or a run's id (or the
    start of one) under ``reports``; a UsageError saying what to give when it finds none
    or several."""
    given = Path(name).expanduser()
    for candidate in (given, reports / name):
        if store.manifest_path(candidate).is_file():
            return candidate.resolve()
    if name == LATEST:
        raise UsageError(f"no latest run in {reports}: measure one with 'gilbench compare', or "
                         "name a run folder")  # fmt: skip
    if given.is_dir():
        raise UsageError(f"{name} holds no gilbench run (no run.json): name a run folder, a "
                         "run's id or latest")  # fmt: skip
    found = [p for p in _runs(reports) if p.name == name] or [
        p for p in _runs(reports) if p.name.startswith(name)]  # fmt: skip
    if len(found) == 1:
        return found[0].resolve()
    if found:
        some = ", ".join(sorted(p.name for p in found)[:3])
        raise UsageError(f"{name!r} could be any of {len(found)} runs in {reports} ({some}, "
                         "...): give more of its id, or its folder")  # fmt: skip
    raise UsageError(f"no run {name!r} in {reports}: name a run folder, a run's id (its "
                     "folder's name, e.g. 20261204-133303) or latest")  # fmt: skip


def _runs(reports: Path, depth: int = DEPTH) -> list[Path]:
    """Every run folder under ``reports``, not looking inside runs or hidden folders."""
    if depth < 0 or not reports.is_dir():
        return []
    found = []
    try:
        entries = sorted(os.scandir(reports), key=lambda e: e.name)
    except OSError:
        return []
    for entry in entries:
        if entry.name.startswith(".") or entry.name == LATEST or not entry.is_dir():
            continue
        folder = Path(entry.path)
        if store.manifest_path(folder).is_file():
            found.append(folder)
        else:
            found += _runs(folder, depth - 1)
    return found


def details(run_dir: Path, anchor: str) -> str:
    """Where the report details something: its page and anchor, or how to write it."""
    page = run_dir / "index.html"
    if page.is_file():
        return f"{page}#{anchor}"
    return f"'gilbench report {run_dir}' writes them into {page}"


def report_run(run_dir: Path) -> Report:
    """Read the run back, build its report and write it into the run's folder."""
    from harness.report.build import build_report
    from harness.report.write import write_report
    from harness.results import load_run

    run = load_run(run_dir)
    for problem in run.problems:  # skipped; the report marks the cells they hit
        _say(problem)
    report = build_report(run)
    write_report(report, run_dir)
    _say(f"report: {run_dir / 'index.html'}")
    summary = os.environ.get("GITHUB_STEP_SUMMARY")  # a GitHub Actions job's summary page
    if summary:
        with Path(summary).open("a") as out:
            out.write((run_dir / "summary.md").read_text() + "\n")
    return report


def report_answered(run_dir: Path) -> Report:
    """``report_run``, then the answer: what ``report``, a merge and a re-run shard print."""
    report = report_run(run_dir)
    print_answer(report, run_dir)
    return report


def print_answer(report: Report, run_dir: Path) -> None:
    """The answer table, its sentences and caveats: a run's last lines, and ``show``'s."""
    from harness.report.terminal import console, render_answer

    render_answer(report.answer, details(run_dir, "caveats"), console())


def cmd_show(args: argparse.Namespace) -> int:
    """Print a run's answer table and, briefly, what is undecided."""
    run_dir = resolve(args.reports, args.run)
    from harness.report.build import build_report
    from harness.report.terminal import console, format_origin, render_undecided
    from harness.results import load_run

    run = load_run(run_dir)
    for problem in run.problems:  # skipped; the report marks the cells they hit
        _say(problem)
    report = build_report(run)
    out = console()
    out.print(format_origin(report.manifest), highlight=False)
    print_answer(report, run_dir)
    render_undecided(report.comparison.decisions(), details(run_dir, "undecided"), out)
    return 0


def cmd_diff(args: argparse.Namespace) -> int:
    """Compare two runs cell by cell: B's throughput over A's, its interval and decision."""
    first, second = resolve(args.reports, args.run_a), resolve(args.reports, args.run_b)
    from harness.compare.cells import summarize
    from harness.compare.decisions import MARGIN
    from harness.compare.diffruns import compare_runs
    from harness.report.terminal import console, format_origin, render_diff
    from harness.results import load_run

    runs = [load_run(first), load_run(second)]
    out = console()
    for side, run in zip("AB", runs, strict=True):
        out.print(f"{side}: {format_origin(run.manifest)} ({run.directory})", highlight=False)
    for note in format_differences(runs[0].manifest, runs[1].manifest):
        out.print(note, highlight=False, soft_wrap=True)
    diff = compare_runs(summarize(runs[0]), summarize(runs[1]), args.margin or MARGIN)
    render_diff(diff, {"a": "A", "b": "B"}, out)
    return 0


def format_differences(a: dict[str, object], b: dict[str, object]) -> list[str]:
    """What else differs between two runs than what they measured: the machine, gilbench."""
    from harness.machine import machine_class

    notes = []
    machines = [machine_class(m) if isinstance(m, dict) else "?" for m in
                (a.get("machine"), b.get("machine"))]  # fmt: skip
    if machines[0] != machines[1]:
        notes.append(f"A ran on {machines[0]}, B on {machines[1]}: the ratios compare the "
                     "machines as well")  # fmt: skip
    made = [m.get("commit") or m.get("version") if isinstance(m, dict) else None for m in
            (a.get("gilbench"), b.get("gilbench"))]  # fmt: skip
    if made[0] != made[1]:
        notes.append(f"A was measured by gilbench {made[0]}, B by {made[1]}: a workload that "
                     "changed between them reads as a difference too")  # fmt: skip
    return notes


def _say(message: str) -> None:
    print(f"gilbench: {message}", file=sys.stderr, flush=True)
