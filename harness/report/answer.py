"""The answer table as text: the one rendering that the terminal (terminal.py), the top of
index.html (templates/answer.html.j2) and the top of summary.md all print. Pure: strings
out, but for ``load_answer``.

``format_answer`` turns compare's ``Answer`` into an ``AnswerText``: a title that says at
how many workers the answer is given, a header, rows of cells (each its text and the
decision behind it), three sentences at most in plain words, and the machine's caveats
folded into one line. The report writes it beside the pages as answer.json, from which the
published site shows the newest run's answer without deciding anything.
"""

# Typographic multiplication signs are meant for the report's readers.
# ruff: noqa: RUF001

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from harness import store
from harness.compare.answer import Answer, Entry, Row
from harness.compare.decisions import UNDECIDED
from harness.compare.steadiness import SLOW
from harness.report.findings import Finding, _undecided
from harness.report.format import format_category, format_count, format_times
from harness.results import records
from harness.status import FAILED

if TYPE_CHECKING:
    from harness.compare.verdicts import Comparison
    from harness.report.build import Report

FORMAT = "gilbench-answer"
# History:
# 1 - title, header, rows of {text, decision}, sentences, caveats, run.
VERSION = 1
UNDECIDED_TEXT = "undecided"


@dataclass(frozen=True)
class Cell:
    """One cell of the table: its text, and the decision it states ("" for a label)."""

    text: str
    decision: str = ""


@dataclass(frozen=True)
class AnswerText:
    """The answer table as every place prints it."""

    title: str
    header: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]
    sentences: tuple[str, ...]  # three at most
    caveats: str  # the machine's caveats in one line; "" when there are none
    run: str = ""  # the run it answers for

    def texts(self) -> list[list[str]]:
        """The header and each row as plain strings: what every rendering shows."""
        return [list(self.header), *([c.text for c in row] for row in self.rows)]


def format_answer(answer: Answer, caveats: str = "", run: str = "") -> AnswerText:
    """The table, its title and its sentences, from compare's answer."""
    ref, ft, default = answer.reference, answer.free_threaded, answer.default
    header = ["work", "impl", "best model", f"throughput vs {ref} serial"]
    gil = any(r.payoff is not None for r in answer.rows)
    if gil:
        header += [f"{ft} threads vs {default}'s best", f"{ft} 1-thread time vs {default}"]
    rows, shown = [], ""
    for row in answer.rows:
        category = format_category(row.category)
        cells = [Cell(category if category != shown else ""), Cell(row.impl),
                 _best(row.best), _figure(row.throughput)]  # fmt: skip
        shown = category
        if gil:
            cells += [_payoff(row.payoff), _cost(row.cost)]
        rows.append(tuple(cells))
    return AnswerText(format_title(answer), tuple(header), tuple(rows),
                      tuple(_sentences(answer)), caveats, run)  # fmt: skip


def format_title(answer: Answer) -> str:
    """At how many workers the answer is given, and why there."""
    at = f"The answer at {format_count(answer.workers, 'worker')}"
    if answer.cpus <= 0:
        return f"{at}, the most measured"
    if answer.workers == answer.cpus:
        return f"{at}, this machine's CPU count"
    if answer.workers < answer.cpus:
        return f"{at}, the most measured within this machine's {answer.cpus} CPUs"
    return f"{at}, more than this machine's {answer.cpus} CPUs: nothing fewer was measured"


def _decided(entry: Entry | None) -> bool:
    return entry is not None and entry.decision != UNDECIDED and not math.isnan(entry.ratio)


def _best(entry: Entry) -> Cell:
    if entry.only:
        return Cell(f"{entry.model} (only model)")
    if not _decided(entry):
        named = f" ({entry.model}, {entry.other})" if entry.model else ""
        return Cell(UNDECIDED_TEXT + named, UNDECIDED)
    if entry.decision == "equivalent":
        return Cell(f"{entry.model} ≈ {entry.other}", entry.decision)
    return Cell(entry.model, entry.decision)


