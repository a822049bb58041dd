"""The comparisons behind the report's findings, one table each. Pure computation.

Every figure here is estimated from the terms of the results table's own figures (cells.py),
so a finding never contradicts the table:

- headline: the best model's speedup x the implementation's serial ratio to the reference;
- scaling: the threads cells' speedups, a geometric mean over a category's workloads;
- overhead: serial/1 against the default build's serial/1 (the inverse of its vs_ref);
- break-even: free-threaded threads against the default build's models at each worker
  count, stated against the one the decision rests on (``_hardest``);
- models: the fastest model's lead over the others, stated against the one the decision
  rests on.

A figure picked by its estimate among ``candidates`` (a best model, a rival, a leader)
gets an interval simultaneous over them (``adjusted``), so that the pick doesn't make its
interval lie. Every row carries its decision (decisions.py): what the findings state.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from harness.compare.cells import Cells
from harness.compare.decisions import MARGIN, UNDECIDED, decide, passes_to_decide
from harness.compare.estimate import (
    Cell,
    Estimate,
    Terms,
    estimate_all,
    geomean,
    instructions,
    ratio,
)
from harness.compare.intervals import CONFIDENCE
from harness.compare.roles import Roles
from harness.results import records
from harness.status import OK

# A comparison row's figure: the cells behind it with a wide raw interval (information, not
# a gate), the figure and its interval at ``confidence``, the candidates it was picked
# among, its decision (decisions.py), the passes it rests on and about how many in all
# would decide it (NaN: more passes won't, a quieter machine might), and the cells it
# rests on (what the adaptive profile measures again while it is undecided).
RATIO_COLUMNS = ["wide", "ratio", "ci_low", "ci_high", "confidence", "candidates", "decision",
                 "passes", "needed", "cells"]  # fmt: skip
ALPHA = 1 - CONFIDENCE  # the error rate each statement is made at, selection included


@dataclass(frozen=True)
class Comparison:
    """Everything the report states beyond the cell table."""

    roles: Roles
    workers: int  # the largest worker count measured: where models are compared
    headline: pd.DataFrame  # best throughput per impl x workload against the reference
    geomeans: pd.DataFrame  # the headline's geometric mean over workloads, per impl
    scaling: pd.DataFrame  # threads' speedup at the most workers, per category x impl
    overhead: pd.DataFrame  # free-threaded against default build, serial on one worker
    break_even: pd.DataFrame  # free-threaded threads against the default's best model
    models: pd.DataFrame  # the fastest model per impl x category, and by how much
    tested: int = 0  # cells with a verdict against the reference (results table)
    differ: int = 0  # of those, the cells read faster or slower at a 5% false discovery rate
    margin: float = MARGIN  # within it, two figures are equivalent
    sequential: bool = False  # the intervals' levels were spent over a sequential run's looks

    def decisions(self) -> pd.DataFrame:
        """Every figure the findings state, one row each: ``topic``, ``subject`` (what the
        figure is of, the same in every run of the same cells), ``claim`` (the model a
        models row names the fastest, else ""), and RATIO_COLUMNS. The headline's
        per-workload rows are not statements (the geometric means are); the models' rows
        with one model are not decisions."""
        keyed: tuple[tuple[str, pd.DataFrame, Callable[[dict[str, Any]], str]], ...] = (
            ("scaling", self.scaling, lambda r: f"{r['category']} {r['impl']}"),
            ("overhead", self.overhead, lambda r: str(r["workload"] or "geometric mean")),
            ("break-even", self.break_even, lambda r: f"{r['workload']} at {r['workers']}"),
            ("models", self.models, lambda r: f"{r['category']} {r['impl']}"),
            ("headline", self.geomeans, lambda r: str(r["impl"])),
        )
        parts = []
        for topic, table, subject in keyed:
            rows = table[table["runner_up"] != ""] if topic == "models" else table
            if rows.empty:
                continue
            named = [subject(r) for r in records(rows)]
            claim = list(rows["best"]) if topic == "models" else [""] * len(rows)
            parts.append(rows[RATIO_COLUMNS].assign(topic=topic, subject=named, claim=claim))
        counted = self.overhead[self.overhead["instr_ratio"].notna()]
        if not counted.empty:
            named = [str(w or "geometric mean") for w in counted["workload"]]
            frame = counted.assign(ratio=counted["instr_ratio"], ci_low=counted["instr_ci_low"],
                                   ci_high=counted["instr_ci_high"], confidence=CONFIDENCE,
                                   candidates=1, decision=counted["instr_decision"],
                                   needed=math.nan, wide="")  # fmt: skip
            frame["cells"] = pd.Series([()] * len(frame), index=frame.index, dtype=object)
            parts.append(frame[RATIO_COLUMNS].assign(topic="overhead in instructions",
                                                     subject=named, claim=""))  # fmt: skip
        columns = ["topic", "subject", "claim", *RATIO_COLUMNS]
        if not parts:
            return pd.DataFrame(columns=columns)
        frame = pd.concat(parts, ignore_index=True)[columns]
        return frame[frame["ratio"].notna()].reset_index(drop=True)


def _table(cells: Cells, rows: Sequence[dict[str, Any]], terms: Sequence[Terms | None],
           columns: list[str], candidates: Sequence[int] = (),
           higher_is_better: bool = True) -> pd.DataFrame:  # fmt: skip
    """``rows`` with each one's terms estimated into a figure and decided (RATIO_COLUMNS).

    ``candidates``: per row, how many figures it was chosen among (1: none); its interval
    is then simultaneous over them (``adjusted``). ``higher_is_better``: whether a figure
    above 1 gains (a speedup, a throughput ratio) or loses (a time ratio).
    """
    counts = list(candidates) or [1] * len(rows)
    out = [{**row, **_undecided(count)} for row, count in zip(rows, counts, strict=True)]
    for i, one in enumerate(terms):
        if one is None:
            continue
        (estimate,) = cells.estimate([one], adjusted(counts[i]))
        out[i].update(_decided(cells, one, estimate, higher_is_better, counts[i]))
    return pd.DataFrame(out, columns=[*columns, *RATIO_COLUMNS])


def _undecided(count: int) -> dict[str, Any]:
    return {"wide": "", "ratio": math.nan, "ci_low": math.nan, "ci_high": math.nan,
            "confidence": math.nan, "candidates": count, "decision": UNDECIDED, "passes": 0,
            "needed": math.nan, "cells": ()}  # fmt: skip


def _decided(cells: Cells, terms: Terms, estimate: Estimate, higher_is_better: bool = True,
             count: int = 1) -> dict[str, Any]:  # fmt: skip
    """A figure's columns: its interval, its decision, and what would decide it.

    ``confidence`` is the level of the ``count`` simultaneous intervals held together (95%
    in a fixed profile), the one the figure's interval is one of."""
    margin = cells.levels.margin
    word = decide(estimate, margin, higher_is_better)
    progress = passes_to_decide(estimate, estimate.passes, margin, estimate.confidence)
    return {"wide": cells.wide(terms), "ratio": estimate.value, "ci_low": estimate.low,
            "ci_high": estimate.high, "confidence": 1 - (1 - estimate.confidence) * count,
            "decision": word,
            "passes": estimate.passes,
            "needed": math.nan if progress.needed is None else progress.needed,
            "cells": tuple(terms.cells)}  # fmt: skip


