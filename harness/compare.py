"""Statistics over a run's tidy tables, one row per cell. Pure: tables in, tables out.

A cell is one implementation x workload x model x worker count. Each gets its median and
95% confidence interval, its speedup and parallel efficiency against the same
implementation's serial units (timed beside the cell's own values where the run paired
them, else the serial run on one worker), its throughput against the reference
implementation at the same model and worker count with a significance verdict, and a flag
when its spread is too wide to support a conclusion.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from harness.intervals import median_cis, ratio_estimates
from harness.results import Run

CELL = ["impl", "workload", "model", "workers"]
SUMMARY_COLUMNS = [
    "impl", "gil_enabled", "workload", "category", "model", "workers", "oversubscribed",
    "status", "detail", "n", "median_s", "ci_low_s", "ci_high_s", "throughput", "baseline_s",
    "paired", "speedup", "speedup_ci_low", "speedup_ci_high", "speedup_note", "efficiency",
    "worker_spread", "vs_ref", "vs_ref_ci_low", "vs_ref_ci_high", "vs_ref_verdict", "spread",
    "flag", "cpu_count", "checksum", "updates", "lost_updates",
]  # fmt: skip
# A 95% interval wider than this share of its median (+-12.5%) can't tell apart the
# effects the report exists to find: the free-threaded build's 5-15% single-thread cost,
# or a second thread that adds a quarter of a core.
WIDE_CI = 0.25
NOT_FAILURES = frozenset({"ok", "unsupported", "unavailable"})


@dataclass(frozen=True)
class Roles:
    """Which implementations the comparisons are made against, found from the data."""

    reference: str | None  # every other implementation is measured against this one
    free_threaded: str | None  # a free-threaded build with the GIL off (``X.Yt``)
    default: str | None  # the default build of the same version (``X.Y``)


def find_roles(manifest: Mapping[str, Any]) -> Roles:
    """Pair a free-threaded build with its default build; neither is assumed to exist.

    The pair is found by id (``X.Yt`` with ``X.Y``) or, failing that, by the provenance
    (same family and version, one built free-threaded): ids are data, not constants.
    """
    impls = [i for i in manifest.get("impls", []) if not i.get("unavailable")]
    for ft in impls:
        prov_ft = ft.get("provenance") or {}
        if ft.get("expect_gil") != 0 or not (
            prov_ft.get("free_threaded") or re.fullmatch(r"\d+\.\d+t", str(ft["id"]))
        ):
            continue
        base = str(ft["id"])[:-1] if str(ft["id"]).endswith("t") else None
        for default in impls:
            prov = default.get("provenance") or {}
            same_build = (
                default.get("family") == ft.get("family")
                and prov.get("version") == prov_ft.get("version") is not None
                and prov.get("free_threaded") is False
            )
            if default.get("expect_gil") == 1 and (default["id"] == base or same_build):
                return Roles(str(default["id"]), str(ft["id"]), str(default["id"]))
    reference = str(impls[0]["id"]) if impls else None
    return Roles(reference, None, None)


def cell_samples(values: pd.DataFrame) -> dict[tuple[Any, ...], np.ndarray]:
    """Every measured cell's values (seconds for one round), keyed by ``CELL``."""
    grouped = values.groupby(CELL, sort=False)["seconds"]
    return {key: group.to_numpy(dtype=float) for key, group in grouped}


def format_flag(n: int, low: float, median: float, high: float) -> str:
    """Why a measured cell can't support a conclusion, or "" when it can."""
    if np.isnan(low) or np.isnan(high):
        return f"too few values for a 95% interval (n={n})"
    width = (high - low) / median
    if width > WIDE_CI:
        return f"wide spread: the 95% interval spans {width:.0%} of the median"
    return ""


