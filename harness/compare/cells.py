"""Statistics per cell: the results table, and the terms every other figure is built from. Pure.

A cell is one implementation x workload x model x worker count. Each measured cell gets
its median round time and 95% interval, a flag when that interval is too wide to support
a conclusion, its speedup against the same implementation's serial units (paired where
the run timed them beside each value), and its throughput against the reference
implementation at the same model and workers. Both ratios are ``Terms`` (estimate.py),
kept with the samples they rest on, so that the comparisons estimate every other figure
from the very same numbers.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from harness.compare.cellnotes import add_counts, add_worker_spreads, note_superlinear
from harness.compare.decisions import MARGIN, UNDECIDED, Levels, decide
from harness.compare.estimate import (
    Cell,
    Estimate,
    SampleKey,
    Samples,
    Terms,
    estimate_all,
    instructions,
    ratio,
    ratios,
    seconds,
    units,
)
from harness.compare.intervals import Sample
from harness.compare.precision import DEFAULT_PRECISION, met_column, precision_column, target_of
from harness.compare.roles import Roles, find_roles
from harness.results import CELL, Run, usable_cpus

SUMMARY_COLUMNS = [
    "impl", "gil_enabled", "workload", "category", "model", "workers", "oversubscribed",
    "status", "detail", "n", "processes", "median_s", "ci_low_s", "ci_high_s", "throughput",
    "baseline_s",
    "paired", "speedup", "speedup_ci_low", "speedup_ci_high", "speedup_level", "speedup_note",
    "efficiency", "worker_spread", "vs_ref", "vs_ref_ci_low", "vs_ref_ci_high", "vs_ref_level",
    "vs_ref_verdict", "vs_ref_q",
    "spread", "flag", "precision", "precise", "cpu_count", "checksum", "updates", "lost_updates",
    "machine", "instructions", "instructions_cv", "counted",
]  # fmt: skip
FDR = 0.05  # the false discovery rate the run's per-cell verdicts are held to
# A 95% interval wider than this share of its median (+-12.5%) can't tell apart the
# effects the report exists to find: the free-threaded build's 5-15% single-thread cost,
# or a second thread that adds a quarter of a core.
WIDE_CI = 0.25


@dataclass(frozen=True)
class Cells:
    """The results table, with the samples and terms behind its figures."""

    table: pd.DataFrame  # SUMMARY_COLUMNS, one row per planned cell
    samples: Samples
    speedup: Mapping[Cell, Terms]  # every measured cell with a baseline
    vs_ref: Mapping[Cell, Terms]  # every measured cell with a measured reference cell
    roles: Roles
    flags: dict[Cell, str]  # measured cells: what to know of their raw intervals, or ""
    levels: Levels = field(default_factory=Levels)  # 95%, or spent over a run's looks
    cpus: int = 0  # the CPUs the run's processes could use (its affinity); 0: unknown

    def ok(self, cell: Cell) -> bool:
        return cell in self.flags

    def wide(self, terms: Terms) -> str:
        """The flagged cells among those ``terms`` rest on, as ``impl workload/model/workers``:
        information beside a figure, never a gate on it."""
        flagged = [c for c in terms.cells if self.flags.get(c)]
        return "; ".join(f"{i} {w}/{m}/{n}" for i, w, m, n in flagged)

    def estimate(self, terms: list[Terms], share: float = 1.0) -> list[Estimate]:
        """Each figure with its interval at the run's level (``levels``); ``share``: of the
        error rate, for one of several intervals held simultaneously."""
        return estimate_all(terms, self.samples,
                            lambda last: self.levels.confidence(last, share))  # fmt: skip

    @functools.cached_property
    def figures(self) -> dict[str, dict[Cell, float]]:
        """The measured cells' speedup and throughput, by cell: what models are ranked by."""
        keys = _keys(self.table)
        return {
            column: {c: float(v) for c, v in zip(keys, self.table[column], strict=True)
                     if c in self.flags}
            for column in ("speedup", "throughput")
        }  # fmt: skip


def _key(row: Any) -> Cell:
    return (str(row[0]), str(row[1]), str(row[2]), int(row[3]))


def _keys(frame: pd.DataFrame) -> list[Cell]:
    return [_key(r) for r in frame[CELL].itertuples(index=False, name=None)]


