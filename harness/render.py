"""Write a run's derived artifacts: summary.csv, summary.md and the HTML report.

Everything written here is rebuilt from the raw results by ``python -m harness report``.
The chart library's JavaScript is copied next to the page, so the report opens offline,
straight from the file system, and works unchanged on a static host.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import jinja2
import pandas as pd
import plotly.graph_objects as go
import plotly.offline

from harness.compare import summarize
from harness.results import Run

TEMPLATES = Path(__file__).resolve().parent / "templates"
# Okabe-Ito: distinguishable with the common colour-vision deficiencies.
PALETTE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442",
           "#000000"]  # fmt: skip
MODEL_DASH = {"serial": "dot", "threads": "solid", "processes": "dash"}
TABLE_COLUMNS = ["impl", "workload", "model", "workers", "status", "n", "median_s",
                 "ci_low_s", "ci_high_s", "speedup", "gil_enabled"]  # fmt: skip


def impl_colours(impl_ids: list[str]) -> dict[str, str]:
    """One colour per implementation, the same on every chart of the report."""
    return {impl: PALETTE[i % len(PALETTE)] for i, impl in enumerate(impl_ids)}


def format_seconds(value: float) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if value >= 1:
        return f"{value:.3f} s"
    return f"{value * 1000:.1f} ms"


def format_ratio(value: float) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:.2f}×"


def scaling_figure(summary: pd.DataFrame, workload: str, colours: dict[str, str]) -> go.Figure:
    """Workers against speedup, one line per implementation and model."""
    figure = go.Figure()
    rows = summary[(summary["workload"] == workload) & (summary["status"] == "ok")]
    for (impl, model), line in rows.groupby(["impl", "model"], sort=False):
        line = line.sort_values("workers")
        figure.add_trace(
            go.Scatter(
                x=line["workers"],
                y=line["speedup"],
                mode="lines+markers",
                name=f"{impl} {model}",
                line={"color": colours[str(impl)], "dash": MODEL_DASH.get(str(model), "solid")},
            )
        )
    figure.update_layout(
        title=f"{workload}: speedup against workers",
        xaxis={"title": "workers", "dtick": 1},
        yaxis={"title": "speedup (× serial, 1 worker)", "rangemode": "tozero"},
        margin={"l": 50, "r": 10, "t": 50, "b": 40},
        height=420,
        legend={"orientation": "h", "y": -0.2},
    )
    return figure


def format_markdown(summary: pd.DataFrame, run: Run) -> str:
    """The headline table, for a CI job summary or a PR comment."""
    shown = summary[TABLE_COLUMNS].copy()
    shown["median_s"] = shown["median_s"].map(format_seconds)
    shown["ci_low_s"] = shown["ci_low_s"].map(format_seconds)
    shown["ci_high_s"] = shown["ci_high_s"].map(format_seconds)
    shown["speedup"] = shown["speedup"].map(format_ratio)
    machine = run.manifest.get("machine", {})
    head = (
        f"# gilbench run {run.manifest.get('run')}\n\n"
        f"{machine.get('cpu_count')} CPUs ({machine.get('cpu_model')}), {machine.get('os')}; "
        f"profile {run.manifest.get('profile')}.\n\n"
    )
    return head + shown.to_markdown(index=False) + "\n"


def render_report(run: Run, out_dir: Path | None = None) -> pd.DataFrame:
    """Write summary.csv, summary.md, index.html and assets/ into the run's folder."""
    out = out_dir or run.directory
    summary = summarize(run)
    summary.to_csv(out / "summary.csv", index=False, float_format="%.6g")
    (out / "summary.md").write_text(format_markdown(summary, run))
    _write_assets(out)
    impl_ids = [i["id"] for i in run.manifest.get("impls", [])]
    colours = impl_colours(impl_ids)
    charts = [
        scaling_figure(summary, workload, colours).to_html(
            full_html=False, include_plotlyjs=False, div_id=f"chart-{n}"
        )
        for n, workload in enumerate(summary["workload"].drop_duplicates())
        if (summary[summary["workload"] == workload]["status"] == "ok").any()
    ]
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,  # every string from a result file is escaped
        undefined=jinja2.StrictUndefined,
    )
    env.filters["seconds"] = format_seconds
    env.filters["ratio"] = format_ratio
    page = env.get_template("report.html.j2").render(
        run=run.manifest,
        rows=summary.to_dict("records"),
        charts=charts,
        colours=colours,
        impls=run.manifest.get("impls", []),
        machine=run.manifest.get("machine", {}),
    )
    (out / "index.html").write_text(page)
    return summary


def _write_assets(out: Path) -> None:
    assets = out / "assets"
    assets.mkdir(exist_ok=True)
    target = assets / "plotly.min.js"
    text: Any = plotly.offline.get_plotlyjs()
    if not target.exists() or target.stat().st_size != len(text.encode()):
        target.write_text(text)
