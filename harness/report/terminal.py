"""What the terminal prints, with rich: the answer table at the end of every run and for
``gilbench show``, the undecided figures in brief, and ``gilbench diff``'s table.

The answer's cells are answer.py's text, the same strings index.html and summary.md print;
colour only marks the decision each states.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any

import pandas as pd
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from harness.compare.diffruns import Diff
from harness.report.answer import AnswerText
from harness.report.format import (
    format_count,
    format_interval,
    format_needed,
    format_range,
    format_seconds,
    format_times,
)
from harness.results import records

STYLES = {"gains": "green", "loses": "red", "equivalent": "cyan", "undecided": "yellow"}
BRIEF = 10  # undecided figures ``show`` lists before it points at the report for the rest


PIPED_WIDTH = 160  # columns when standard output is no terminal (a CI log, a file)


def console() -> Console:
    """Standard output, wrapped to the terminal's width; a log or a file gets PIPED_WIDTH
    columns, not rich's 80, which would fold the answer's six columns word by word."""
    return Console(file=sys.stdout, highlight=False,
                   width=None if sys.stdout.isatty() else PIPED_WIDTH)  # fmt: skip


def render_answer(text: AnswerText, details: str, out: Console) -> None:
    """The title, the table, the sentences, and the caveats with where they are detailed."""
    table = Table(title=escape(text.title), title_justify="left", title_style="bold")
    for name in text.header:
        table.add_column(escape(name), overflow="fold")
    for index, row in enumerate(text.rows):
        ends = index + 1 == len(text.rows) or bool(text.rows[index + 1][0].text)
        table.add_row(*(f"[{STYLES[c.decision]}]{escape(c.text)}[/]" if c.decision in STYLES
                        else escape(c.text) for c in row), end_section=ends)  # fmt: skip
    out.print(table)
    for sentence in text.sentences:  # the terminal wraps them; a log or a file keeps each whole
        out.print(escape(sentence), soft_wrap=True)
    said = f"{text.caveats} Details: {details}" if text.caveats else f"Details: {details}"
    out.print(escape(said), soft_wrap=True)


def render_undecided(decisions: pd.DataFrame, details: str, out: Console) -> None:
    """The undecided figures, one short line each, the first BRIEF of them."""
    rows = records(decisions[decisions["decision"] == "undecided"])
    if not rows:
        return
    out.print(f"Undecided ({len(rows)}), with what would decide each:")
    for row in rows[:BRIEF]:
        figure = format_times(float(row["ratio"]))
        out.print(escape(f"  {row['topic']}: {row['subject']}: {figure} "
                         f"({format_interval(row)}); {format_needed(row)}"),
                  soft_wrap=True)  # fmt: skip
    if len(rows) > BRIEF:
        out.print(escape(f"  and {len(rows) - BRIEF} more: {details}"), soft_wrap=True)


def render_diff(diff: Diff, names: Mapping[str, str], out: Console) -> None:
    """B against A, a row per cell both measured, then the counts and what only one has."""
    table = Table(title=escape(f"{names['b']} against {names['a']}: throughput of B over A, "
                               "cell by cell"), title_justify="left")  # fmt: skip
    for name in ("impl", "workload", "model", "workers", "A", "B", "B/A", "95% CI", "decision"):
        table.add_column(name, justify="right" if name in ("workers", "A", "B", "B/A") else "left")
    for row in records(diff.table):
        word = str(row["decision"])
        table.add_row(*(escape(str(row[c])) for c in ("impl", "workload", "model", "workers")),
                      format_seconds(float(row["a_s"])), format_seconds(float(row["b_s"])),
                      format_times(float(row["ratio"])),
                      format_range(float(row["ci_low"]), float(row["ci_high"])),
                      f"[{STYLES[word]}]{word}[/]")  # fmt: skip
    out.print(table)
    out.print(format_diff_counts(diff), soft_wrap=True)


def format_diff_counts(diff: Diff) -> str:
    """``12 cells in both runs: 3 gains, 1 loses, ...``, and the cells only one run has."""
    counts, total = diff.counts(), len(diff.table)
    said = ", ".join(f"{n} {word}" for word, n in counts.items())
    text = (f"{format_count(total, 'cell')} in both runs: {said} (B against A, equivalent "
            f"within {diff.margin:.0%}, each at a 5% error rate")  # fmt: skip
    if total:
        text += f": were no cell different, about {0.05 * total:.1f} would read as gains or loses"
    text += ")."
    for side, cells in (("A", diff.only_a), ("B", diff.only_b)):
        if cells:
            text += f" Only in {side}: {format_count(len(cells), 'cell')}."
    return text


def format_origin(manifest: Mapping[str, Any]) -> str:
    """``run 20261201-205151: 2 CPUs (AMD EPYC), profile quick``: whose table this is."""
    machine = manifest.get("machine") or {}
    return (
        f"run {manifest.get('run') or '?'}: {machine.get('cpu_count', '?')} CPUs "
        f"({machine.get('cpu_model') or '?'}), profile {manifest.get('profile') or '?'}"
    )
