"""The report's interactive charts, as plotly figures serialised for a local script to draw.

Plotly reads a subset of HTML in every label (names, titles, axis categories), so each string
from a result file goes through ``format_label``; the JSON is made safe to sit inside a
``<script type="application/json">`` element by ``format_figure_json``.
"""

# Typographic en dashes and multiplication signs are meant for the report's readers.
# ruff: noqa: RUF001

from __future__ import annotations

import functools
import html
import math
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import plotly.io

from harness.report.format import format_category, format_count
from harness.results import records

if TYPE_CHECKING:
    from harness.report.build import Report

# Okabe-Ito: distinguishable with the common colour-vision deficiencies.
PALETTE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442",
           "#000000"]  # fmt: skip
MODEL_DASH = {"serial": "dot", "threads": "solid", "processes": "dash",
              "subinterpreters": "dashdot", "asyncio": "longdash"}  # fmt: skip
MODEL_SYMBOL = {"serial": "square", "threads": "circle", "processes": "diamond",
                "subinterpreters": "triangle-up", "asyncio": "cross"}  # fmt: skip
BAND_OPACITY = 0.12  # light enough that three overlapping bands stay readable
X_PAD = 0.15  # of the worker range: half a tick label's width at 420 px
GEOMEAN_LABEL = "geometric mean"  # has a space, so it can never be a workload's module name
Figure = dict[str, Any]  # {"data": [...], "layout": {...}}: what plotly.js draws
FONT = {"family": "system-ui, -apple-system, Segoe UI, sans-serif", "size": 13}


def impl_colours(impl_ids: Iterable[str]) -> dict[str, str]:
    """One colour per implementation, the same on every chart and table of the report."""
    return {impl: PALETTE[i % len(PALETTE)] for i, impl in enumerate(dict.fromkeys(impl_ids))}


def format_label(text: object) -> str:
    """A string from a result file, escaped for plotly's HTML-like labels."""
    return html.escape(str(text), quote=False)


def format_figure_json(figure: Figure) -> str:
    """The figure as JSON that can't close or open an HTML element, whatever its strings."""
    text = str(plotly.io.to_json(figure, validate=False))  # NaN becomes null, as JSON needs
    # plotly 6+ already escapes these; doing it here keeps the page safe on any version.
    for char, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
        text = text.replace(char, escaped)
    return text


def _rgba(colour: str, alpha: float) -> str:
    red, green, blue = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({red},{green},{blue},{alpha})"


def _hover(row: Mapping[str, object]) -> str:
    speedup = float(str(row["speedup"]))
    lines = [
        f"<b>{format_label(row['impl'])} {format_label(row['model'])}</b>, "
        f"{format_count(int(str(row['workers'])), 'worker')}",
        f"{float(str(row['throughput'])):.3g} units/s "
        f"(95% CI {float(str(row['tp_low'])):.3g}–{float(str(row['tp_high'])):.3g})",
        f"speedup {speedup:.2f}×, efficiency {float(str(row['efficiency'])):.0%}",
    ]
    if row["flag"]:
        lines.append(f"⚠ {format_label(row['flag'])}")
    return "<br>".join(lines)


def scaling_charts(report: Report) -> list[dict[str, str]]:
    """One scaling chart per workload that has a finished cell: title, caption, figure JSON."""
    summary = report.summary
    meta = {w["name"]: w for w in report.manifest["workloads"]}
    charts = []
    for workload, rows in summary.groupby("workload", sort=False):
        if not (rows["status"] == "ok").any():
            continue
        title = f"{workload} ({format_category(str(rows['category'].iloc[0]))})"
        figure = scaling_figure(summary, str(workload), title, report.colours)
        charts.append({"workload": str(workload), "title": title,
                       "description": str(meta.get(workload, {}).get("description", "")),
                       "json": format_figure_json(figure)})  # fmt: skip
    return charts