def summarize(run: Run) -> pd.DataFrame:
    """One row per implementation x workload x model x workers, with status and statistics."""
    samples = cell_samples(run.values)
    table = _planned_cells(run).merge(
        _cell_stats(run.values, samples), on=CELL, how="left", suffixes=("", "_measured")
    )
    # What was measured wins over what was promised (they differ only for failed cells).
    for column in ("gil_enabled", "oversubscribed", "cpu_count"):
        table[column] = table.pop(f"{column}_measured").combine_first(table[column])
    table["n"] = table["n"].fillna(0).astype(int)
    silent = (table["status"] == "ok") & (table["n"] == 0)
    table.loc[silent, ["status", "detail"]] = ["missing", "the runner wrote no values"]
    table["throughput"] = table["workers"] / table["median_s"]
    ok = table["status"] == "ok"
    table["spread"] = (table["ci_high_s"] - table["ci_low_s"]) / table["median_s"]
    table["flag"] = [
        format_flag(n, low, mid, high) if good else ""
        for good, n, low, mid, high in zip(
            ok, table["n"], table["ci_low_s"], table["median_s"], table["ci_high_s"], strict=True
        )
    ]
    _add_speedups(table, samples, paired_samples(run.values, run.paired))
    _note_superlinear(table)
    _add_worker_spreads(table, run.paired)
    _add_reference_ratios(table, samples, find_roles(run.manifest).reference)
    return table[SUMMARY_COLUMNS].reset_index(drop=True)


def _add_worker_spreads(table: pd.DataFrame, paired: pd.DataFrame) -> None:
    """``worker_spread``: the median over a cell's values of slowest / quickest worker.

    A round ends when its slowest worker does. Workers given equal work on equal CPUs
    finish together (1.0); a CPU the host slowed, or a lock that favours one thread, shows
    here as a spread above 1, and explains a speedup short of W that the model itself
    doesn't cause. NaN where the model has no parallel workers (serial, asyncio).
    """
    spreads = paired.dropna(subset=["worker_spread"]).groupby(CELL)["worker_spread"].median()
    found = spreads.to_dict()  # CELL tuple -> median spread
    ok = table["status"] == "ok"
    table["worker_spread"] = [
        found.get(key, np.nan) if good else np.nan
        for key, good in zip(_keys(table), ok, strict=True)
    ]


def _note_superlinear(table: pd.DataFrame) -> None:
    """Note a speedup surely above its worker count: its two sides ran under unlike conditions.

    W workers can't do more than W times the work of one. When the interval's low end
    is above W, the workers ran units faster than the serial baseline did (on this
    project's VM, the free-threaded build's int_lists ran a unit in 73 ms in a processes
    worker and in 88 ms in the benchmark process, and read 2.46x at 2 processes; the
    allocator's state is the likely cause, not proven). The cell's own times stand; its
    speedup is no measure of parallelism, and ``speedup_note`` says so.
    """
    ok = table["status"] == "ok"
    superlinear = ok & (table["speedup_ci_low"] > table["workers"])
    table["speedup_note"] = ""
    table.loc[superlinear, "speedup_note"] = [
        f"superlinear: above {workers} (95% interval from {low:.2f}x); the workers ran "
        "units faster than the serial baseline did"
        for workers, low in zip(
            table.loc[superlinear, "workers"], table.loc[superlinear, "speedup_ci_low"], strict=True
        )
    ]


def _keys(frame: pd.DataFrame) -> list[tuple[Any, ...]]:
    return list(frame[CELL].itertuples(index=False, name=None))


def _bootstrap_into(
    table: pd.DataFrame,
    mask: pd.Series,
    pairs: Sequence[tuple[tuple[Any, ...], tuple[Any, ...]]],
    samples: Mapping[tuple[Any, ...], np.ndarray],
    columns: Sequence[str],
) -> None:
    """Fill ``columns`` of the masked rows with median(num) / median(den) and its CI."""
    usable = [i for i, (num, den) in enumerate(pairs) if num in samples and den in samples]
    estimates = np.full((len(pairs), 3), np.nan)
    if usable:
        estimates[usable] = ratio_estimates(
            [samples[pairs[i][0]] for i in usable], [samples[pairs[i][1]] for i in usable]
        )
    table.loc[mask, list(columns)] = estimates