def throughput_interval(rows: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """Units per second at the ends of the round time's 95% interval: W / seconds, as the
    throughput is W / median_s."""
    return rows["workers"] / rows["ci_high_s"], rows["workers"] / rows["ci_low_s"]


def format_flag(processes: int, low: float, median: float, high: float) -> str:
    """Why a measured cell can't support a conclusion, or "" when it can."""
    if np.isnan(low) or np.isnan(high):
        return f"too few processes for a 95% interval ({processes})"
    width = (high - low) / median
    if width > WIDE_CI:
        return f"wide spread: the 95% interval spans {width:.0%} of the median"
    return ""


def per_value(run: Run) -> pd.DataFrame:
    """One row per measured value: its cell, its pass and process, and the figure it gives.

    ``sample`` is the value's paired speedup (W x unit / round) where the cell timed
    serial units beside it, else its round time; ``unit`` the paired unit time or NaN.
    A value and the serial units timed right after it share the worker process's
    ``pairing`` token and the value's index within that process's run. Values without
    units (a pyperf script, the serial baseline itself) join nothing.
    """
    keys = [*CELL, "pairing", "value"]
    values = run.values.astype({"pairing": str}).fillna({"pairing": ""})
    values.loc[values["pairing"] == "nan", "pairing"] = ""
    serial = run.paired.loc[run.paired["pairing"].astype(str) != "", [*keys, "seconds"]]
    joined = values[[*keys, "pass", "process", "seconds"]].merge(
        serial.astype({"pairing": str}).rename(columns={"seconds": "unit"}),
        on=keys, how="left",
    )  # fmt: skip
    joined.loc[joined["pairing"] == "", "unit"] = np.nan
    ratio = joined["workers"] * joined["unit"] / joined["seconds"]
    joined["paired"] = joined["unit"].notna()
    joined["sample"] = ratio.where(joined["paired"], joined["seconds"])
    return joined


def _sample(group: pd.DataFrame, column: str) -> Sample:
    return Sample(group[column].to_numpy(dtype=float), group["pass"].to_numpy(dtype=int),
                  group["process"].to_numpy(dtype=int))  # fmt: skip


def _samples(run: Run) -> dict[SampleKey, Sample]:
    """Each measured cell's round times and, where paired, its per-value speedups and the
    serial units behind them, each value with its pass and process."""
    found: dict[SampleKey, Sample] = {}
    joined = per_value(run)
    for key, group in joined.groupby(CELL, sort=False):
        cell = _key(key)
        found[seconds(cell)] = _sample(group, "seconds")
        pairs = group[group["paired"]]
        if len(pairs):
            found[ratios(cell)] = _sample(pairs, "sample")
            found[units(cell)] = _sample(pairs, "unit")
    counted = run.counts[(run.counts["status"] == "ok") & (run.counts["per_unit"] > 0)]
    for key, group in counted.groupby(CELL, sort=False):
        repeats = group["repeat"].to_numpy(dtype=int) + 1
        found[instructions(_key(key))] = Sample(group["per_unit"].to_numpy(dtype=float),
                                                 repeats, repeats)  # fmt: skip
    return found


def _measured(run: Run, samples: Samples) -> pd.DataFrame:
    """Each measured cell's typical round time, its interval and its recorded facts."""
    first = run.values.drop_duplicates(subset=CELL, keep="first").set_index(CELL)
    keys = [k[:4] for k in samples if k[4] == "seconds"]
    facts = first.reindex(pd.MultiIndex.from_tuples(keys, names=CELL) if keys else first.index)
    found = estimate_all([Terms.of([(seconds(k), 1.0)]) for k in keys], samples)
    return pd.DataFrame(
        {
            "gil_enabled": facts["gil_enabled"].astype(int).to_numpy(),
            "oversubscribed": facts["oversubscribed"].astype(bool).to_numpy(),
            "cpu_count": facts["cpu_count"].astype(int).to_numpy(),
            "checksum": facts["checksum"].astype(str).to_numpy(),
            # shared-state workloads only: updates made and lost over every run of the cell
            "updates": facts["updates"].to_numpy(),
            "lost_updates": facts["lost_updates"].to_numpy(),
            "n": [len(samples[seconds(k)]) for k in keys],
            "processes": [samples[seconds(k)].process_count for k in keys],
            "median_s": [e.value for e in found],
            "ci_low_s": [e.low for e in found],
            "ci_high_s": [e.high for e in found],
        },
        index=facts.index,
    ).reset_index()


def _speedup_terms(
    cells: list[Cell], samples: Samples, machine: Mapping[Cell, str]
) -> dict[Cell, Terms]:
    """Paired: the median of per-value speedups. Else W x serial/1's median / the cell's."""
    terms: dict[Cell, Terms] = {}
    for cell in cells:
        impl, workload, _, workers = cell
        base = (impl, workload, "serial", 1)
        if cell == base:
            terms[cell] = Terms()  # the baseline itself: 1, by definition
        elif ratios(cell) in samples:
            terms[cell] = Terms.of([(ratios(cell), 1.0)])
        elif seconds(base) in samples and machine.get(base) == machine[cell]:
            terms[cell] = ratio(base, cell, scale=workers)
    return terms


def summarize(run: Run) -> Cells:
    """The results table: one row per planned cell, with status and statistics."""
    samples = _samples(run)
    table = run.cells.merge(_measured(run, samples), on=CELL, how="left",
                            suffixes=("", "_measured"))  # fmt: skip
    # What was measured wins over what was promised (they differ only for failed cells).
    for column in ("gil_enabled", "oversubscribed", "cpu_count"):
        table[column] = table.pop(f"{column}_measured").combine_first(table[column])
    table["n"] = table["n"].fillna(0).astype(int)
    table["processes"] = table["processes"].fillna(0).astype(int)
    ok = (table["status"] == "ok") & (table["n"] > 0)
    table["throughput"] = table["workers"] / table["median_s"]
    table["spread"] = (table["ci_high_s"] - table["ci_low_s"]) / table["median_s"]
    columns = [table[c] for c in ("processes", "ci_low_s", "median_s", "ci_high_s")]
    table["flag"] = [
        format_flag(n, low, mid, high) if good else ""
        for good, n, low, mid, high in zip(ok, *columns, strict=True)
    ]
    keys = _keys(table)
    flags = {c: f for c, f, good in zip(keys, table["flag"], ok, strict=True) if good}
    roles = find_roles(run.manifest)
    reference = roles.reference
    # Never a ratio between two machines' cells (a merged run's shards hold whole
    # workloads, so this holds by construction; here it is checked).
    machine = dict(zip(keys, table["machine"], strict=True))
    vs_ref = {
        cell: ratio(ref, cell)
        for cell in flags
        if reference is not None and cell[0] != reference
        and (ref := (reference, *cell[1:])) in flags and machine[ref] == machine[cell]
    }  # fmt: skip
    speedup = _speedup_terms(list(flags), samples, machine)
    cells = Cells(
        table,
        samples,
        speedup,
        vs_ref,
        roles,
        flags,
        levels_of(run.manifest),
        usable_cpus(run.manifest.get("machine") or {}),
    )
    _add_estimates(cells)
    _add_precision(cells, target_of(run.manifest))
    _add_damage(cells, run.damaged)
    _add_verdicts(cells)
    add_worker_spreads(table, run.paired)
    add_counts(table, run.counts)
    return replace(cells, table=table[SUMMARY_COLUMNS].reset_index(drop=True))


def levels_of(manifest: Mapping[str, Any]) -> Levels:
    """The levels a run's intervals are read at: sequential for the adaptive profile,
    which looked at its figures after its passes; the margin it was measured with."""
    record = manifest.get("decisions")
    margin = record.get("margin") if isinstance(record, Mapping) else None
    adaptive = manifest.get("profile") == "adaptive"
    return Levels(sequential=adaptive, margin=float(margin) if margin else MARGIN)


def _add_estimates(cells: Cells) -> None:
    """Speedup and vs-reference columns, each from its terms; baselines; superlinear notes."""
    table, samples = cells.table, cells.samples
    keys = _keys(table)
    index = {c: i for i, c in enumerate(keys)}
    for prefix, terms in (("speedup", cells.speedup), ("vs_ref", cells.vs_ref)):
        keyed = list(terms)
        values = np.full((len(table), 5), np.nan)
        for cell, found in zip(keyed, cells.estimate([terms[c] for c in keyed]), strict=True):
            level = found.confidence if math.isfinite(found.low) else math.nan  # no interval
            values[index[cell]] = (found.value, found.low, found.high, found.p, level)
        table[prefix], table[f"{prefix}_ci_low"], table[f"{prefix}_ci_high"] = values[:, :3].T
        table[f"{prefix}_p"] = values[:, 3]
        # the level the interval is stated at: 95%, or in a sequential run its look's (the
        # share of the error rate that look spent: decisions.Levels), so above 95%
        table[f"{prefix}_level"] = values[:, 4]
    # A failed cell may hold values of its earlier passes: it gets no speedup, and no baseline.
    paired = [c in cells.speedup and ratios(c) in samples for c in keys]
    table["paired"] = paired
    bases = [
        Terms.of([(units(c), 1.0)]) if pair
        else Terms.of([(seconds((*c[:2], "serial", 1)), 1.0)])
        if c in cells.speedup and seconds((*c[:2], "serial", 1)) in samples
        else None
        for c, pair in zip(keys, paired, strict=True)
    ]  # fmt: skip
    known = [(i, b) for i, b in enumerate(bases) if b is not None]
    baseline = np.full(len(keys), np.nan)
    for (i, _), base in zip(known, cells.estimate([b for _, b in known]), strict=True):
        baseline[i] = base.value
    table["baseline_s"] = baseline
    table["efficiency"] = table["speedup"] / table["workers"]
    note_superlinear(table)


def _add_precision(cells: Cells, target: float | None) -> None:
    """Each cell's precision and whether it met the target: the run's own, if it was
    measured to one, else the default. A run measured to a target flags a cell that missed
    it: information, as WIDE_CI's flag is, never a gate on the figures resting on it."""
    table = cells.table
    table["precision"] = precision_column(table, cells.speedup, cells.vs_ref)
    table["precise"] = met_column(table["precision"], target or DEFAULT_PRECISION)
    if target is None:
        return
    for cell, row in zip(_keys(table), table.itertuples(index=False), strict=True):
        if (
            cell in cells.flags
            and not cells.flags[cell]
            and row.precise is not pd.NA
            and not row.precise
        ):
            reason = f"imprecise: ±{row.precision:.1%} against a ±{target:.0%} target"
            cells.flags[cell] = reason
    table["flag"] = [cells.flags.get(c, f) for c, f in zip(_keys(table), table["flag"],
                                                           strict=True)]  # fmt: skip


def _add_damage(cells: Cells, damaged: Mapping[Cell, str]) -> None:
    """A measured cell with a raw piece that couldn't be read: its figure stands on part
    of its values, so it is flagged (the figures resting on it say so beside them)."""
    hit = {c: why for c, why in damaged.items() if c in cells.flags}
    if not hit:
        return
    cells.flags.update(hit)
    table = cells.table
    table["flag"] = [hit.get(c, f) for c, f in zip(_keys(table), table["flag"], strict=True)]


def _add_verdicts(cells: Cells) -> None:
    """Faster, slower, equivalent or undecided against the reference.

    A run makes one verdict per cell, hundreds in a full run: at 95% each, one in twenty
    cells with no real difference would read as faster or slower. So the verdicts hold the
    false discovery rate at 5% across the run (Benjamini and Hochberg, on the p-values of
    the very t statistics the intervals come from): ``vs_ref_q`` is each p-value so
    adjusted, and a cell reads faster or slower only where it is at most 5%. Cells share
    their reference's values, so their tests are positively dependent, under which the
    procedure still holds the rate (Benjamini and Yekutieli 2001). In a sequential run a
    p-value is first scaled by the share of the error rate its look spent. A cell whose
    interval lies within the margin is equivalent, whatever its p-value (decisions.py);
    the others not read faster or slower are undecided. The interval columns stay the
    cell's own intervals.
    """
    table = cells.table
    keys = _keys(table)
    # 1, or alpha over the rate its look spent
    spend = cells.levels.alpha / (1 - table["vs_ref_level"].to_numpy(dtype=float))
    p = table["vs_ref_p"].to_numpy(dtype=float) * spend
    p = np.minimum(p, 1.0)
    tested = np.isfinite(p)
    q = np.full(len(p), np.nan)
    if tested.any():
        q[tested] = stats.false_discovery_control(p[tested], method="bh")
    table["vs_ref_q"] = q
    columns = [table[c] for c in ("vs_ref", "vs_ref_ci_low", "vs_ref_ci_high")]
    table["vs_ref_verdict"] = [
        _verdict(Estimate(v, low, high), qv, cells.levels.margin) if c in cells.vs_ref else ""
        for c, v, low, high, qv in zip(keys, *columns, q, strict=True)
    ]


def _verdict(estimate: Estimate, q: float, margin: float) -> str:
    """equivalent where the interval lies within ``margin`` of 1 (decisions.decide's
    precedence), else faster/slower where the adjusted p-value is at most FDR, else
    undecided; "" with no test."""
    if math.isnan(estimate.value) or math.isnan(q):
        return ""
    if decide(estimate, margin) == "equivalent":
        return "equivalent"
    if q <= FDR:
        return "faster" if estimate.value > 1 else "slower"
    return UNDECIDED