def scaling_figure(summary: pd.DataFrame, workload: str, title: str,
                   colours: Mapping[str, str]) -> Figure:  # fmt: skip
    """Workers against throughput, one line per implementation and model, with 95% bands."""
    traces: list[dict[str, Any]] = []
    rows = summary[(summary["workload"] == workload) & (summary["status"] == "ok")].copy()
    rows["tp_low"] = rows["workers"] / rows["ci_high_s"]
    rows["tp_high"] = rows["workers"] / rows["ci_low_s"]
    for (impl, model), line in rows.groupby(["impl", "model"], sort=False):
        line = line.sort_values("workers")
        colour, group = colours.get(str(impl), "#777777"), format_label(f"{impl} {model}")
        band = line.dropna(subset=["tp_low", "tp_high"])
        if len(band):
            workers = band["workers"].tolist()
            traces.append({
                "type": "scatter", "x": workers + workers[::-1],
                "y": band["tp_high"].tolist() + band["tp_low"].tolist()[::-1],
                "fill": "toself", "fillcolor": _rgba(colour, BAND_OPACITY), "mode": "none",
                "hoverinfo": "skip", "showlegend": False, "legendgroup": group,
            })  # fmt: skip
        symbol = MODEL_SYMBOL.get(str(model), "circle")
        traces.append({
            "type": "scatter", "x": line["workers"].tolist(), "y": line["throughput"].tolist(),
            "mode": "lines+markers", "name": group, "legendgroup": group,
            "line": {"color": colour, "dash": MODEL_DASH.get(str(model), "solid")},
            "marker": {"size": 8, "symbol": [symbol + ("-open" if f else "")
                                             for f in line["flag"]]},
            "text": [_hover(r) for r in records(line)],
            "hovertemplate": "%{text}<extra></extra>",
        })  # fmt: skip
    workers = sorted(int(w) for w in summary["workers"].unique())
    # Room at both ends so that the first and last tick labels show in a narrow window.
    pad = X_PAD * max(workers[-1] - workers[0], 1)
    layout = {
        "title": {"text": format_label(title), "font": {"size": 15}},
        "xaxis": {"tickvals": workers, "ticktext": [format_count(w, "worker") for w in workers],
                  "range": [workers[0] - pad, workers[-1] + pad]},
        "yaxis": {"title": {"text": "units of work per second"}, "rangemode": "tozero"},
        "margin": {"l": 55, "r": 10, "t": 45, "b": 30}, "height": 440,
        "legend": {"orientation": "h", "y": -0.18}, "font": FONT, "autosize": True,
        "template": _template(),
    }  # fmt: skip
    return {"data": traces, "layout": layout}


def heatmap_figure(report: Report) -> Figure:
    """Implementation x workload: best throughput against the reference on one worker."""
    headline, geomeans = report.comparison.headline, report.comparison.geomeans
    impls = list(dict.fromkeys(headline["impl"]))
    workloads = list(dict.fromkeys(headline["workload"]))
    cells = {(r["impl"], r["workload"]): r for r in records(headline)}
    geo = {r["impl"]: r for r in records(geomeans)}
    z, text = [], []
    for impl in impls:
        row = [cells[(impl, w)] for w in workloads]
        mean = geo.get(impl, {"ratio": math.nan, "noisy": "", "status": "–"})
        row.append({**mean, "model": "", "status": "–"})
        z.append([math.log2(c["ratio"]) if c["ratio"] > 0 else None for c in row])
        text.append([_heat_text(c["ratio"], str(c["status"]), str(c["noisy"]), str(c["model"]))
                     for c in row])  # fmt: skip
    ticks = [0.25, 0.5, 1, 2, 4, 8]
    heatmap = {
        "type": "heatmap", "z": z, "x": [format_label(w) for w in [*workloads, GEOMEAN_LABEL]],
        "y": [format_label(i) for i in impls], "text": text, "texttemplate": "%{text}",
        "hovertemplate": "%{y} on %{x}: %{text}<extra></extra>",
        "colorscale": "RdBu", "zmid": 0, "zmin": -2, "zmax": 2, "xgap": 2, "ygap": 2,
        "colorbar": {"tickvals": [math.log2(t) for t in ticks],
                     "ticktext": [f"{t:g}×" for t in ticks], "thickness": 12},
    }  # fmt: skip
    layout = {
        "yaxis": {"autorange": "reversed", "type": "category"},
        "xaxis": {"type": "category", "side": "bottom"},
        "height": 110 + 45 * len(impls), "margin": {"l": 80, "r": 10, "t": 10, "b": 60},
        "font": FONT, "autosize": True, "template": _template(),
    }  # fmt: skip
    return {"data": [heatmap], "layout": layout}


@functools.cache
def _template() -> dict[str, Any]:
    """plotly's light theme, copied into every figure (plotly.js has no named themes)."""
    theme: dict[str, Any] = plotly.io.templates["plotly_white"].to_plotly_json()
    return theme


def _heat_text(value: float, status: str, noisy: str, model: str) -> str:
    if np.isnan(value):
        return format_label(status)
    mark = " ⚠" if noisy else ""
    return f"{value:.2f}×{mark}" + (f"<br>{format_label(model)}" if model else "")