def adjusted(candidates: int) -> float:
    """The share of the error rate each of ``candidates`` intervals gets so that they hold
    all their figures at once (Bonferroni): the one picked from them then holds its own,
    whichever it is, so a figure chosen by its estimate keeps an honest interval."""
    return 1 / max(1, candidates)


def _fastest(cells: Cells, candidates: list[Cell]) -> Cell:
    """The candidate with the highest speedup (throughput where there is none)."""
    speedup, throughput = cells.figures["speedup"], cells.figures["throughput"]
    return max(candidates, key=lambda c: (not math.isnan(speedup[c]),
                                          speedup[c] if not math.isnan(speedup[c]) else 0.0,
                                          throughput[c]))  # fmt: skip


def _categories(table: pd.DataFrame) -> dict[str, list[str]]:
    workloads = table.drop_duplicates("workload")
    return {str(c): list(g["workload"]) for c, g in workloads.groupby("category", sort=False)}


def _impls(cells: Cells) -> list[str]:
    return [str(i) for i in cells.table["impl"].drop_duplicates()]


HEADLINE_COLUMNS = ["impl", "workload", "model", "status"]


def headline_terms(cells: Cells, workers: int) -> tuple[list[dict[str, Any]], list[Terms | None]]:
    """Per impl x workload, the best model at ``workers`` against the reference's serial run.

    The figure is the work done per second relative to the reference implementation
    running the workload serially on one worker: the best cell's speedup times the
    implementation's serial throughput against the reference's (1 for the reference).
    The best is picked by its estimate among ``candidates`` models, so its interval is
    simultaneous over them.
    """
    reference = cells.roles.reference
    rows: list[dict[str, Any]] = []
    terms: list[Terms | None] = []
    for (impl, workload), group in cells.table.groupby(["impl", "workload"], sort=False):
        cell = (str(impl), str(workload))
        candidates = [(*cell, str(m), workers) for m in group["model"]
                      if cells.ok((*cell, str(m), workers))]  # fmt: skip
        if not candidates or reference is None:
            failed = group[~group["status"].isin([OK, "unsupported"])]["status"]
            status = failed.iloc[0] if not failed.empty else "unsupported"
            rows.append({"impl": impl, "workload": workload, "model": "", "status": status,
                         "candidates": 1})  # fmt: skip
            terms.append(None)
            continue
        best = _fastest(cells, candidates)
        serial = Terms() if impl == reference else cells.vs_ref.get((*cell, "serial", 1))
        speedup = cells.speedup.get(best)
        rows.append({"impl": impl, "workload": workload, "model": best[2], "status": OK,
                     "candidates": len(candidates)})  # fmt: skip
        terms.append(speedup * serial if speedup is not None and serial is not None else None)
    return rows, terms


