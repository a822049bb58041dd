"""The figures a history follows from run to run, taken from compare's figures for one
run. Pure.

Each row is one point of a series: a metric of one (implementation, workload, model,
workers) measured on one machine, named by its fingerprint (machine.fingerprint). The
figures are compare's own, the very ones the run's report states: the results table's
speedup and serial throughput (``Cells``), and the comparison's geometric mean of the
free-threaded build's single-thread overhead (``Comparison``). Nothing is estimated here a
second time.

A mean over workloads carries its ``composition``, the workloads it is over: a night on
which one of them failed gives a mean over others, which is no point of the same line
(changes.segments starts a new segment there, as it does for another machine).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from harness.compare.cells import Cells, throughput_interval
from harness.compare.verdicts import Comparison
from harness.machine import fingerprint
from harness.results import shard_machines
from harness.run.plan import QUICK_TAG  # a category's headline workload: the one --quick runs

KEY = ["metric", "impl", "workload", "model", "workers"]
FIGURE_COLUMNS = [
    *KEY,
    "category",
    "headline",
    "fingerprint",
    "composition",  # a mean's workloads, sorted and comma-joined; "" for one cell's figure
    "value",
    "ci_low",
    "ci_high",
    "noisy",
]
# Which way is better, per metric: a regression is a move the other way.
HIGHER_IS_BETTER = {"speedup": True, "throughput": True, "overhead": False}
METRIC_LABELS = {
    "speedup": "speedup over its own serial run at 1 worker",
    "throughput": "serial throughput (units/s)",
    "overhead": "free-threaded build's time over the default build's, serial at 1 worker "
    "(geometric mean over workloads)",
}


def composition(points: pd.DataFrame) -> pd.Series:
    """Each point's ``composition``, "" where it has none: a cell's figure, or any figure of
    a history written before the column was (its means' workloads weren't recorded)."""
    if "composition" not in points:
        return pd.Series("", index=points.index, dtype=object)
    return points["composition"].fillna("").astype(str)


def segments(points: pd.DataFrame) -> pd.DataFrame:
    """``points`` in run order, with ``segment``: a number that grows, per series, wherever
    the fingerprint or the composition (a mean's workloads) differs from the previous run's.
    Nothing is compared, and no line drawn, across two segments."""
    ordered = points.sort_values([*KEY, "order"], kind="stable").reset_index(drop=True)
    keys = ordered[KEY]
    starts = (keys != keys.shift()).any(axis=1)
    moved = starts | (ordered["fingerprint"] != ordered["fingerprint"].shift())
    mix = composition(ordered)
    moved |= mix != mix.shift()  # a mean over other workloads is no point of the same line
    return ordered.assign(segment=moved.astype(int).groupby(starts.cumsum()).cumsum())


def machines(manifest: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The machines that measured a run's cells, by the label its cells carry: each shard's
    (``K/N``) in a merged run, the run's own ("") otherwise."""
    return shard_machines(manifest) or {"": manifest["machine"]}


def cell_fingerprints(manifest: dict[str, Any], table: pd.DataFrame) -> list[str]:
    """The fingerprint of the machine that measured each row of the results table."""
    found = {label: fingerprint(m) for label, m in machines(manifest).items()}
    own = fingerprint(manifest["machine"])
    return [found.get(str(label), own) for label in table["machine"]]


def run_figures(manifest: dict[str, Any], cells: Cells, comparison: Comparison) -> pd.DataFrame:
    """Every point a run adds to the history's series, from its results table (``cells``)
    and its comparison."""
    summary = cells.table.assign(fingerprint=cell_fingerprints(manifest, cells.table))
    headline = {str(w["name"]) for w in manifest["workloads"] if QUICK_TAG in w.get("tags", [])}
    ok = summary[summary["status"] == "ok"].copy()
    ok["headline"] = ok["workload"].map(lambda w: str(w).split(":", 1)[0] in headline)
    ok["noisy"] = ok["flag"].fillna("").astype(str) != ""
    ok["composition"] = ""
    parallel = ok[(ok["model"] != "serial") & ok["speedup"].notna()]
    speedup = parallel.assign(
        metric="speedup",
        value=parallel["speedup"],
        ci_low=parallel["speedup_ci_low"],
        ci_high=parallel["speedup_ci_high"],
    )
    serial = ok[(ok["model"] == "serial") & (ok["workers"] == 1)]
    low, high = throughput_interval(serial)
    throughput = serial.assign(
        metric="throughput", value=serial["throughput"], ci_low=low, ci_high=high
    )
    frames = [speedup, throughput, _overhead(comparison, ok)]
    table = pd.concat([f[FIGURE_COLUMNS] for f in frames if len(f)], ignore_index=True)
    return table.reindex(columns=FIGURE_COLUMNS).astype(
        {"workers": int, "value": float, "ci_low": float, "ci_high": float}
    )


def _overhead(comparison: Comparison, ok: pd.DataFrame) -> pd.DataFrame:
    """The comparison's geometric mean row of the free-threaded build's overhead."""
    overhead, roles = comparison.overhead, comparison.roles
    mean = overhead[overhead["workload"] == ""]
    if mean.empty or roles.free_threaded is None or roles.default is None:
        return pd.DataFrame(columns=FIGURE_COLUMNS)
    pair = ok[ok["impl"].isin([roles.free_threaded, roles.default]) & (ok["model"] == "serial")]
    row = mean.iloc[0]
    workloads = sorted(str(w) for w in overhead.loc[overhead["workload"] != "", "workload"])
    return pd.DataFrame(
        [
            {
                "metric": "overhead",
                "impl": roles.free_threaded,
                "workload": "geomean",
                "model": "serial",
                "workers": 1,
                "category": "",
                "headline": True,
                # the machines its workloads were measured on: one, unless shards differed
                "fingerprint": "+".join(sorted(set(pair["fingerprint"]))),
                "composition": ",".join(workloads),
                "value": row["ratio"],
                "ci_low": row["ci_low"],
                "ci_high": row["ci_high"],
                # its cells with a wide raw interval (information, never a gate), kept under
                # the history's column name
                "noisy": bool(row["wide"]),
            }
        ],
        columns=FIGURE_COLUMNS,
    )