def _figure(entry: Entry | None, after: str = "") -> Cell:
    if entry is None:
        return Cell("–")
    if not _decided(entry):
        return Cell(UNDECIDED_TEXT, UNDECIDED)
    return Cell(f"{entry.decision} {format_times(entry.ratio)}{after}", entry.decision)


def _payoff(entry: Entry | None) -> Cell:
    if entry is None or not _decided(entry):
        return _figure(entry)
    if entry.decision == "gains":
        return Cell(f"gains from {format_count(entry.workers, 'worker')}", "gains")
    return _figure(entry, f" to {entry.model}")


def _cost(entry: Entry | None) -> Cell:
    return _figure(entry, " the time")


def _join(parts: Sequence[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def _by_decision(rows: Sequence[Row], entry: Callable[[Row], Entry | None]
                 ) -> dict[str, list[tuple[str, Entry]]]:  # fmt: skip
    found: dict[str, list[tuple[str, Entry]]] = {}
    for row in rows:
        one = entry(row)
        if one is not None:
            word = one.decision if _decided(one) else UNDECIDED
            found.setdefault(word, []).append((format_category(row.category), one))
    return found


def _sentences(answer: Answer) -> list[str]:
    """Three sentences at most: do the free-threaded build's threads pay off, what it costs
    on one thread, and how much is undecided."""
    ft, default, within = answer.free_threaded, answer.default, f"within {answer.margin:.0%}"
    ours = [r for r in answer.rows if r.payoff is not None]
    said = []
    payoff = _by_decision(ours, lambda r: r.payoff)
    if payoff:
        parts = [
            *(f"pay off on {c} from {format_count(e.workers, 'worker')}"
              for c, e in payoff.get("gains", [])),
            *(f"{says} on {_join([c for c, _ in payoff[word]])}" for word, says in
              (("loses", "lose"), ("equivalent", f"do as well, {within},"),
               (UNDECIDED, "are undecided")) if word in payoff),
        ]  # fmt: skip
        said.append(f"Against {default}'s best model at {format_count(answer.workers, 'worker')}, "
                    f"{ft}'s threads {_join(parts)}.")  # fmt: skip
    cost = _by_decision(ours, lambda r: r.cost)
    if cost:
        parts = [
            *(f"{format_times(e.ratio)} the time on {c}"
              for c, e in [*cost.get("loses", []), *cost.get("gains", [])]),
            *(f"the same time, {within}, on {_join([c for c, _ in cost[word]])}"
              for word in ("equivalent",) if word in cost),
        ]  # fmt: skip
        open_ = [c for c, _ in cost.get(UNDECIDED, [])]
        rest = f"cost is undecided on {_join(open_)}" if open_ else ""
        if parts:
            text = f"On one thread, {ft} takes {_join(parts)}, against {default}"
            said.append(text + (f"; its {rest}." if rest else "."))
        else:
            said.append(f"On one thread, {ft}'s {rest}.")
    entries = answer.entries
    undecided = sum(not _decided(e) for e in entries)
    if not entries:
        said.append("Nothing was measured that the answer could state.")
    elif undecided:
        said.append(f"{undecided} of {len(entries)} entries are undecided: a longer run would "
                    "decide them ('gilbench show' lists what each needs).")  # fmt: skip
    else:
        said.append(f"All {len(entries)} entries are decided, each at a 5% error rate.")
    return said


def format_caveats(report: Report) -> str:
    """The precision line, failures, missing shards and each machine's unsteady CPUs, in
    one line; "" when there is nothing to say."""
    table = report.summary
    parts = []
    measured = table["precision"].notna()
    if measured.any():
        met = int(table.loc[measured, "precise"].astype(bool).sum())
        parts.append(f"{met} of {format_count(int(measured.sum()), 'cell')} reached "
                     f"±{_target(report):.0%}")  # fmt: skip
    failed = int(table["status"].isin(FAILED).sum())
    if failed:
        parts.append(f"{format_count(failed, 'cell')} failed")
    for shard in report.manifest.get("shards") or []:
        if shard["status"] != "merged":
            parts.append(f"shard {shard['index']}/{shard['of']} {shard['status']}")
    for label, speed in report.speeds:
        if speed.samples and not speed.steady:
            where = f"shard {label}: " if label else ""
            parts.append(f"{where}a CPU ran below {SLOW:.0%} of the fastest rate in "
                         f"{speed.slowed} of {speed.samples} samples, so speedups may read "
                         "low")  # fmt: skip
    return ("Caveats: " + "; ".join(parts) + ".") if parts else ""


def _target(report: Report) -> float:
    from harness.compare.precision import DEFAULT_PRECISION, target_of

    return target_of(report.manifest) or DEFAULT_PRECISION


def answer_of(report: Report) -> AnswerText:
    """The report's answer, its caveats included."""
    from harness.compare.answer import compare_answer

    return format_answer(compare_answer(report.comparison), format_caveats(report),
                         str(report.manifest.get("run") or ""))  # fmt: skip


def format_answer_json(text: AnswerText) -> str:
    """answer.json: the answer as the site shows it, with its format and version."""
    return json.dumps({"format": FORMAT, "version": VERSION, **asdict(text)}, indent=1,
                      ensure_ascii=False) + "\n"  # fmt: skip


def load_answer(path: Path) -> AnswerText | None:
    """answer.json back; None when the report has none (it predates the answer table)."""
    if not path.is_file():
        return None
    try:
        data: dict[str, Any] = json.loads(path.read_text())
    except ValueError as exc:
        raise store.StoreError(f"{path} is not valid JSON ({exc}): rebuild the report") from None
    if data.get("format") != FORMAT or data.get("version") != VERSION:
        raise store.StoreError(f"{path} is {data.get('format')!r} version "
                               f"{data.get('version')!r}; this gilbench reads {FORMAT!r} "
                               f"version {VERSION}: rebuild the report")  # fmt: skip
    rows = tuple(tuple(Cell(str(c["text"]), str(c["decision"])) for c in row)
                 for row in data["rows"])  # fmt: skip
    return AnswerText(str(data["title"]), tuple(map(str, data["header"])), rows,
                      tuple(map(str, data["sentences"])), str(data["caveats"]),
                      str(data.get("run") or ""))  # fmt: skip


def format_answer_undecided(comparison: Comparison) -> list[Finding]:
    """A finding for each of the answer's undecided figures that no other finding states
    (Comparison.decisions lists each figure once), with what would decide it."""
    from harness.compare.answer import SUBJECTS

    listed = comparison.decisions()
    kept = set(zip(listed["topic"], listed["subject"], strict=True))
    ref, ft, default = (
        comparison.roles.reference,
        comparison.roles.free_threaded,
        comparison.roles.default,
    )
    at = format_count(comparison.workers, "worker")
    whats: dict[str, tuple[pd.DataFrame, Callable[[dict[str, Any]], str]]] = {
        "answer throughput": (comparison.category_throughput, lambda r: (
            f"Throughput of {r['impl']} with its best model ({r['model']}) on "
            f"{format_category(str(r['category']))} at {at}, against {ref} serially")),
        "answer break-even": (comparison.category_break_even, lambda r: (
            f"Break-even of {ft} threads on {format_category(str(r['category']))} (at "
            f"{format_count(int(r['workers']), 'worker')}, against {default}'s {r['rival']})")),
        "answer overhead": (comparison.category_overhead, lambda r: (
            f"Single-thread cost of {ft} on {format_category(str(r['category']))}")),
    }  # fmt: skip
    found = []
    for topic, (table, what) in whats.items():
        for row in records(table):
            if (topic, SUBJECTS[topic](row)) in kept and row["decision"] == UNDECIDED:
                found.append(_undecided(topic, what(row), row))
    return found
