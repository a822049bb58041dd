"""Build a run's report: every figure and sentence it states, computed once. Pure.

``build_report`` runs the compare steps on a run and gathers what the pages, charts,
summary.md and summary.csv show into one ``Report``; ``write_report`` (write.py) only
formats and writes it. Nothing is computed twice, and nothing is written here.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from harness import store
from harness.compare.cellnotes import with_counts
from harness.compare.cells import Cells, summarize
from harness.compare.precision import DEFAULT_PRECISION, target_of
from harness.compare.steadiness import Steadiness, steadiness
from harness.compare.verdicts import Comparison, compare_run
from harness.report.charts import impl_colours
from harness.report.findings import Finding, format_findings
from harness.report.format import format_count
from harness.report.packages import PackagesTable, packages_table, with_packages
from harness.results import Run

if TYPE_CHECKING:
    from harness.report.answer import AnswerText


@dataclass(frozen=True)
class Report:
    """What a report states, and where its raw files are, ready to be written."""

    manifest: dict[str, Any]
    cells: Cells  # the results table (cells.table) and the terms behind its figures
    comparison: Comparison
    findings: list[Finding]
    # how steady each machine's CPUs were while it measured: (shard ``K/N`` or "", speed)
    speeds: tuple[tuple[str, Steadiness], ...]
    colours: dict[str, str]  # one colour per implementation, on every page and chart
    values: pd.DataFrame  # every measured value and its cell's count, for values.parquet
    raw: tuple[Path, ...]  # the run's pyperf files, linked and offered for download

    @property
    def summary(self) -> pd.DataFrame:
        """The results table: one row per cell (summary.csv)."""
        return self.cells.table

    @functools.cached_property
    def packages(self) -> PackagesTable | None:
        """The workloads' packages per implementation, the GIL and threads (None: none)."""
        return packages_table(self.manifest, self.summary)

    @functools.cached_property
    def answer(self) -> AnswerText:
        """The answer table, computed once for every place that prints it."""
        from harness.report.answer import answer_of

        return answer_of(self)

    @property
    def precision(self) -> str:
        """How many measured cells met the precision asked for (or the default)."""
        return precision_sentence(self.cells.table, self.manifest)


def build_report(
    run: Run, cells: Cells | None = None, comparison: Comparison | None = None
) -> Report:
    """Summarize, compare and state findings for ``run``; ``cells`` and ``comparison``,
    when given, are compare's for it already (the history computes them for its tables)."""
    cells = summarize(run) if cells is None else cells
    comparison = compare_run(cells) if comparison is None else comparison
    ids = [*(str(i["id"]) for i in run.manifest["impls"]), *map(str, cells.table["impl"])]
    return Report(
        manifest=run.manifest,
        cells=cells,
        comparison=comparison,
        findings=with_packages(format_findings(comparison), run.manifest, cells.table),
        speeds=_speeds(run),
        colours=impl_colours(ids),
        values=with_counts(run.values, cells.table),  # each value beside its cell's count
        raw=tuple(store.raw_files(run.directory)),
    )


def _speeds(run: Run) -> tuple[tuple[str, Steadiness], ...]:
    """Each machine's steadiness, from its own samples only: one machine's fastest rate
    says nothing about another's."""
    samples = list(zip(run.cpu_machines, run.cpu_speed, strict=True))
    machines = sorted({m for m, _ in samples}) or [""]
    return tuple((m, steadiness(s for label, s in samples if label == m)) for m in machines)


def precision_sentence(table: pd.DataFrame, manifest: Mapping[str, Any]) -> str:
    """How many measured cells met the target, for the report's head; "" if none measured."""
    measured = table["precision"].notna()  # the cells with a figure of their own
    if not measured.any():
        return ""
    target = target_of(manifest)
    met = int(table.loc[measured, "precise"].astype(bool).sum())
    record = manifest.get("precision")
    budget = record.get("budget_s") if isinstance(record, Mapping) else None
    spent = f" within a budget of {float(budget) / 60:.0f} min" if budget else ""
    shown = target or DEFAULT_PRECISION
    head = (f"{met} of {format_count(int(measured.sum()), 'cell')} with a figure reached "
            f"±{shown:.0%}")  # fmt: skip
    if target is None:
        why = ("the run measured until its figures were decided" if manifest.get("profile")
               == "adaptive" else "the profile's effort is fixed")  # fmt: skip
        return f"{head} (no width was asked for: {why}{spent})."
    rest = "" if met == measured.sum() else "; the others are marked in the results table"
    return f"{head}, the run's target{spent}{rest}."
