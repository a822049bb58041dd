"""The workloads that declare packages (REQUIRES): what each implementation got, and the GIL.

run.json's ``packages`` record says which versions each implementation's pip installed, or
pip's reason where it couldn't; a measured cell's detail says which module re-enabled a
free-threaded build's GIL (inside/gbload.py). From those and the results table this module
builds the report's packages table (versions, the GIL, threads' speedup with its interval)
and its sentences: which packages keep the free-threaded build free-threaded. Pure.
"""

# Typographic en dashes and multiplication signs are meant for the report's readers.
# ruff: noqa: RUF001, RUF002

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from harness.report.findings import Finding
from harness.report.format import format_level, format_range, format_times
from harness.results import records

REENABLED = " re-enabled the GIL"  # the end of gbload.gil_note's words
TOPIC = "packages"


@dataclass(frozen=True)
class PackagesTable:
    """A row per workload that requires packages; a column per implementation that had a
    record of them. Each cell is plain text (the writers escape it)."""

    impls: tuple[str, ...]
    rows: tuple[tuple[str, str, tuple[str, ...]], ...]  # (workload, requires, cells)


def packages_table(manifest: Mapping[str, Any], summary: pd.DataFrame) -> PackagesTable | None:
    """The run's packages table, or None when no workload required any."""
    record: Mapping[str, Mapping[str, Any]] = manifest.get("packages") or {}
    if not record:
        return None
    impls = tuple(i for i in _impl_order(manifest) if i in record)
    workloads = sorted({w for per in record.values() for w in per})
    rows = []
    for workload in workloads:
        requires = next(per[workload]["requires"] for per in record.values() if workload in per)
        cells = tuple(_cell(manifest, summary, impl, workload) for impl in impls)
        rows.append((workload, ", ".join(map(str, requires)), cells))
    return PackagesTable(impls, tuple(rows))


def _impl_order(manifest: Mapping[str, Any]) -> list[str]:
    return [str(i["id"]) for i in manifest.get("impls", [])]


def _free_threaded(manifest: Mapping[str, Any]) -> set[str]:
    """The implementations that promise no GIL: where a package may turn it back on."""
    return {str(i["id"]) for i in manifest.get("impls", []) if i.get("expect_gil") == 0}


def _cell(manifest: Mapping[str, Any], summary: pd.DataFrame, impl: str, workload: str) -> str:
    """Versions, then the GIL on a free-threaded build, then threads' speedup; or why not."""
    got = manifest["packages"].get(impl, {}).get(workload)
    if got is None:
        return "–"
    if got.get("status") != "ok":
        return f"unsupported: {got.get('reason', '')}"
    parts = [_versions(got)]
    notes = gil_notes(summary, impl, workload)
    if impl in _free_threaded(manifest):
        parts.append("; ".join(notes) if notes else "GIL stayed off")
    parts += [_threads(summary, impl, workload)]
    return "; ".join(p for p in parts if p)


def _versions(got: Mapping[str, Any]) -> str:
    return ", ".join(f"{name} {version}" for name, version in got.get("versions", {}).items())


def gil_notes(summary: pd.DataFrame, impl: str, workload: str) -> list[str]:
    """The measured cells' notes of an import that re-enabled the GIL, once each."""
    rows = summary[(summary["impl"] == impl) & (summary["workload"] == workload)
                   & (summary["status"] == "ok")]  # fmt: skip
    return sorted({str(d) for d in rows["detail"] if str(d).endswith(REENABLED)})


def _threads(summary: pd.DataFrame, impl: str, workload: str) -> str:
    """Threads' speedup at the most workers measured with one: ``threads 1.65× at 2 (95%
    CI 1.50–1.80×)``; "" where there is none."""
    rows = summary[(summary["impl"] == impl) & (summary["workload"] == workload)
                   & (summary["model"] == "threads") & (summary["status"] == "ok")]  # fmt: skip
    rows = rows[rows["speedup"].notna()]
    if not len(rows):
        return ""
    row = records(rows.sort_values("workers"))[-1]
    level = float(row.get("speedup_level", 0.95))
    interval = format_range(float(row["speedup_ci_low"]), float(row["speedup_ci_high"]))
    shown = f" ({format_level(level)} CI {interval})" if interval != "–" else ""
    return f"threads {format_times(float(row['speedup']))} at {row['workers']}{shown}"


def format_packages(manifest: Mapping[str, Any], summary: pd.DataFrame) -> list[Finding]:
    """Which packages kept each free-threaded build free-threaded and which re-enabled its
    GIL (any module a workload imported, declared or not); which sets pip couldn't install."""
    record: Mapping[str, Mapping[str, Any]] = manifest.get("packages") or {}
    findings = []
    for impl in _impl_order(manifest):
        if impl in _free_threaded(manifest):
            findings += _gil_sentence(impl, record.get(impl, {}), summary)
        refused = {w: got for w, got in record.get(impl, {}).items() if got.get("status") != "ok"}
        if refused:
            sets = sorted({", ".join(got["requires"]) for got in refused.values()})
            verb = "is" if len(refused) == 1 else "are"
            findings.append(Finding(TOPIC, f"On {impl}, pip could not install {_and(sets)}: "
                                    f"{_and(sorted(refused))} {verb} unsupported there "
                                    "(pip's reasons are in the packages table)."))  # fmt: skip
    return findings


def _gil_sentence(impl: str, got: Mapping[str, Any], summary: pd.DataFrame) -> list[Finding]:
    """``On 3.14t, numpy 2.5.5 kept the GIL off; lxml 6.2.0 (lxml.etree, in lxml_parse)
    re-enabled the GIL: those cells ran with it on.``; nothing where nothing was measured."""
    measured = summary[(summary["impl"] == impl) & (summary["status"] == "ok")]
    kept, reenabled = [], []
    for workload in sorted(set(measured["workload"])):
        notes = gil_notes(summary, impl, workload)
        named = _versions(got[workload]) if workload in got else ""
        modules = ", ".join(n.removesuffix(REENABLED) for n in notes)
        if notes:
            reenabled.append(f"{named} ({modules}, in {workload})" if named
                             else f"{modules} (in {workload})")  # fmt: skip
        elif named:
            kept.append(named)
    if not kept and not reenabled:
        return []
    said = [f"{_and(sorted(set(kept)))} kept the GIL off"] if kept else []
    if reenabled:
        said.append(f"{_and(reenabled)} re-enabled the GIL: those cells ran with it on")
    return [Finding(TOPIC, f"On {impl}, {'; '.join(said)}.")]


def _and(items: Sequence[str]) -> str:
    items = list(items)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def with_packages(findings: list[Finding], manifest: Mapping[str, Any],
                  summary: pd.DataFrame) -> list[Finding]:  # fmt: skip
    """``findings`` with the packages' sentences after the last decided one."""
    ours = format_packages(manifest, summary)
    last = max((i for i, f in enumerate(findings) if f.stated), default=-1)
    return [*findings[: last + 1], *ours, *findings[last + 1 :]]


def packages_frame(table: PackagesTable) -> pd.DataFrame:
    """The table as a frame of plain text, for summary.md (which escapes it)."""
    rows = [[workload, requires, *cells] for workload, requires, cells in table.rows]
    return pd.DataFrame(rows, columns=["workload", "requires", *table.impls])
