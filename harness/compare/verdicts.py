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
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from harness.compare.answer import (
    SUBJECTS,
    answer_workers,
    compare_category_overhead,
    compare_category_throughput,
)
from harness.compare.cells import Cells
from harness.compare.decisions import MARGIN, decide
from harness.compare.estimate import (
    Estimate,
    Terms,
    estimate_all,
    geomean,
    instructions,
    ratio,
)
from harness.compare.intervals import CONFIDENCE
from harness.compare.picks import compare_break_even, compare_models
from harness.compare.roles import Roles
from harness.compare.rows import (
    RATIO_COLUMNS,
    _categories,
    _decided,
    _fastest,
    _impls,
    _table,
    _undecided,
    adjusted,
)
from harness.compare.sweeps import SWEEP_COLUMNS, compare_payload, compare_tasks
from harness.results import records
from harness.status import OK

ALPHA = 1 - CONFIDENCE  # the error rate each statement is made at, selection included


@dataclass(frozen=True)
class Comparison:
    """Everything the report states beyond the cell table."""

    roles: Roles
    workers: int  # where models are compared: the answer's count (answer.answer_workers)
    headline: pd.DataFrame  # best throughput per impl x workload against the reference
    geomeans: pd.DataFrame  # the headline's geometric mean over workloads, per impl
    scaling: pd.DataFrame  # threads' speedup at the most workers, per category x impl
    overhead: pd.DataFrame  # free-threaded against default build, serial on one worker
    break_even: pd.DataFrame  # free-threaded threads against the default's best model
    models: pd.DataFrame  # the fastest model per impl x category, and by how much
    # the sized workloads' (sweeps.py): each model against threads as the payload grows;
    # the pools' per-task overhead, speedup and throughput over the thread pool's per size
    payload: pd.DataFrame = field(default_factory=lambda: _empty(SWEEP_COLUMNS))
    task_overhead: pd.DataFrame = field(default_factory=lambda: _empty(SWEEP_COLUMNS))
    task_payoff: pd.DataFrame = field(default_factory=lambda: _empty(SWEEP_COLUMNS))
    task_threads: pd.DataFrame = field(default_factory=lambda: _empty(SWEEP_COLUMNS))
    tested: int = 0  # cells with a verdict against the reference (results table)
    differ: int = 0  # of those, the cells read faster or slower at a 5% false discovery rate
    margin: float = MARGIN  # within it, two figures are equivalent
    sequential: bool = False  # the intervals' levels were spent over a sequential run's looks
    cpus: int = 0  # the CPUs the run could use (0: unknown)
    # the answer's figures by category (answer.py): the best model's throughput against the
    # reference serially, free-threaded threads against the default's models, and the
    # free-threaded build's single-thread cost
    category_throughput: pd.DataFrame = field(default_factory=lambda: _empty(["category"]))
    category_break_even: pd.DataFrame = field(default_factory=lambda: _empty(["category"]))
    category_overhead: pd.DataFrame = field(default_factory=lambda: _empty(["category"]))

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
            ("payload", self.payload, _sized("against threads")),
            ("task overhead", self.task_overhead, _sized("on 1 worker against serial")),
            ("task payoff", self.task_payoff, _sized("against serial")),
            ("task threads", self.task_threads, _sized("against threadpool")),
            ("answer throughput", self.category_throughput, SUBJECTS["answer throughput"]),
            ("answer break-even", self.category_break_even, SUBJECTS["answer break-even"]),
            ("answer overhead", self.category_overhead, SUBJECTS["answer overhead"]),
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
        return _once(frame[frame["ratio"].notna()]).reset_index(drop=True)


def _once(frame: pd.DataFrame) -> pd.DataFrame:
    """Each figure once: an answer row whose figure is another row's (a category of one
    workload) is that row's decision, not a second one."""
    # str() of each value, not astype(str): pandas 3's string dtype keeps NaN a float
    columns = [frame[c] for c in ("ratio", "ci_low", "ci_high", "decision", "cells")]
    key = pd.Series([" ".join(map(str, values)) for values in zip(*columns, strict=True)],
                    index=frame.index, dtype=object)  # fmt: skip
    answer = frame["topic"].str.startswith("answer ")
    kept: pd.DataFrame = frame[~(answer & key.duplicated())]
    return kept


def _empty(columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame(columns=[*columns, *RATIO_COLUMNS])


def _sized(versus: str) -> Callable[[dict[str, Any]], str]:
    """A sized figure's subject: ``payload_bytes processes against threads on 3.14t at
    1MiB`` (the workers are the most both were measured at)."""
    return lambda r: f"{r['workload']} {r['model']} {versus} on {r['impl']} at {r['label']}"


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


def compare_run(cells: Cells) -> Comparison:
    """Every comparison the report makes, from the results table and its terms."""
    workers = answer_workers(cells)
    rows, terms = headline_terms(cells, workers)
    overhead, payoff, threads = compare_tasks(cells)
    return Comparison(
        roles=cells.roles,
        workers=workers,
        headline=_table(cells, rows, terms, HEADLINE_COLUMNS, [r["candidates"] for r in rows]),
        geomeans=compare_geomeans(cells, rows, terms),
        scaling=compare_scaling(cells, workers),
        overhead=compare_overhead(cells),
        break_even=compare_break_even(cells),
        models=compare_models(cells, workers),
        payload=compare_payload(cells),
        task_overhead=overhead,
        task_payoff=payoff,
        task_threads=threads,
        tested=int(cells.table["vs_ref_q"].notna().sum()),
        differ=int(cells.table["vs_ref_verdict"].isin(["faster", "slower"]).sum()),
        margin=cells.levels.margin,
        sequential=cells.levels.sequential,
        cpus=cells.cpus,
        category_throughput=compare_category_throughput(cells, workers),
        category_break_even=compare_break_even(cells, by_category=True),
        category_overhead=compare_category_overhead(cells),
    )
