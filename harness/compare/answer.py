"""The answer: one row per kind of work and implementation, each entry a decision. Pure.

A reader asks "for my kind of work, which model and which implementation, do 3.14t's
threads pay off, and what does 3.14t cost me on one thread?". The answer is read at this
machine's core count (``answer_workers``), and every entry is the decision of one figure
that ``Comparison.decisions()`` lists (verdicts.py), or "undecided":

- the best model: the models table's (picks.compare_models), the fastest by its lead over
  the next, which decides it;
- its throughput against the reference serially on one worker: a geometric mean over the
  category's workloads, picked among the models ranked (``compare_category_throughput``);
- whether the free-threaded build's threads pay off: break-even by category
  (picks.compare_break_even), at the answer's worker count, and the fewest workers from
  which every count up to it gains;
- the free-threaded build's single-thread cost: its serial time over the default
  build's, a geometric mean over the category (``compare_category_overhead``).

The report (report/answer.py) turns it into the same text at the end of a run, at the top
of index.html and of summary.md.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

from harness.compare.cells import Cells
from harness.compare.decisions import UNDECIDED, Word
from harness.compare.estimate import Terms, geomean, ratio
from harness.compare.picks import rank_models
from harness.compare.rows import _categories, _impls, _table
from harness.results import records
from harness.status import OK

if TYPE_CHECKING:
    from harness.compare.verdicts import Comparison

SERIAL = "serial"
# What each of the answer's figures is of, by its topic in Comparison.decisions(): the same
# in every run of the same cells.
SUBJECTS: dict[str, Callable[[dict[str, Any]], str]] = {
    "answer throughput": lambda r: f"{r['category']} {r['impl']}",
    "answer break-even": lambda r: f"{r['category']} at {r['workers']}",
    "answer overhead": lambda r: str(r["category"]),
}


def answer_workers(cells: Cells) -> int:
    """The worker count the answer is given at: the most workers measured, other than
    serially, within the CPUs the run could use (the CPU count, where it was measured);
    where every such count was oversubscribed, the most measured."""
    table = cells.table
    ok = table[(table["status"] == OK) & (table["model"] != SERIAL)]
    within = ok[~ok["oversubscribed"].astype(bool)]
    for found in (within, ok, table):
        if len(found):
            return int(found["workers"].max())
    return 1


def compare_category_throughput(cells: Cells, workers: int) -> pd.DataFrame:
    """Per impl x category: the fastest model's throughput at ``workers`` against the
    reference running the workloads serially on one worker, a geometric mean over the
    category's workloads. The model is the one ``rank_models`` puts first (the models
    table's ``best``), picked among the models ranked (``candidates``)."""
    reference = cells.roles.reference
    rows: list[dict[str, Any]] = []
    terms: list[Terms | None] = []
    counts: list[int] = []
    for category, workloads in _categories(cells.table).items():
        for impl in _impls(cells):
            ranked = rank_models(cells, impl, workloads, workers)
            if not ranked or reference is None:
                continue
            parts = [(cells.speedup.get((impl, w, ranked[0], workers)),
                      Terms() if impl == reference else cells.vs_ref.get((impl, w, SERIAL, 1)))
                     for w in workloads]  # fmt: skip
            known = [s * v for s, v in parts if s is not None and v is not None]
            rows.append({"impl": impl, "category": category, "model": ranked[0]})
            terms.append(geomean(known) if len(known) == len(parts) else None)
            counts.append(len(ranked))
    return _table(cells, rows, terms, ["impl", "category", "model"], counts)


def compare_category_overhead(cells: Cells) -> pd.DataFrame:
    """Per category: the free-threaded build's serial time on one worker over the default
    build's, a geometric mean over the workloads both measured (``missing``: the others).
    No rows when the run has no such pair of builds."""
    columns = ["category", "workloads", "missing"]
    free_threaded, default = cells.roles.free_threaded, cells.roles.default
    if free_threaded is None or default is None:
        return _table(cells, [], [], columns, higher_is_better=False)
    rows: list[dict[str, Any]] = []
    terms: list[Terms | None] = []
    for category, workloads in _categories(cells.table).items():
        pairs = [((free_threaded, w, SERIAL, 1), (default, w, SERIAL, 1)) for w in workloads]
        done = [(w, ours, theirs) for w, (ours, theirs) in zip(workloads, pairs, strict=True)
                if cells.ok(ours) and cells.ok(theirs)]  # fmt: skip
        if not done:
            continue
        rows.append({"category": category, "workloads": ", ".join(w for w, _, _ in done),
                     "missing": len(workloads) - len(done)})  # fmt: skip
        terms.append(geomean([ratio(ours, theirs) for _, ours, theirs in done]))
    return _table(cells, rows, terms, columns, higher_is_better=False)


