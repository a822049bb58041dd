"""The sized workloads' comparisons: each model against threads as the payload grows, and
the pools as their tasks grow. Pure computation, as verdicts.py.

Every row is one figure of the results table's own terms, decided by its own interval
(rows._table): nothing here is picked among candidates. One table per question:

- payload: a model's throughput over threads', per implementation, payload workload,
  payload size and model, at the most workers both were measured at;
- task overhead: a pool's time per task on one worker over the same task's serial time
  (the inverse of its one-worker speedup); ``overhead_s`` turns it into seconds a task;
- task payoff: a pool's speedup over serial at its most workers;
- task threads: a pool's throughput over the thread pool's at the most workers.

``crossing`` reads a row per size as "from what size": the smallest size from which every
larger one is decided one way.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from typing import Any

import pandas as pd

from harness.compare.cells import Cells
from harness.compare.estimate import Cell, Terms, ratio
from harness.compare.rows import RATIO_COLUMNS, _table
from harness.results import records
from harness.run.sizes import PAYLOAD, TASK_SIZE, base_name, format_size, size_of

SWEEP_COLUMNS = ["impl", "workload", "variant", "size", "label", "model", "workers"]
THREADS = {PAYLOAD: "threads", TASK_SIZE: "threadpool"}  # what each sweep compares with


def _variants(cells: Cells, sweep: str) -> list[tuple[str, str, float]]:
    """(impl, variant, size) of every sized cell of one sweep, smallest size first; the
    size is read off the variant's name, which carries it (run/sizes.py)."""
    found = set()
    for impl, workload in cells.table[["impl", "workload"]].drop_duplicates().itertuples(
            index=False):  # fmt: skip
        sized = size_of(str(workload))
        if sized is not None and sized[0] == sweep:
            found.add((str(impl), str(workload), sized[1]))
    return sorted(found, key=lambda iws: (iws[0], base_name(iws[1]), iws[2]))


def _models(cells: Cells, impl: str, variant: str, skip: Collection[str]) -> list[str]:
    rows = cells.table[(cells.table["impl"] == impl) & (cells.table["workload"] == variant)]
    return [str(m) for m in rows["model"].drop_duplicates() if str(m) not in skip]


def _most_workers(cells: Cells, impl: str, variant: str, models: Sequence[str]) -> int | None:
    """The most workers at which every one of ``models`` has a measured cell."""
    counts = None
    for model in models:
        rows = cells.table[(cells.table["impl"] == impl) & (cells.table["workload"] == variant)
                           & (cells.table["model"] == model)]  # fmt: skip
        have = {int(n) for n in rows["workers"] if cells.ok((impl, variant, model, int(n)))}
        counts = have if counts is None else counts & have
    return max(counts) if counts else None


def _row(impl: str, variant: str, size: float, sweep: str, model: str,
         workers: int) -> dict[str, Any]:  # fmt: skip
    return {"impl": impl, "workload": base_name(variant), "variant": variant, "size": size,
            "label": format_size(size, sweep), "model": model, "workers": workers}  # fmt: skip


def compare_payload(cells: Cells) -> pd.DataFrame:
    """Each model's throughput over threads' at the same payload and workers."""
    rows: list[dict[str, Any]] = []
    terms: list[Terms | None] = []
    for impl, variant, size in _variants(cells, PAYLOAD):
        for model in _models(cells, impl, variant, ("serial", "threads")):
            workers = _most_workers(cells, impl, variant, [model, "threads"])
            if workers is None:
                continue
            rows.append(_row(impl, variant, size, PAYLOAD, model, workers))
            theirs, ours = (impl, variant, "threads", workers), (impl, variant, model, workers)
            terms.append(ratio(theirs, ours))
    return _table(cells, rows, terms, SWEEP_COLUMNS)


