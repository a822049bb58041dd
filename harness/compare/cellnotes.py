"""Notes a results table carries beside its figures: a superlinear speedup, how far apart
a cell's workers finished, and the instruction counts of serial cells. Pure."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from harness.compare.estimate import Cell
from harness.results import CELL


def _key(row: Any) -> Cell:
    impl, workload, model, workers = row
    return (str(impl), str(workload), str(model), int(str(workers)))


def _keys(frame: pd.DataFrame) -> list[Cell]:
    return [_key(r) for r in frame[CELL].itertuples(index=False, name=None)]


def note_superlinear(table: pd.DataFrame) -> None:
    """Note a speedup surely above its worker count: its two sides ran under unlike conditions.

    W workers can't do more than W times the work of one. When the interval's low end
    is above W, the workers ran units faster than the serial baseline did (on this
    project's VM, the free-threaded build's int_lists ran a unit in 73 ms in a processes
    worker and in 88 ms in the benchmark process, and read 2.46x at 2 processes; the
    allocator's state is the likely cause, not proven). The cell's own times stand; its
    speedup is no measure of parallelism, and ``speedup_note`` says so.
    """
    superlinear = table["speedup_ci_low"] > table["workers"]
    table["speedup_note"] = ""
    table.loc[superlinear, "speedup_note"] = [
        f"superlinear: above {workers} (95% interval from {low:.2f}x); the workers ran "
        "units faster than the serial baseline did"
        for workers, low in zip(
            table.loc[superlinear, "workers"], table.loc[superlinear, "speedup_ci_low"], strict=True
        )
    ]


def add_worker_spreads(table: pd.DataFrame, paired: pd.DataFrame) -> None:
    """``worker_spread``: the median over a cell's values of slowest / quickest worker.

    A round ends when its slowest worker does. Workers given equal work on equal CPUs
    finish together (1.0); a CPU the host slowed, or a lock that favours one thread, shows
    here as a spread above 1, and explains a speedup short of W that the model itself
    doesn't cause. NaN where the model has no parallel workers (serial, asyncio).
    """
    spreads = paired.dropna(subset=["worker_spread"]).groupby(CELL)["worker_spread"].median()
    found = {_key(k): v for k, v in spreads.items()}
    ok = table["status"] == "ok"
    table["worker_spread"] = [
        found.get(key, np.nan) if good else np.nan
        for key, good in zip(_keys(table), ok, strict=True)
    ]


def add_counts(table: pd.DataFrame, counts: pd.DataFrame) -> None:
    """``instructions``: a serial cell's mean instructions per unit over its count's
    repeats, ``instructions_cv`` their coefficient of variation; ``counted``: "ok", or why
    the cell has no count ("not counted: ...", a failure); "" where nothing was asked."""
    ok = counts[(counts["status"] == "ok") & (counts["per_unit"] > 0)]
    stats_ = ok.groupby(CELL)["per_unit"].agg(["mean", "std", "size"])
    found = {_key(k): (float(r["mean"]), float(r["std"]) / float(r["mean"])
                       if r["size"] > 1 else math.nan)
             for k, r in stats_.iterrows()}  # fmt: skip
    notes = {_key(k): f"{r['status']}: {r['detail']}" if r["detail"] else str(r["status"])
             for k, r in counts[counts["status"] != "ok"].set_index(CELL).iterrows()}  # fmt: skip
    keys = _keys(table)
    table["instructions"] = [found.get(k, (math.nan, math.nan))[0] for k in keys]
    table["instructions_cv"] = [found.get(k, (math.nan, math.nan))[1] for k in keys]
    table["counted"] = ["ok" if k in found else notes.get(k, "") for k in keys]


def with_counts(values: pd.DataFrame, table: pd.DataFrame) -> pd.DataFrame:
    """``values`` (values.parquet: one row per measured value) with their cell's
    ``instructions`` and ``instructions_cv`` from the results ``table`` (``add_counts``):
    a serial cell's count beside each of its timed values, NaN elsewhere."""
    counted = table[[*CELL, "instructions", "instructions_cv"]]
    merged = values.drop(columns=["instructions", "instructions_cv"], errors="ignore").merge(
        counted, on=CELL, how="left"
    )
    merged.index = values.index
    return merged
