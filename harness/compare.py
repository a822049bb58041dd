"""Statistics over a run's tidy tables. Pure: tables in, tables out, nothing written."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from harness.results import Run

CELL = ["impl", "workload", "model", "workers"]
CONFIDENCE = 0.95
SUMMARY_COLUMNS = [
    "impl", "gil_enabled", "workload", "category", "model", "workers", "oversubscribed",
    "status", "detail", "n", "median_s", "ci_low_s", "ci_high_s", "throughput", "speedup",
    "efficiency", "cpu_count", "checksum",
]  # fmt: skip


def median_ci(values: np.ndarray, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Distribution-free confidence interval of the median, from order statistics.

    Timing values are skewed (a slow outlier, never a fast one), so no normal
    approximation; the binomial order-statistic interval needs no assumption and no
    random resampling, which keeps reports reproducible.
    """
    if len(values) < 2:
        return (math.nan, math.nan)
    result = stats.quantile_test(values, q=float(np.median(values)), p=0.5)
    ci: Any = result.confidence_interval(confidence_level=confidence)  # (low, high) namedtuple
    return (float(ci.low), float(ci.high))


def summarize(run: Run) -> pd.DataFrame:
    """One row per implementation x workload x model x workers, with status and statistics."""
    table = _planned_cells(run).merge(
        _cell_stats(run.values), on=CELL, how="left", suffixes=("", "_measured")
    )
    # What was measured wins over what was promised (they differ only for failed cells).
    for column in ("gil_enabled", "oversubscribed", "cpu_count"):
        table[column] = table.pop(f"{column}_measured").combine_first(table[column])
    table["n"] = table["n"].fillna(0).astype(int)
    silent = (table["status"] == "ok") & (table["n"] == 0)
    table.loc[silent, ["status", "detail"]] = ["missing", "the runner wrote no values"]
    table["throughput"] = table["workers"] / table["median_s"]
    baseline = table[(table["model"] == "serial") & (table["workers"] == 1)]
    base = baseline.set_index(["impl", "workload"])["throughput"]
    keys = pd.MultiIndex.from_frame(table[["impl", "workload"]])
    table["speedup"] = table["throughput"].to_numpy() / base.reindex(keys).to_numpy()
    table["efficiency"] = table["speedup"] / table["workers"]
    return table[SUMMARY_COLUMNS].reset_index(drop=True)


def _cell_stats(values: pd.DataFrame) -> pd.DataFrame:
    """Median, its confidence interval and the recorded facts of every measured cell."""
    rows = []
    for key, group in values.groupby(CELL, sort=False):
        seconds = group["seconds"].to_numpy()
        low, high = median_ci(seconds)
        first = group.iloc[0]
        rows.append(
            (*key, int(first["gil_enabled"]), bool(first["oversubscribed"]),
             int(first["cpu_count"]), str(first["checksum"]), len(seconds),
             float(np.median(seconds)), low, high)
        )  # fmt: skip
    columns = [*CELL, "gil_enabled", "oversubscribed", "cpu_count", "checksum", "n",
               "median_s", "ci_low_s", "ci_high_s"]  # fmt: skip
    return pd.DataFrame(rows, columns=columns)


def _planned_cells(run: Run) -> pd.DataFrame:
    """Every cell the run set out to measure, with its recorded status.

    Unavailable implementations get a row per selected cell, so that a missing row is
    never mistaken for a missing measurement.
    """
    outcomes = run.outcomes.drop_duplicates(subset=CELL, keep="last")
    rows = outcomes[[*CELL, "status", "detail"]].copy()
    impls = {i["id"]: i for i in run.manifest.get("impls", [])}
    selection = run.manifest.get("selection", {})
    workload_meta = {w["name"]: w for w in run.manifest.get("workloads", [])}
    extra = [
        {
            "impl": impl_id,
            "workload": workload,
            "model": model,
            "workers": workers,
            "status": "unavailable",
            "detail": info.get("unavailable", ""),
        }
        for impl_id, info in impls.items()
        if info.get("unavailable")
        for workload in workload_meta
        for model in selection.get("models", [])
        for workers in selection.get("workers", [])
    ]
    rows = pd.concat([rows, pd.DataFrame(extra, columns=rows.columns)], ignore_index=True)
    rows["workers"] = rows["workers"].astype(int)
    rows["category"] = rows["workload"].map(lambda w: workload_meta.get(w, {}).get("category", ""))
    rows["gil_enabled"] = rows["impl"].map(lambda i: impls.get(i, {}).get("expect_gil"))
    rows["oversubscribed"] = rows["workers"] > int(
        run.manifest.get("machine", {}).get("cpu_count", 1)
    )
    rows["cpu_count"] = run.manifest.get("machine", {}).get("cpu_count")
    return rows