def compare_tasks(cells: Cells) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(overhead, payoff, threads): each pool's per-task cost on one worker, its speedup
    over serial at its most workers, and its throughput over the thread pool's there."""
    overhead: list[tuple[dict[str, Any], Terms | None]] = []
    payoff: list[tuple[dict[str, Any], Terms | None]] = []
    threads: list[tuple[dict[str, Any], Terms | None]] = []
    for impl, variant, size in _variants(cells, TASK_SIZE):
        for pool in _models(cells, impl, variant, ("serial",)):
            one: Cell = (impl, variant, pool, 1)
            if one in cells.speedup:
                overhead.append((_row(impl, variant, size, TASK_SIZE, pool, 1),
                                 cells.speedup[one] ** -1))  # fmt: skip
            most = _most_workers(cells, impl, variant, [pool])
            if most is not None and most > 1 and (impl, variant, pool, most) in cells.speedup:
                payoff.append((_row(impl, variant, size, TASK_SIZE, pool, most),
                               cells.speedup[(impl, variant, pool, most)]))  # fmt: skip
            rival = THREADS[TASK_SIZE]
            both = _most_workers(cells, impl, variant, [pool, rival])
            if pool != rival and both is not None:
                threads.append(
                    (
                        _row(impl, variant, size, TASK_SIZE, pool, both),
                        ratio((impl, variant, rival, both), (impl, variant, pool, both)),
                    )
                )
    table = _table(cells, [r for r, _ in overhead], [t for _, t in overhead], SWEEP_COLUMNS,
                   higher_is_better=False)  # fmt: skip
    return (
        _with_seconds(cells, table),
        _with_task(cells, _table(cells, [r for r, _ in payoff], [t for _, t in payoff],
                                 SWEEP_COLUMNS)),
        _with_task(cells, _table(cells, [r for r, _ in threads], [t for _, t in threads],
                                 SWEEP_COLUMNS)),
    )  # fmt: skip


def _with_task(cells: Cells, table: pd.DataFrame) -> pd.DataFrame:
    """``task_s``: a task's time on this implementation, its serial cell's round of one
    unit (a size names the work by CPython 3.14's time; a JIT runs it many times faster)."""
    serial = cells.table[(cells.table["model"] == "serial") & (cells.table["workers"] == 1)]
    keys = zip(serial["impl"].astype(str), serial["workload"].astype(str), strict=True)
    times = dict(zip(keys, serial["median_s"].astype(float), strict=True))
    pairs = zip(table["impl"].astype(str), table["variant"].astype(str), strict=True)
    found = [times.get(pair, math.nan) for pair in pairs]
    return table.assign(task_s=found)


OVERHEAD_COLUMNS = ["task_s", "overhead_s", "overhead_low_s", "overhead_high_s"]


def _with_seconds(cells: Cells, table: pd.DataFrame) -> pd.DataFrame:
    """The overhead in seconds a task: the serial task's time (the cell's paired baseline)
    times the ratio less one, and so at the ends of its interval."""
    baseline = {(str(r["impl"]), str(r["workload"]), str(r["model"]), int(r["workers"])):
                float(r["baseline_s"]) for r in records(cells.table)}  # fmt: skip
    out = records(table)
    for row in out:
        task = baseline.get((row["impl"], row["variant"], row["model"], 1), math.nan)
        row.update(task_s=task, overhead_s=task * (row["ratio"] - 1),
                   overhead_low_s=task * (row["ci_low"] - 1),
                   overhead_high_s=task * (row["ci_high"] - 1))  # fmt: skip
    return pd.DataFrame(out, columns=[*table.columns, *OVERHEAD_COLUMNS])


def crossing(rows: Sequence[dict[str, Any]], words: Collection[str]) -> tuple[
        dict[str, Any] | None, dict[str, Any] | None]:  # fmt: skip
    """Rows of one series, smallest size first -> (the first row of the longest run of
    largest sizes all decided one of ``words``, the row just below it); (None, the largest
    row) when the largest size isn't so decided."""
    if not rows:
        return None, None
    start = len(rows)
    while start > 0 and rows[start - 1]["decision"] in words:
        start -= 1
    if start == len(rows):
        return None, rows[-1]
    return rows[start], rows[start - 1] if start else None


__all__ = ["OVERHEAD_COLUMNS", "RATIO_COLUMNS", "SWEEP_COLUMNS", "compare_payload",
           "compare_tasks", "crossing"]  # fmt: skip
