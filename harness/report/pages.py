"""The report's HTML pages, rendered from a ``Report`` with Jinja2. Pure: strings out.

``index.html`` (findings, heatmap, evidence, scaling charts, downloads), ``results.html``
(every cell) and ``impls.html`` (provenance and machine). Every string taken from a result
file is escaped (autoescape); chart JSON is made safe by charts.format_figure_json.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jinja2

from harness import store
from harness.compare.cells import WIDE_CI
from harness.report.build import Report
from harness.report.charts import format_figure_json, heatmap_figure, scaling_charts
from harness.report.format import (
    format_category,
    format_count,
    format_level,
    format_range,
    format_seconds,
    format_shards,
    format_times,
    format_verdict,
)
from harness.report.sweepcharts import payload_charts
from harness.report.sweepfindings import format_micro
from harness.results import records
from harness.status import FAILED, NEUTRAL

TEMPLATES = Path(__file__).resolve().parent / "templates"
PAGES = {"index.html": "Overview", "results.html": "Results", "impls.html": "Implementations"}
TOPIC_ANCHORS = {"scaling": "ev-scaling", "overhead": "ev-overhead", "break-even": "ev-break-even",
                 "models": "ev-models", "headline": "heatmap", "payload": "payload",
                 "task overhead": "tasks", "task payoff": "tasks",
                 "task threads": "tasks", "packages": "packages"}  # fmt: skip


def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,  # every string from a result file is escaped
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(seconds=format_seconds, times=format_times, category=format_category,
                       url=lambda s: quote(str(s)))  # fmt: skip
    env.globals.update(interval=format_range, verdict=format_verdict, pages=PAGES,
                       count=format_count, wide_ci=WIDE_CI, neutral=NEUTRAL, level=format_level,
                       micro=format_micro,
                       isnan=lambda v: isinstance(v, float) and math.isnan(v))  # fmt: skip
    return env


def _measured_gil(report: Report) -> dict[str, str]:
    """The GIL states the benchmark workers found, per implementation."""
    ok = report.summary[report.summary["status"] == "ok"]
    found: dict[str, set[int]] = {}
    for impl, gil in zip(ok["impl"], ok["gil_enabled"], strict=True):
        found.setdefault(str(impl), set()).add(int(gil))
    return {k: ", ".join("on" if v else "off" for v in sorted(vs)) for k, vs in found.items()}


def render_pages(report: Report, assets: str = "assets") -> dict[str, str]:
    """index.html, results.html and impls.html, by file name.

    ``assets``: where the pages find plotly, the CSS and the script, relative to them; a
    published site keeps one copy for all its runs' reports.
    """
    manifest, summary, comparison = report.manifest, report.summary, report.comparison
    impls = manifest["impls"]
    common = {
        "run": manifest, "machine": manifest["machine"], "colours": report.colours,
        "reference": comparison.roles.reference, "roles": comparison.roles,
        "workers": comparison.workers, "speeds": report.speeds,
        "shards_sentence": format_shards(manifest), "assets": assets,
        "precision": report.precision,
    }  # fmt: skip
    context: dict[str, dict[str, Any]] = {
        "index.html": {
            "answer": report.answer,
            "stated": [f for f in report.findings if f.stated],
            "undecided": [f for f in report.findings if not f.stated],
            "margin": comparison.margin,
            "anchors": TOPIC_ANCHORS,
            "failed": records(summary[summary["status"].isin(FAILED)]),
            "unavailable": [i for i in impls if i.get("unavailable")],
            "heatmap": format_figure_json(heatmap_figure(report)),
            "charts": scaling_charts(report),
            "raw": sorted({f"{store.raw_impl(p)}.json" for p in report.raw}),
            "geomeans": records(comparison.geomeans), "scaling": records(comparison.scaling),
            "overhead": records(comparison.overhead), "break_even": records(comparison.break_even),
            "models": records(comparison.models),
            "payload": records(comparison.payload), "payload_charts": payload_charts(report),
            "tasks": [(kind, records(table)) for kind, table in (
                ("overhead", comparison.task_overhead), ("payoff", comparison.task_payoff),
                ("against threadpool", comparison.task_threads)) if len(table)],
            "packages": report.packages,
        },
        "results.html": {"rows": records(summary)},
        "impls.html": {"impls": impls, "gil_found": _measured_gil(report)},
    }  # fmt: skip
    env = environment()
    return {
        page: env.get_template(page + ".j2").render(page=page, **common, **extra)
        for page, extra in context.items()
    }
