"""The figures a history follows from run to run, taken from compare's figures for one
run. Pure.

Each row is one point of a series: a metric of one (implementation, workload, model,
workers) measured on one class of machine (machine.machine_class: CPU model, usable cores,
architecture), with the fingerprint of the machine's whole setup beside it. A series is
followed per class over the runs that class measured, consecutive or not: hosted runners
alternate between CPU models from night to night, and an image's new kernel or packages
are events (events.py), not a new series. The figures are compare's own, the very ones the
run's report states: the results table's speedup and serial throughput (``Cells``), and
the comparison's geometric mean of the free-threaded build's single-thread overhead
(``Comparison``). Nothing is estimated here a second time.

A mean over workloads carries its ``composition``, the workloads it is over: a night on
which one of them failed gives a mean over others, which is no point of the same line
(``segments`` starts a new segment there).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from harness.compare.cells import Cells, throughput_interval
from harness.compare.estimate import Terms, estimate_all, instructions
from harness.compare.verdicts import Comparison
from harness.machine import fingerprint, machine_class
from harness.results import shard_machines
from harness.run.plan import QUICK_TAG  # a category's headline workload: the one --quick runs

KEY = ["metric", "impl", "workload", "model", "workers"]
SERIES = [*KEY, "machine_class"]  # a series: a figure on one class of machine
CLASSES = " + "  # joins the classes of a mean whose workloads were measured on several
FIGURE_COLUMNS = [
    *KEY,
    "category",
    "headline",
    "machine_class",
    "fingerprint",
    "composition",  # a mean's workloads, sorted and comma-joined; "" for one cell's figure
    "value",
    "ci_low",
    "ci_high",
    "noisy",
]
# Which way is better, per metric: a regression is a move the other way.
HIGHER_IS_BETTER = {"speedup": True, "throughput": True, "overhead": False,
                    "instructions": False}  # fmt: skip
METRIC_LABELS = {
    "speedup": "speedup over its own serial run at 1 worker",
    "throughput": "serial throughput (units/s)",
    "overhead": "free-threaded build's time over the default build's, serial at 1 worker "
    "(geometric mean over workloads)",
    "instructions": "instructions per unit (serial at 1 worker, counted under cachegrind)",
}


def composition(points: pd.DataFrame) -> pd.Series:
    """Each point's ``composition``, "" where it has none: a cell's figure, or any figure of
    a history written before the column was (its means' workloads weren't recorded)."""
    if "composition" not in points:
        return pd.Series("", index=points.index, dtype=object)
    return points["composition"].fillna("").astype(str)


def machine_classes(points: pd.DataFrame) -> pd.Series:
    """Each point's ``machine_class``, "" where it has none (points made by hand: one class)."""
    if "machine_class" not in points:
        return pd.Series("", index=points.index, dtype=object)
    return points["machine_class"].fillna("").astype(str)


def segments(points: pd.DataFrame) -> pd.DataFrame:
    """``points`` in order of series (SERIES: a figure on one machine class) and run, with
    ``segment``: a number that grows, per series, wherever the composition (a mean's
    workloads) differs from the series' previous run's. A class's runs need not follow one
    another: the runs of other classes between them are other series. Nothing is compared,
    and no line drawn, across two series or two segments."""
    with_class = points.assign(machine_class=machine_classes(points))
    ordered = with_class.sort_values([*SERIES, "order"], kind="stable").reset_index(drop=True)
    keys = ordered[SERIES]
    starts = (keys != keys.shift()).any(axis=1)
    mix = composition(ordered)
    moved = starts | (mix != mix.shift())  # a mean over other workloads: not the same line
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


def cell_classes(manifest: dict[str, Any], table: pd.DataFrame) -> list[str]:
    """The class of the machine that measured each row of the results table."""
    found = {label: machine_class(m) for label, m in machines(manifest).items()}
    own = machine_class(manifest["machine"])
    return [found.get(str(label), own) for label in table["machine"]]


def point_classes(manifest: dict[str, Any], figures: pd.DataFrame) -> pd.Series:
    """Each point's machine class: as recorded, or for a run added before classes were,
    from the machine whose fingerprint the point carries (a mean's, from each of its
    machines'); a fingerprint no machine of the run has (its record edited since) reads as
    the run's one class if it has one, else "unknown"."""
    if "machine_class" in figures and figures["machine_class"].notna().all():
        return figures["machine_class"].astype(str)
    by_print = {fingerprint(m): machine_class(m) for m in machines(manifest).values()}
    only = set(by_print.values())
    fallback = only.pop() if len(only) == 1 else "unknown"

    def derive(prints: str) -> str:
        return CLASSES.join(sorted({by_print.get(p, fallback) for p in prints.split("+")}))

    return figures["fingerprint"].astype(str).map(derive)


def run_figures(manifest: dict[str, Any], cells: Cells, comparison: Comparison) -> pd.DataFrame:
    """Every point a run adds to the history's series, from its results table (``cells``)
    and its comparison."""
    summary = cells.table.assign(
        fingerprint=cell_fingerprints(manifest, cells.table),
        machine_class=cell_classes(manifest, cells.table),
    )
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
    frames = [speedup, throughput, _overhead(comparison, ok), _instructions(cells, serial)]
    table = pd.concat([f[FIGURE_COLUMNS] for f in frames if len(f)], ignore_index=True)
    return table.reindex(columns=FIGURE_COLUMNS).astype(
        {"workers": int, "value": float, "ci_low": float, "ci_high": float}
    )


def _instructions(cells: Cells, serial: pd.DataFrame) -> pd.DataFrame:
    """Each counted serial cell's instructions per unit, with the 95% interval of its
    count over its repeats (history/instructions.py reads the noise from it)."""
    counted = serial[serial["instructions"].notna()]
    keys = [(str(i), str(w), str(m), int(n)) for i, w, m, n in zip(
        counted["impl"], counted["workload"], counted["model"], counted["workers"],
        strict=True)]  # fmt: skip
    found = estimate_all([Terms.of([(instructions(k), 1.0)]) for k in keys], cells.samples)
    return counted.assign(
        metric="instructions",
        value=[e.value for e in found],
        ci_low=[e.low for e in found],
        ci_high=[e.high for e in found],
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
                "machine_class": CLASSES.join(sorted(set(pair["machine_class"]))),
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
