"""The comparisons behind the report's findings, one table each. Pure computation.

Each table is built from the cell table (``compare.summarize``) and the cells' values. Every
ratio carries a bootstrap 95% interval; every row names the cells too noisy to trust
(``noisy``), so that the findings can leave those out instead of stating them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from harness.compare import CELL, Roles, cell_samples, find_roles
from harness.intervals import NO_ESTIMATE, Estimate, ratio_estimate
from harness.results import Run

Key = tuple[Any, ...]


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


class Cells:
    """The cell table and values, looked up by (impl, workload, model, workers)."""

    def __init__(self, summary: pd.DataFrame, samples: Mapping[Key, np.ndarray]) -> None:
        self.summary = summary
        self.rows = {tuple(r[c] for c in CELL): r for r in records(summary)}
        self.samples = samples

    def ok(self, key: Key) -> bool:
        row = self.rows.get(key)
        return row is not None and row["status"] == "ok" and key in self.samples

    def noisy(self, keys: Iterable[Key]) -> str:
        """The flagged cells among ``keys``, as ``impl workload/model/workers``; "" if none."""
        seen = dict.fromkeys(k for k in keys if self.ok(k) and self.rows[k]["flag"])
        return "; ".join(f"{i} {w}/{m}/{n}" for i, w, m, n in seen)

    def estimate(self, pairs: Sequence[tuple[Key, Key]], scale: float = 1.0) -> Estimate:
        if not pairs or not all(self.ok(a) and self.ok(b) for a, b in pairs):
            return NO_ESTIMATE
        return ratio_estimate([(self.samples[a], self.samples[b]) for a, b in pairs], scale)

    def throughput(self, key: Key) -> float:
        return float(self.rows[key]["throughput"])


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """A table's rows as dicts keyed by column name."""
    columns = [str(c) for c in frame.columns]
    # Column by column: several times faster than ``to_dict("records")`` on these tables.
    values = [frame[c].tolist() for c in frame.columns]
    return [dict(zip(columns, row, strict=True)) for row in zip(*values, strict=True)]


def _row(estimate: Estimate, **fields: Any) -> dict[str, Any]:
    return {**fields, "ratio": estimate.value, "ci_low": estimate.low, "ci_high": estimate.high}


def compare_headline(cells: Cells, roles: Roles, workers: int) -> pd.DataFrame:
    """Per impl x workload, the best model at ``workers`` against the reference's serial run.

    The ratio is the work done per second relative to the reference implementation running
    the workload serially on one worker.
    """
    table = cells.summary
    rows = []
    for (impl, workload), group in table.groupby(["impl", "workload"], sort=False):
        candidates = group[(group["workers"] == workers) & (group["status"] == "ok")]
        if candidates.empty or roles.reference is None:
            failed = group[~group["status"].isin(["ok", "unsupported"])]["status"]
            status = failed.iloc[0] if not failed.empty else "unsupported"
            rows.append(_row(NO_ESTIMATE, impl=impl, workload=workload, model="",
                             status=status, noisy=""))  # fmt: skip
            continue
        best = records(candidates.sort_values("throughput", ascending=False))[0]
        base = (roles.reference, workload, "serial", 1)
        key = (impl, workload, best["model"], workers)
        rows.append(
            _row(cells.estimate([(base, key)], workers), impl=impl, workload=workload,
                 model=best["model"], status="ok", noisy=cells.noisy([base, key]))
        )  # fmt: skip
    return pd.DataFrame(rows, columns=["impl", "workload", "model", "status", "noisy",
                                       "ratio", "ci_low", "ci_high"])  # fmt: skip


def compare_geomeans(
    cells: Cells, roles: Roles, headline: pd.DataFrame, workers: int
) -> pd.DataFrame:
    """The headline's geometric mean over the workloads each implementation completed."""
    rows = []
    for impl, group in headline.groupby("impl", sort=False):
        done = group[group["ratio"].notna()]
        pairs = [((roles.reference, w, "serial", 1), (impl, w, m, workers))
                 for w, m in zip(done["workload"], done["model"], strict=True)]  # fmt: skip
        rows.append(
            _row(cells.estimate(pairs, workers), impl=impl, workloads=len(done),
                 of=len(group), noisy=cells.noisy(k for pair in pairs for k in pair))
        )  # fmt: skip
    return pd.DataFrame(rows, columns=["impl", "workloads", "of", "noisy", "ratio", "ci_low",
                                       "ci_high"])  # fmt: skip


def _categories(table: pd.DataFrame) -> dict[str, list[str]]:
    workloads = table.drop_duplicates("workload")
    return {str(c): list(g["workload"]) for c, g in workloads.groupby("category", sort=False)}