def _tokened(frame: pd.DataFrame) -> pd.Series:
    tokens = frame["pairing"]
    return tokens.notna() & (tokens.astype(str) != "")


def paired_samples(values: pd.DataFrame, paired: pd.DataFrame) -> dict[tuple[Any, ...], np.ndarray]:
    """Each cell's (round, serial unit) pairs: a value and the units timed right after it.

    A value and its units share the worker process's ``pairing`` token and the value's
    index within that process's run. Values without units (runs from before tokens, or a
    pyperf script) join nothing. Returns arrays of shape (pairs, 2), keyed by ``CELL``.
    """
    keys = [*CELL, "pairing", "value"]
    rounds = values.loc[_tokened(values), [*keys, "seconds"]].astype({"pairing": str})
    units = paired.loc[_tokened(paired), [*keys, "seconds"]].astype({"pairing": str})
    joined = rounds.merge(units, on=keys, suffixes=("_round", "_unit"))
    grouped = joined.groupby(CELL, sort=False)[["seconds_round", "seconds_unit"]]
    return {key: group.to_numpy(dtype=float) for key, group in grouped}


def _add_speedups(
    table: pd.DataFrame,
    samples: Mapping[tuple[Any, ...], np.ndarray],
    pairs: Mapping[tuple[Any, ...], np.ndarray],
) -> None:
    """Speedup: throughput against serial units of the same implementation and workload.

    Where the cell's worker processes timed serial units right after each value
    (gbcore.Pairing), each value gets its own ratio, W x unit / round, and the speedup is
    the median of those ratios, with its order-statistic 95% interval: both sides of every
    ratio come from the same moment, so a machine whose speed drifts, even within one
    cell, can't tilt it. Otherwise (the baseline cell itself, a run from before pairing)
    it is W x median(serial 1-worker cell) / median(cell), with a bootstrap interval.
    ``baseline_s`` is the median serial unit used, ``paired`` says which kind it was.
    """
    is_base = (table["model"] == "serial") & (table["workers"] == 1)
    ok = table["status"] == "ok"
    paired_mask = (
        pd.Series([key in pairs for key in _keys(table)], index=table.index, dtype=bool)
        & ~is_base
        & ok
    )
    table["paired"] = paired_mask
    base_keys = [(impl, workload, "serial", 1) for impl, workload, *_ in _keys(table)]
    table["baseline_s"] = [
        float(np.median(pairs[key][:, 1])) if paired
        else float(np.median(samples[base])) if base in samples
        else np.nan
        for key, base, paired in zip(_keys(table), base_keys, paired_mask, strict=True)
    ]  # fmt: skip
    table["speedup"] = table["workers"] * table["baseline_s"] / table["median_s"]
    for column in ("speedup_ci_low", "speedup_ci_high"):
        table[column] = np.nan
    if paired_mask.any():
        keys = _keys(table[paired_mask])
        ratios = [pairs[key][:, 1] / pairs[key][:, 0] for key in keys]
        stats = median_cis(ratios) * table.loc[paired_mask, "workers"].to_numpy()[:, None]
        table.loc[paired_mask, ["speedup", "speedup_ci_low", "speedup_ci_high"]] = stats
    mask = ok & ~is_base & ~paired_mask
    fallback = [
        (base, key)
        for base, key, m in zip(base_keys, _keys(table), mask, strict=True)
        if m
    ]  # fmt: skip
    columns = ["speedup_bootstrap", "speedup_ci_low", "speedup_ci_high"]
    table["speedup_bootstrap"] = np.nan
    _bootstrap_into(table, mask, fallback, samples, columns)
    table.loc[mask, "speedup_ci_low"] *= table.loc[mask, "workers"]
    table.loc[mask, "speedup_ci_high"] *= table.loc[mask, "workers"]
    del table["speedup_bootstrap"]
    table["efficiency"] = table["speedup"] / table["workers"]