def compare_geomeans(
    cells: Cells, headline: Sequence[dict[str, Any]], terms: Sequence[Terms | None]
) -> pd.DataFrame:
    """The headline's geometric mean over the workloads each implementation completed.

    Each workload's figure was picked among its models, so the mean's interval is built
    from intervals simultaneous over every candidate of every workload (Bonferroni over
    their sum, ``candidates``): with 95% all of them hold their figures, the picked ones
    among them, and so the geometric mean of the picked figures lies between the geometric
    means of their ends. The figure is the geometric mean of the headline rows' figures.
    """
    by_impl: dict[str, list[tuple[Terms | None, int]]] = {}
    for picked, one in zip(headline, terms, strict=True):
        by_impl.setdefault(str(picked["impl"]), []).append((one, int(picked["candidates"])))
    out = []
    for impl, parts in by_impl.items():
        done = [(t, n) for t, n in parts if t is not None]
        count = sum(n for _, n in done) or 1
        row: dict[str, Any] = {"impl": impl, "workloads": len(done), "of": len(parts),
                               **_undecided(count)}  # fmt: skip
        if done:
            found = cells.estimate([t for t, _ in done], adjusted(count))
            logs = [[math.log(v) for v in (e.value, e.low, e.high)] for e in found]
            ratio, low, high = (
                math.exp(sum(column) / len(logs)) for column in zip(*logs, strict=True)
            )
            level = 1 - sum(1 - e.confidence for e in found) / len(found)
            estimate = Estimate(ratio, low, high, math.nan, min(e.passes for e in found), level)
            row.update(_decided(cells, geomean([t for t, _ in done]), estimate, count=count))
        out.append(row)
    return pd.DataFrame(out, columns=["impl", "workloads", "of", *RATIO_COLUMNS])


def compare_scaling(cells: Cells, workers: int, model: str = "threads") -> pd.DataFrame:
    """Per category x impl, ``model``'s speedup at ``workers`` over one serial worker."""
    rows, terms = [], []
    for category, workloads in _categories(cells.table).items():
        for impl in _impls(cells):
            done = [w for w in workloads if (impl, w, model, workers) in cells.speedup]
            if not done:
                continue
            rows.append({"category": category, "impl": impl, "workloads": ", ".join(done),
                         "missing": len(workloads) - len(done)})  # fmt: skip
            terms.append(geomean([cells.speedup[(impl, w, model, workers)] for w in done]))
    return _table(cells, rows, terms, ["category", "impl", "workloads", "missing"])


