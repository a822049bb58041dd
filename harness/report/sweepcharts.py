"""The payload charts: per implementation, throughput against payload size, a line per model.

Each point is a cell of the results table: a model's throughput (units of work a second:
its workers over its round's typical time) at one payload size, at the most workers it was
measured at, with the 95% interval of that throughput as an error bar. Sizes are spaced
evenly in their order, since a payload of 0 has no place on a logarithmic axis; each tick
names its size. Charts of charts.py's kind: plotly figures for the page's script to draw.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from harness.compare.cells import throughput_interval
from harness.report.charts import (
    FONT,
    MODEL_DASH,
    MODEL_SYMBOL,
    PALETTE,
    Figure,
    format_figure_json,
    format_label,
)
from harness.run.sizes import PAYLOAD, base_name, format_size, size_of

if TYPE_CHECKING:
    from harness.report.build import Report

CHART_PX = 360  # one implementation's chart: a line per model and its legend


def payload_rows(summary: pd.DataFrame) -> pd.DataFrame:
    """The measured cells of payload workloads, each at its model's most workers there,
    with ``base`` (the workload), ``size`` in bytes and its throughput interval."""
    sized = [size_of(str(w)) for w in summary["workload"]]
    keep = [s is not None and s[0] == PAYLOAD for s in sized]
    rows = summary[pd.Series(keep, index=summary.index) & (summary["status"] == "ok")].copy()
    rows = rows[rows["median_s"].notna()]
    if rows.empty:
        return rows
    rows["base"] = [base_name(str(w)) for w in rows["workload"]]
    rows["size"] = [size[1] for size in map(size_of, map(str, rows["workload"])) if size]
    most = rows.groupby(["impl", "base", "model"])["workers"].transform("max")
    rows = rows[rows["workers"] == most].copy()
    rows["tp_low"], rows["tp_high"] = throughput_interval(rows)
    return rows.sort_values(["impl", "base", "size"])


def payload_figure(rows: pd.DataFrame, title: str) -> Figure:
    """One implementation and workload: a line per model, throughput over payload size."""
    sizes = sorted(set(rows["size"]))
    labels = [format_size(s, PAYLOAD) for s in sizes]
    traces: list[dict[str, Any]] = []
    for index, (model, line) in enumerate(rows.groupby("model", sort=False)):
        colour = PALETTE[index % len(PALETTE)]
        workers = int(line["workers"].iloc[0])
        traces.append({
            "type": "scatter", "mode": "lines+markers",
            "name": format_label(f"{model} ({workers} worker{'s' if workers > 1 else ''})"),
            "x": [format_size(s, PAYLOAD) for s in line["size"]],
            "y": line["throughput"].tolist(),
            "error_y": {"type": "data", "symmetric": False,
                        "array": (line["tp_high"] - line["throughput"]).tolist(),
                        "arrayminus": (line["throughput"] - line["tp_low"]).tolist()},
            "line": {"color": colour, "dash": MODEL_DASH.get(str(model), "solid")},
            "marker": {"size": 8, "symbol": MODEL_SYMBOL.get(str(model), "circle")},
            "hovertemplate": f"{format_label(model)}: %{{y:.3g}} units/s at %{{x}}<extra></extra>",
        })  # fmt: skip
    return {
        "data": traces,
        "layout": {
            "title": {"text": format_label(title)}, "font": FONT, "height": CHART_PX,
            "xaxis": {"title": {"text": "payload in and out of each unit"},
                      "type": "category", "categoryorder": "array", "categoryarray": labels},
            "yaxis": {"title": {"text": "units per second"}, "rangemode": "tozero"},
            "legend": {"orientation": "h", "y": -0.3},
            "margin": {"t": 50, "b": 110, "l": 70, "r": 20},
        },
    }  # fmt: skip


def payload_charts(report: Report) -> list[dict[str, str]]:
    """One chart per implementation and payload workload: title and JSON."""
    rows = payload_rows(report.summary)
    charts: list[dict[str, str]] = []
    if rows.empty:
        return charts
    for (impl, base), group in rows.groupby(["impl", "base"], sort=False):
        title = f"{base} on {impl}: throughput against payload size"
        charts.append({"impl": str(impl), "workload": str(base), "title": title,
                       "json": format_figure_json(payload_figure(group, title))})  # fmt: skip
    return charts