@dataclass(frozen=True)
class Entry:
    """One entry of the answer: a figure's decision, the figure and its interval."""

    decision: Word
    ratio: float = math.nan
    low: float = math.nan
    high: float = math.nan
    model: str = ""  # best model: the fastest; pay-off: the default build's model it rests on
    other: str = ""  # best model: the next, which decides the lead
    workers: int = 0  # pay-off: the fewest workers from which it gains
    only: bool = False  # best model: the only model measured (nothing to decide)


NOTHING = Entry(UNDECIDED)


@dataclass(frozen=True)
class Row:
    """A kind of work on one implementation. ``payoff`` and ``cost`` are the free-threaded
    build's, on its own row only (None elsewhere, and where the run has no such pair)."""

    category: str
    impl: str
    best: Entry
    throughput: Entry
    payoff: Entry | None = None
    cost: Entry | None = None


@dataclass(frozen=True)
class Answer:
    """The answer table, at ``workers`` workers on a machine whose runs could use ``cpus``."""

    workers: int
    cpus: int
    reference: str | None
    free_threaded: str | None
    default: str | None
    margin: float
    rows: tuple[Row, ...]

    @property
    def entries(self) -> list[Entry]:
        """Every entry of the table that states a figure (a lone model states none)."""
        found = []
        for row in self.rows:
            found += [e for e in (row.best, row.throughput, row.payoff, row.cost)
                      if e is not None and not e.only]  # fmt: skip
        return found


def _entry(row: dict[str, Any] | None, **named: Any) -> Entry:
    if row is None:
        return NOTHING
    return Entry(row["decision"], row["ratio"], row["ci_low"], row["ci_high"], **named)


def _keyed(table: pd.DataFrame, *columns: str) -> dict[tuple[Any, ...], dict[str, Any]]:
    return {tuple(r[c] for c in columns): r for r in records(table)}


def _payoff(rows: list[dict[str, Any]], workers: int) -> Entry:
    """A category's break-even rows at ``workers``: its decision there; where it gains,
    the fewest workers from which every count measured up to ``workers`` gains too."""
    at = {int(r["workers"]): r for r in rows if int(r["workers"]) <= workers}
    if workers not in at:
        return NOTHING
    here = at[workers]
    since = workers
    if here["decision"] == "gains":
        for count in sorted(at, reverse=True):
            if at[count]["decision"] != "gains":
                break
            since = count
    return _entry(here, model=str(here["rival"]), workers=since)


def compare_answer(comparison: Comparison) -> Answer:
    """The answer table, from the comparison's own rows and decisions."""
    roles, workers = comparison.roles, comparison.workers
    models = _keyed(comparison.models, "impl", "category")
    throughput = _keyed(comparison.category_throughput, "impl", "category")
    cost = _keyed(comparison.category_overhead, "category")
    even: dict[str, list[dict[str, Any]]] = {}
    for row in records(comparison.category_break_even):
        even.setdefault(str(row["category"]), []).append(row)
    rows = []
    for (impl, category), found in throughput.items():
        lead = models.get((impl, category))
        best = (Entry(UNDECIDED, model=str(found["model"]), only=True)
                if lead is None or not lead["runner_up"]
                else _entry(lead, model=str(lead["best"]),
                            other=str(lead["runner_up"])))  # fmt: skip
        ours = impl == roles.free_threaded and roles.default is not None
        rows.append(Row(
            category=str(category), impl=str(impl), best=best, throughput=_entry(found),
            payoff=_payoff(even.get(str(category), []), workers) if ours else None,
            cost=_entry(cost.get((str(category),))) if ours else None,
        ))  # fmt: skip
    return Answer(workers, comparison.cpus, roles.reference, roles.free_threaded,
                  roles.default, comparison.margin, tuple(rows))  # fmt: skip