def _add_reference_ratios(
    table: pd.DataFrame, samples: Mapping[tuple[Any, ...], np.ndarray], reference: str | None
) -> None:
    """Throughput against the reference implementation, same workload, model and workers."""
    for column in ("vs_ref", "vs_ref_ci_low", "vs_ref_ci_high"):
        table[column] = np.nan
    table["vs_ref_verdict"] = ""
    mask = (table["status"] == "ok") & (table["impl"] != reference)
    pairs = [((reference, w, m, n), (i, w, m, n)) for i, w, m, n in _keys(table[mask])]
    _bootstrap_into(table, mask, pairs, samples, ["vs_ref", "vs_ref_ci_low", "vs_ref_ci_high"])
    flags = table.set_index(CELL)["flag"]
    ref_keys = pd.MultiIndex.from_tuples([p[0] for p in pairs], names=CELL)
    ref_flag = flags.reindex(ref_keys).fillna("").to_numpy() if pairs else np.array([])
    verdicts = np.select(
        [
            (table.loc[mask, "flag"].to_numpy() != "") | (ref_flag != ""),
            table.loc[mask, "vs_ref_ci_low"].to_numpy() > 1,
            table.loc[mask, "vs_ref_ci_high"].to_numpy() < 1,
            table.loc[mask, "vs_ref"].isna().to_numpy(),
        ],
        ["too noisy", "faster", "slower", ""],
        default="no clear difference",
    )
    table.loc[mask, "vs_ref_verdict"] = verdicts


def _cell_stats(
    values: pd.DataFrame, samples: Mapping[tuple[Any, ...], np.ndarray]
) -> pd.DataFrame:
    """Median, its confidence interval and the recorded facts of every measured cell."""
    first = values.drop_duplicates(subset=CELL, keep="first").set_index(CELL)
    keys = list(samples)
    facts = first.reindex(pd.MultiIndex.from_tuples(keys, names=CELL) if keys else first.index)
    stats = median_cis([samples[k] for k in keys]).reshape(-1, 3)
    table = pd.DataFrame(
        {
            "gil_enabled": facts["gil_enabled"].astype(int).to_numpy(),
            "oversubscribed": facts["oversubscribed"].astype(bool).to_numpy(),
            "cpu_count": facts["cpu_count"].astype(int).to_numpy(),
            "checksum": facts["checksum"].astype(str).to_numpy(),
            # shared-state workloads only: updates made and lost over every run of the cell
            "updates": facts["updates"].to_numpy(),
            "lost_updates": facts["lost_updates"].to_numpy(),
            "n": [len(samples[k]) for k in keys],
            "median_s": stats[:, 0],
            "ci_low_s": stats[:, 1],
            "ci_high_s": stats[:, 2],
        },
        index=facts.index,
    )
    return table.reset_index()


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
    # The cells the run planned: those attempted, else (nothing ran) the whole selection.
    planned = sorted({tuple(c) for c in outcomes[CELL[1:]].itertuples(index=False)}) or [
        (workload, model, workers)
        for workload in workload_meta
        for model in selection.get("models", [])
        for workers in selection.get("workers", [])
    ]
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
        for workload, model, workers in planned
    ]
    rows = pd.concat([rows, pd.DataFrame(extra, columns=rows.columns)], ignore_index=True)
    rows["workers"] = rows["workers"].astype(int)
    rows["category"] = rows["workload"].map(lambda w: workload_meta.get(w, {}).get("category", ""))
    rows["gil_enabled"] = rows["impl"].map(lambda i: impls.get(i, {}).get("expect_gil"))
    rows["oversubscribed"] = rows["workers"] > int(
        run.manifest.get("machine", {}).get("cpu_count", 1)
    )
    rows["cpu_count"] = run.manifest.get("machine", {}).get("cpu_count")
    rows["detail"] = rows["detail"].fillna("").astype(str)
    return rows