def compare_overhead(cells: Cells) -> pd.DataFrame:
    """Time of the free-threaded build over the default build's, serial on one worker.

    One row per workload, then their geometric mean (``workload`` empty); no rows when the
    run has no such pair of builds. Where both serial cells were counted (run/counts.py),
    the row also holds the same ratio in instructions per unit (``instr_*``): a
    deterministic count, whose interval rests on the count's repeats (paired by repeat,
    which share a hash seed), decided the same way; NaN where either cell has no count.
    """
    columns = ["workload", "category"]
    free_threaded, default = cells.roles.free_threaded, cells.roles.default
    if free_threaded is None or default is None:
        return _with_instructions(cells, _table(cells, [], [], columns, higher_is_better=False), [])
    rows: list[dict[str, Any]] = []
    terms: list[Terms | None] = []
    counted: list[Terms | None] = []
    for category, workloads in _categories(cells.table).items():
        for workload in workloads:
            ours, theirs = (free_threaded, workload, "serial", 1), (default, workload, "serial", 1)
            if cells.ok(ours) and cells.ok(theirs):
                rows.append({"workload": workload, "category": category})
                terms.append(ratio(ours, theirs))
                pair = Terms.of([(instructions(ours), 1.0), (instructions(theirs), -1.0)])
                both = all(k in cells.samples for k, _ in pair.powers)
                counted.append(pair if both else None)
    if terms:
        rows.append({"workload": "", "category": ""})
        terms.append(geomean([t for t in terms if t is not None]))
        known = [t for t in counted if t is not None]
        counted.append(geomean(known) if known and len(known) == len(counted) else None)
    table = _table(cells, rows, terms, columns, higher_is_better=False)
    return _with_instructions(cells, table, counted)


INSTRUCTION_COLUMNS = ["instr_ratio", "instr_ci_low", "instr_ci_high", "instr_decision"]


def _with_instructions(cells: Cells, table: pd.DataFrame,
                       counted: Sequence[Terms | None]) -> pd.DataFrame:  # fmt: skip
    """``table`` with each row's instruction ratio, its 95% interval and its decision."""
    out = records(table)
    for row, one in zip(out, [*counted, *[None] * (len(out) - len(counted))], strict=True):
        row.update(instr_ratio=math.nan, instr_ci_low=math.nan, instr_ci_high=math.nan,
                   instr_decision="")  # fmt: skip
        if one is None:
            continue
        (estimate,) = estimate_all([one], cells.samples, CONFIDENCE)
        row.update(
            instr_ratio=estimate.value,
            instr_ci_low=estimate.low,
            instr_ci_high=estimate.high,
            instr_decision=decide(estimate, cells.levels.margin, higher_is_better=False),
        )
    return pd.DataFrame(out, columns=[*table.columns, *INSTRUCTION_COLUMNS])


def _hardest(cells: Cells, options: list[tuple[Any, Terms]]) -> tuple[Any, Terms]:
    """Of several ratios ``ours / theirs_k`` chosen among, the one a statement about all of
    them rests on, from their simultaneous intervals: where every interval lies above 1,
    the one whose low end is lowest (we beat them all; this is the closest); where some lie
    below 1, the one whose high end is lowest (it surely beats us); else the one with the
    lowest estimate (nothing is decided; this is the nearest rival)."""
    found = cells.estimate([t for _, t in options], adjusted(len(options)))
    known = [(o, e) for o, e in zip(options, found, strict=True) if not math.isnan(e.low)]
    if known and all(e.low > 1 for _, e in known):
        return min(known, key=lambda oe: oe[1].low)[0]
    if any(e.high < 1 for _, e in known):
        return min(known, key=lambda oe: oe[1].high)[0]
    return min(zip(options, found, strict=True), key=lambda oe: oe[1].value)[0]


