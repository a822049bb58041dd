"""Write a built report into a folder: the HTML site, summary.csv, decisions.csv, summary.md,
answer.json (the answer table, which a published site shows), values.parquet.

Everything written here is rebuilt from the raw results by ``python -m harness report``,
each file replaced in one step (store.write_atomic). The chart library's JavaScript is
copied next to the pages, so the site opens offline, straight from the file system, and
works unchanged on a static host.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import plotly.offline
import pyperf

from harness import store
from harness.formats import FORMATS_JSON, format_formats_json, parquet_bytes
from harness.report.answer import format_answer_json
from harness.report.build import Report
from harness.report.markdown import format_markdown
from harness.report.pages import TEMPLATES, render_pages

STATIC = ("report.css", "report.js")  # copied from templates/ into assets/


def format_decisions_csv(report: Report) -> str:
    """decisions.csv: one row per figure the findings state, with its decision, interval,
    level and what would decide it (Comparison.decisions, the findings' own source); the
    cells each rests on as ``impl workload/model/workers`` joined by ``; ``."""
    table = report.comparison.decisions().copy()
    table["cells"] = ["; ".join(f"{i} {w}/{m}/{n}" for i, w, m, n in cells)
                      for cells in table["cells"]]  # fmt: skip
    return str(table.to_csv(index=False, float_format="%.6g"))


def write_report(report: Report, folder: Path, assets: str = "assets") -> None:
    """Write every derived file of ``report`` into ``folder``.

    ``assets``: where the pages find plotly and the CSS; the default is the folder's own
    copy, written here. A site's run reports share the site's one copy instead.
    """
    folder.mkdir(parents=True, exist_ok=True)
    # instructions per unit to the instruction: 6 digits would blur a count's 0.001% moves
    summary = report.summary.assign(
        instructions=report.summary["instructions"].round().astype("Int64")
    )
    store.write_atomic(folder / "summary.csv",
                       summary.to_csv(index=False, float_format="%.6g"))  # fmt: skip
    store.write_atomic(folder / "decisions.csv", format_decisions_csv(report))
    store.write_atomic(folder / "summary.md", format_markdown(report))
    store.write_atomic(folder / "answer.json", format_answer_json(report.answer))
    store.write_atomic(folder / "values.parquet", parquet_bytes(report.values, "values.parquet"))
    versions = format_formats_json(["summary.csv", "values.parquet"])
    store.write_atomic(folder / FORMATS_JSON, versions)
    if assets == "assets":
        write_assets(folder / "assets")
    write_joined(report.raw, folder / "pyperf")
    for name, html in render_pages(report, assets).items():
        store.write_atomic(folder / name, html)


def write_joined(raw: tuple[Path, ...], folder: Path) -> None:
    """Each implementation's raw pieces joined into ``folder/<impl>.json``, one pyperf file
    that ``pyperf compare_to`` reads, for the downloads; a format-2 file is copied as is."""
    by_impl: dict[str, list[Path]] = {}
    for path in raw:
        by_impl.setdefault(store.raw_impl(path), []).append(path)
    for impl, paths in by_impl.items():
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / f"{impl}.json"
        if len(paths) == 1 and paths[0].parent.name == "raw":
            store.write_atomic(target, paths[0].read_bytes())
            continue
        suite = None
        for piece in paths:
            try:
                found = pyperf.BenchmarkSuite.load(str(piece))
            except Exception:  # a damaged piece: results.py named it, the report marks it
                continue
            if suite is None:
                suite = found
            else:
                suite.add_runs(found)
        if suite is None:
            continue
        tmp = folder / f".{impl}.json.{os.getpid()}.tmp"
        suite.dump(str(tmp), replace=True)
        tmp.replace(target)


def write_assets(assets: Path) -> None:
    """plotly.min.js, report.css and report.js into ``assets``, rewritten only if changed."""
    assets.mkdir(parents=True, exist_ok=True)
    target = assets / "plotly.min.js"
    text: Any = plotly.offline.get_plotlyjs()
    # 4+ MB: rewrite it only when plotly itself changed.
    if not target.exists() or target.stat().st_size != len(text.encode()):
        store.write_atomic(target, text)
    for name in STATIC:
        source = (TEMPLATES / name).read_text()
        if not (assets / name).exists() or (assets / name).read_text() != source:
            store.write_atomic(assets / name, source)