def compare_scaling(cells: Cells, workers: int, model: str = "threads") -> pd.DataFrame:
    """Per category x impl, ``model``'s speedup at ``workers`` over one serial worker."""
    rows = []
    for category, workloads in _categories(cells.summary).items():
        for impl in cells.summary["impl"].drop_duplicates():
            pairs = [((impl, w, "serial", 1), (impl, w, model, workers)) for w in workloads]
            done = [p for p in pairs if cells.ok(p[0]) and cells.ok(p[1])]
            if not done:
                continue
            rows.append(
                _row(cells.estimate(done, workers), category=category, impl=impl,
                     workloads=", ".join(p[0][1] for p in done), missing=len(pairs) - len(done),
                     noisy=cells.noisy(k for pair in done for k in pair))
            )  # fmt: skip
    return pd.DataFrame(rows, columns=["category", "impl", "workloads", "missing", "noisy",
                                       "ratio", "ci_low", "ci_high"])  # fmt: skip


def compare_overhead(cells: Cells, roles: Roles) -> pd.DataFrame:
    """Time of the free-threaded build over the default build's, serial on one worker.

    One row per workload, then their geometric mean (``workload`` empty); no rows when the
    run has no such pair of builds.
    """
    columns = ["workload", "category", "noisy", "ratio", "ci_low", "ci_high"]
    if roles.free_threaded is None or roles.default is None:
        return pd.DataFrame([], columns=columns)
    rows, pairs = [], []
    for category, workloads in _categories(cells.summary).items():
        for workload in workloads:
            pair = ((roles.free_threaded, workload, "serial", 1),
                    (roles.default, workload, "serial", 1))  # fmt: skip
            if cells.ok(pair[0]) and cells.ok(pair[1]):
                pairs.append(pair)
                rows.append(_row(cells.estimate([pair]), workload=workload, category=category,
                                 noisy=cells.noisy(pair)))  # fmt: skip
    if pairs:
        noisy = cells.noisy(k for pair in pairs for k in pair)
        rows.append(_row(cells.estimate(pairs), workload="", category="", noisy=noisy))
    return pd.DataFrame(rows, columns=columns)


def compare_break_even(cells: Cells, roles: Roles) -> pd.DataFrame:
    """Per workload and worker count: free-threaded threads against the default build's best.

    The default build's best model at each worker count is the one with the highest median
    throughput there; the ratio is the free-threaded build's throughput over it.
    """
    columns = ["workload", "category", "workers", "rival", "noisy", "ratio", "ci_low", "ci_high"]
    if roles.free_threaded is None or roles.default is None:
        return pd.DataFrame([], columns=columns)
    table = cells.summary
    rival_rows = table[(table["impl"] == roles.default) & (table["status"] == "ok")]
    rows = []
    for (workload, workers), group in rival_rows.groupby(["workload", "workers"], sort=True):
        ours = (roles.free_threaded, workload, "threads", workers)
        if not cells.ok(ours):
            continue
        rival = records(group.sort_values("throughput", ascending=False))[0]
        theirs = (roles.default, workload, rival["model"], workers)
        rows.append(
            _row(cells.estimate([(theirs, ours)]), workload=workload,
                 category=rival["category"], workers=workers, rival=rival["model"],
                 noisy=cells.noisy([ours, theirs]))
        )  # fmt: skip
    return pd.DataFrame(rows, columns=columns)


def compare_models(cells: Cells, workers: int) -> pd.DataFrame:
    """Per impl x category at ``workers``: the fastest model and its lead over the next one.

    Models are ranked by their geometric-mean throughput over the category's workloads;
    only models that completed every workload of the category take part.
    """
    rows = []
    for category, workloads in _categories(cells.summary).items():
        for impl in cells.summary["impl"].drop_duplicates():
            rates = {}
            for model in cells.summary["model"].drop_duplicates():
                keys = [(impl, w, model, workers) for w in workloads]
                if all(cells.ok(k) for k in keys):
                    rates[model] = float(
                        np.exp(np.mean([np.log(cells.throughput(k)) for k in keys]))
                    )
            if not rates:
                continue
            ranked = sorted(rates, key=lambda m: -rates[m])
            best, runner = ranked[0], (ranked[1] if len(ranked) > 1 else "")
            pairs = [((impl, w, runner, workers), (impl, w, best, workers)) for w in workloads]
            estimate = cells.estimate(pairs) if runner else NO_ESTIMATE
            rows.append(
                _row(estimate, impl=impl, category=category, best=best, runner_up=runner,
                     noisy=cells.noisy(k for pair in pairs for k in pair) if runner else "")
            )  # fmt: skip
    return pd.DataFrame(rows, columns=["impl", "category", "best", "runner_up", "noisy", "ratio",
                                       "ci_low", "ci_high"])  # fmt: skip


def compare_run(run: Run, summary: pd.DataFrame) -> Comparison:
    """Every comparison the report makes, from the run and its cell table."""
    cells = Cells(summary, cell_samples(run.values))
    roles = find_roles(run.manifest)
    workers = int(summary["workers"].max()) if len(summary) else 1
    headline = compare_headline(cells, roles, workers)
    return Comparison(
        roles=roles,
        workers=workers,
        headline=headline,
        geomeans=compare_geomeans(cells, roles, headline, workers),
        scaling=compare_scaling(cells, workers),
        overhead=compare_overhead(cells, roles),
        break_even=compare_break_even(cells, roles),
        models=compare_models(cells, workers),
    )
