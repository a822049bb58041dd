"""Write a run's derived artifacts: the HTML site, summary.csv, summary.md, values.parquet.

Everything written here is rebuilt from the raw results by ``python -m harness report``.
Pages: ``index.html`` (findings, heatmap, evidence, scaling charts, downloads),
``results.html`` (every cell) and ``impls.html`` (provenance and machine). The chart
library's JavaScript is copied next to the pages, so the site opens offline, straight from
the file system, and works unchanged on a static host.
"""

from __future__ import annotations

import math
import shutil
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jinja2
import pandas as pd
import plotly.offline

from harness.charts import format_figure_json, heatmap_figure, impl_colours, scaling_figure
from harness.compare import NOT_FAILURES, WIDE_CI, summarize
from harness.cpuspeed import steadiness
from harness.findings import (
    Finding,
    format_category,
    format_count,
    format_findings,
    format_times,
)
from harness.markdown import format_markdown, format_seconds
from harness.results import Run
from harness.verdicts import Comparison, compare_run, records

TEMPLATES = Path(__file__).resolve().parent / "templates"
PAGES = {"index.html": "Overview", "results.html": "Results", "impls.html": "Implementations"}
STATIC = ("report.css", "report.js")  # copied from templates/ into assets/
TOPIC_ANCHORS = {"scaling": "ev-scaling", "overhead": "ev-overhead", "break-even": "ev-break-even",
                 "models": "ev-models", "headline": "heatmap"}  # fmt: skip


def format_interval(low: float, high: float) -> str:
    if math.isnan(low) or math.isnan(high):
        return "–"
    return f"{low:.2f}–{high:.2f}×"


def format_verdict(row: dict[str, Any], above: str, below: str) -> str:
    """What a ratio's interval supports: ``above``/``below`` 1, level, or too noisy."""
    if row.get("noisy"):
        return "too noisy"
    if math.isnan(row["ratio"]):
        return ""
    if row["ci_low"] > 1:
        return above
    return below if row["ci_high"] < 1 else "no clear difference"


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,  # every string from a result file is escaped
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(seconds=format_seconds, times=format_times, category=format_category,
                       url=lambda s: quote(str(s)))  # fmt: skip
    env.globals.update(interval=format_interval, verdict=format_verdict, pages=PAGES,
                       count=format_count, wide_ci=WIDE_CI,
                       isnan=lambda v: isinstance(v, float) and math.isnan(v))  # fmt: skip
    return env


def _charts(run: Run, summary: pd.DataFrame, comparison: Comparison,
            colours: dict[str, str]) -> tuple[str, list[dict[str, str]]]:  # fmt: skip
    """The heatmap's JSON, and one scaling chart per workload that has a finished cell."""
    heatmap = format_figure_json(heatmap_figure(comparison.headline, comparison.geomeans))
    meta = {w["name"]: w for w in run.manifest.get("workloads", [])}
    charts = []
    for workload, rows in summary.groupby("workload", sort=False):
        if not (rows["status"] == "ok").any():
            continue
        category = str(rows["category"].iloc[0])
        title = f"{workload} ({format_category(category)})"
        figure = scaling_figure(summary, str(workload), title, colours)
        charts.append({"workload": str(workload), "title": title,
                       "description": str(meta.get(workload, {}).get("description", "")),
                       "json": format_figure_json(figure)})  # fmt: skip
    return heatmap, charts


def _measured_gil(summary: pd.DataFrame) -> dict[str, str]:
    """The GIL states the benchmark workers found, per implementation."""
    ok = summary[summary["status"] == "ok"]
    found: dict[str, set[int]] = {}
    for impl, gil in zip(ok["impl"], ok["gil_enabled"], strict=True):
        found.setdefault(str(impl), set()).add(int(gil))
    return {k: ", ".join("on" if v else "off" for v in sorted(vs)) for k, vs in found.items()}


def render_pages(
    run: Run, summary: pd.DataFrame, comparison: Comparison, findings: list[Finding], out: Path
) -> None:
    """Write index.html, results.html and impls.html."""
    impls = run.manifest.get("impls", [])
    colours = impl_colours([*(str(i["id"]) for i in impls), *map(str, summary["impl"])])
    heatmap, charts = _charts(run, summary, comparison, colours)
    raw = sorted(p.name for p in (out / "raw").glob("*.json")) if (out / "raw").is_dir() else []
    common = {
        "run": run.manifest, "machine": run.manifest.get("machine", {}), "colours": colours,
        "reference": comparison.roles.reference, "roles": comparison.roles,
        "workers": comparison.workers, "speed": steadiness(run.cpu_speed),
    }  # fmt: skip
    context: dict[str, dict[str, Any]] = {
        "index.html": {
            "stated": [f for f in findings if f.stated],
            "withheld": [f for f in findings if not f.stated],
            "anchors": TOPIC_ANCHORS,
            "failed": records(summary[~summary["status"].isin(NOT_FAILURES)]),
            "unavailable": [i for i in impls if i.get("unavailable")],
            "heatmap": heatmap, "charts": charts, "raw": raw,
            "geomeans": records(comparison.geomeans), "scaling": records(comparison.scaling),
            "overhead": records(comparison.overhead), "break_even": records(comparison.break_even),
            "models": records(comparison.models),
        },
        "results.html": {"rows": records(summary)},
        "impls.html": {"impls": impls, "gil_found": _measured_gil(summary)},
    }  # fmt: skip
    env = _environment()
    for page, extra in context.items():
        html = env.get_template(page + ".j2").render(page=page, **common, **extra)
        (out / page).write_text(html)


def render_report(run: Run, out_dir: Path | None = None) -> pd.DataFrame:
    """Write the site, summary.csv, summary.md and values.parquet into the run's folder."""
    out = out_dir or run.directory
    out.mkdir(parents=True, exist_ok=True)
    summary = summarize(run)
    comparison = compare_run(run, summary)
    findings = format_findings(comparison)
    summary.to_csv(out / "summary.csv", index=False, float_format="%.6g")
    (out / "summary.md").write_text(format_markdown(run, summary, comparison, findings))
    run.values.to_parquet(out / "values.parquet", index=False)
    _write_assets(out)
    _copy_raw(run.directory, out)
    render_pages(run, summary, comparison, findings, out)
    return summary


def _copy_raw(run_dir: Path, out: Path) -> None:
    """Put the raw pyperf files beside a report written outside its run, for the downloads."""
    if out.resolve() == run_dir.resolve() or not (run_dir / "raw").is_dir():
        return
    (out / "raw").mkdir(exist_ok=True)
    for path in (run_dir / "raw").glob("*.json"):
        shutil.copyfile(path, out / "raw" / path.name)


def _write_assets(out: Path) -> None:
    assets = out / "assets"
    assets.mkdir(exist_ok=True)
    target = assets / "plotly.min.js"
    text: Any = plotly.offline.get_plotlyjs()
    # 4+ MB: rewrite it only when plotly itself changed.
    if not target.exists() or target.stat().st_size != len(text.encode()):
        target.write_text(text)
    for name in STATIC:
        source = (TEMPLATES / name).read_text()
        if not (assets / name).exists() or (assets / name).read_text() != source:
            (assets / name).write_text(source)