def compare_break_even(cells: Cells) -> pd.DataFrame:
    """Per workload and worker count: free-threaded threads against the default build's best.

    The figure is the free-threaded threads' throughput over one of the default build's
    models at that worker count (``rival``; ``rivals``: how many models it has there).

    - "Gains on every model" is an intersection-union claim (Berger 1982): it holds only
      if each of its parts does, so it is decided where each rival's own interval lies
      above 1, with no adjustment for the rivals; only for the worker counts it is sought
      at (the fewest where it holds is the break-even), as those are chosen among. The
      rival stated is the closest, and ``candidates`` is 1 (``each`` is True).
    - Anything else ("a model beats it", "equivalent to the best") rests on a rival picked
      among them, so it is decided from intervals simultaneous over them (``candidates``),
      and the rival stated is the one that decides (``_hardest``).
    """
    columns = ["workload", "category", "workers", "rival", "rivals", "each"]
    free_threaded, default = cells.roles.free_threaded, cells.roles.default
    if free_threaded is None or default is None:
        return _table(cells, [], [], columns)
    table = cells.table
    rivals = table[(table["impl"] == default) & (table["status"] == OK)]
    rows, terms, counts, options = [], [], [], []
    for (workload, count), group in rivals.groupby(["workload", "workers"], sort=True):
        workers = int(str(count))
        ours = (free_threaded, str(workload), "threads", workers)
        candidates = [(default, str(workload), str(m), workers) for m in group["model"]]
        candidates = [c for c in candidates if cells.ok(c)]
        if not cells.ok(ours) or not candidates:
            continue
        each = [(c, ratio(c, ours)) for c in candidates]
        theirs, terms_of = _hardest(cells, each)
        rows.append({"workload": workload, "category": group["category"].iloc[0],
                     "workers": workers, "rival": theirs[2], "rivals": len(candidates),
                     "each": False})  # fmt: skip
        terms.append(terms_of)
        counts.append(len(candidates))
        options.append(each)
    found = _table(cells, rows, terms, columns, counts)
    out = records(found)
    sought = [sum(r["workload"] == row["workload"] for r in out) for row in out]
    for row, each, tries in zip(out, options, sought, strict=True):
        estimates = cells.estimate([t for _, t in each], adjusted(tries))
        if not all(e.low > 1 for e in estimates):
            continue
        (closest, terms_of), estimate = min(zip(each, estimates, strict=True),
                                            key=lambda pair: pair[1].low)  # fmt: skip
        row.update(_decided(cells, terms_of, estimate, count=tries), rival=closest[2],
                   candidates=1, each=True)  # fmt: skip
    return pd.DataFrame(out, columns=found.columns)


def compare_models(cells: Cells, workers: int) -> pd.DataFrame:
    """Per impl x category at ``workers``: the fastest model and its lead over the others.

    Models are ranked by their geometric-mean speedup over the category's workloads; only
    models with a speedup on every workload of the category take part. The lead over each
    other model is the geometric mean of the leader's speedup over that model's, with
    intervals simultaneous over the others (``candidates``): the leader is the fastest
    only where it leads each. The model stated (``runner_up``) is the one that decides
    (``_hardest``): where the lead over it holds 1, no model is shown the fastest.
    """
    speedup = cells.figures["speedup"]
    rows, terms, counts = [], [], []
    for category, workloads in _categories(cells.table).items():
        for impl in _impls(cells):
            rates = {}
            for model in cells.table["model"].drop_duplicates():
                keys = [(impl, w, str(model), workers) for w in workloads]
                if all(k in cells.speedup and not math.isnan(speedup[k]) for k in keys):
                    rates[str(model)] = math.prod(speedup[k] for k in keys) ** (1 / len(keys))
            if not rates:
                continue
            ranked = sorted(rates, key=lambda m: -rates[m])
            best, others = ranked[0], ranked[1:]

            leads = [(m, _lead(cells, impl, workloads, best, m, workers)) for m in others]
            runner, chosen = _hardest(cells, leads) if leads else ("", None)
            rows.append({"impl": impl, "category": category, "best": best, "runner_up": runner})
            terms.append(chosen)
            counts.append(max(1, len(others)))
    return _table(cells, rows, terms, ["impl", "category", "best", "runner_up"], counts)


def _lead(cells: Cells, impl: str, workloads: list[str], best: str, other: str,
          workers: int) -> Terms:  # fmt: skip
    """The geometric mean over ``workloads`` of ``best``'s speedup over ``other``'s."""
    return geomean([
        cells.speedup[(impl, w, best, workers)] * cells.speedup[(impl, w, other, workers)] ** -1
        for w in workloads
    ])  # fmt: skip


def compare_run(cells: Cells) -> Comparison:
    """Every comparison the report makes, from the results table and its terms."""
    workers = int(cells.table["workers"].max()) if len(cells.table) else 1
    rows, terms = headline_terms(cells, workers)
    return Comparison(
        roles=cells.roles,
        workers=workers,
        headline=_table(cells, rows, terms, HEADLINE_COLUMNS, [r["candidates"] for r in rows]),
        geomeans=compare_geomeans(cells, rows, terms),
        scaling=compare_scaling(cells, workers),
        overhead=compare_overhead(cells),
        break_even=compare_break_even(cells),
        models=compare_models(cells, workers),
        tested=int(cells.table["vs_ref_q"].notna().sum()),
        differ=int(cells.table["vs_ref_verdict"].isin(["faster", "slower"]).sum()),
        margin=cells.levels.margin,
        sequential=cells.levels.sequential,
    )
