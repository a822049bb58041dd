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

from harness.compare.cells import throughput_interval
from harness.compare.decisions import DECIDED
from harness.report.format import (
    format_category,
    format_count,
    format_level,
    format_range,
    format_times,
)
from harness.results import records

if TYPE_CHECKING:
    from harness.report.build import Report

# Okabe-Ito: distinguishable with the common colour-vision deficiencies.
PALETTE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442",
           "#000000"]  # fmt: skip
# Dotted is the ideal line's; serial's own line (flat, in a run that measures it on several
# workers) must not look like it.
MODEL_DASH = {"serial": "longdashdot", "threads": "solid", "processes": "dash",
              "subinterpreters": "dashdot", "asyncio": "longdash"}  # fmt: skip
MODEL_SYMBOL = {"serial": "square", "threads": "circle", "processes": "diamond",
                "subinterpreters": "triangle-up", "asyncio": "cross"}  # fmt: skip
BAND_OPACITY = 0.12  # light enough that three overlapping bands stay readable
X_PAD = 0.15  # of the worker range: half a marker and a tick label in a 110 px panel
# Scaling panels: 3 columns of ~340 px fill the 1100 px page; more would squeeze the tick
# labels, fewer would make a run of 5 implementations three rows tall.
MAX_COLUMNS = 3
PANEL_PX = 200  # a panel's plot height: two rows and the legend fit a laptop's screen
PANEL_GAP_PX = 70  # between rows: the x axis's ticks and title, then the next row's title
PANEL_GAP_X = 0.07  # of the width between columns: room for the next panel's y tick labels
LEGEND_PX = 50  # below the bottom panels' axis title
IDEAL_LINE = {"color": "#999999", "dash": "dot", "width": 1.5}  # grey: no implementation's
LEGEND_INK = "#444444"  # the legend's model entries stand for every implementation's colour
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
    """A cell's figures as the results table gives them: its speedup (the point drawn) with
    its interval, then its throughput."""
    speedup, low, high = (float(str(row[c])) for c in ("speedup", "speedup_ci_low",
                                                        "speedup_ci_high"))  # fmt: skip
    level = format_level(float(str(row.get("speedup_level", math.nan))))
    interval = (
        "" if math.isnan(low) or math.isnan(high) else f" ({level} CI {format_range(low, high)})"
    )
    lines = [
        f"<b>{format_label(row['impl'])} {format_label(row['model'])}</b>, "
        f"{format_count(int(str(row['workers'])), 'worker')}",
        f"speedup {format_times(speedup)}{interval}, "
        f"efficiency {float(str(row['efficiency'])):.0%}",
        f"{float(str(row['throughput'])):.3g} units/s "
        f"(95% CI {float(str(row['tp_low'])):.3g}–{float(str(row['tp_high'])):.3g})",
    ]
    for note in (row["speedup_note"], row["flag"]):  # superlinear; too noisy
        if note:
            lines.append(f"⚠ {format_label(note)}")
    return "<br>".join(lines)


def scaling_charts(report: Report) -> list[dict[str, str]]:
    """One scaling chart per workload that has a cell with a speedup: title, caption, JSON."""
    summary = report.summary
    meta = {w["name"]: w for w in report.manifest["workloads"]}
    charts = []
    for workload, rows in summary.groupby("workload", sort=False):
        if not _drawn(rows).any():
            continue
        title = f"{workload} ({format_category(str(rows['category'].iloc[0]))})"
        figure = scaling_figure(summary, str(workload), title, report.colours)
        charts.append({"workload": str(workload), "title": title,
                       "description": str(meta.get(workload, {}).get("description", "")),
                       "json": format_figure_json(figure)})  # fmt: skip
    return charts


def _drawn(rows: pd.DataFrame) -> pd.Series:
    """The cells a scaling chart draws: measured, with a speedup. A cell without one (its
    serial baseline failed, or ran on another machine) is in the results table only."""
    return (rows["status"] == "ok") & rows["speedup"].notna()


def scaling_figure(summary: pd.DataFrame, workload: str, title: str,
                   colours: Mapping[str, str]) -> Figure:  # fmt: skip
    """Workers against speedup: a panel per implementation, a line per model, 95% bands.

    Each point is its cell's ``speedup`` from the results table and its band that figure's
    95% interval, so the chart, its hover and summary.csv state one figure per cell. Each
    model's line starts at the implementation's serial cell on 1 worker, the baseline of
    its speedups (1 by definition, with no interval of its own), unless the model was
    measured on 1 worker itself: a quick run measures serial only there and the other
    models only above it. Ideal scaling is a speedup equal to the workers, in every panel.
    """
    rows = summary[(summary["workload"] == workload) & _drawn(summary)].copy()
    rows["tp_low"], rows["tp_high"] = throughput_interval(rows)
    baselines = (rows["model"] == "serial") & (rows["workers"] == 1)
    for end in ("speedup_ci_low", "speedup_ci_high"):  # the band meets the baseline's 1
        rows.loc[baselines, end] = rows.loc[baselines, end].fillna(1.0)
    impls = list(dict.fromkeys(map(str, rows["impl"])))
    workers = sorted(int(w) for w in summary["workers"].unique())
    traces: list[dict[str, Any]] = []
    for index, impl in enumerate(impls):
        axes = {"xaxis": f"x{_axis_suffix(index)}", "yaxis": f"y{_axis_suffix(index)}"}
        colour, own = colours.get(impl, "#777777"), rows[rows["impl"] == impl]
        baseline = own[baselines[own.index]]
        for model, line in own.groupby("model", sort=False):
            if len(baseline) and not (line["workers"] == 1).any():
                line = pd.concat([baseline, line])
            traces += _model_traces(line.sort_values("workers"), f"{impl} {model}",
                                    str(model), colour, axes)  # fmt: skip
        traces.append(_ideal_trace(workers, axes))
    legend = _legend(list(dict.fromkeys(map(str, rows["model"]))), bool(impls))
    return {"data": legend + traces, "layout": _grid_layout(title, impls, colours, workers)}


def _model_traces(line: pd.DataFrame, name: str, model: str, colour: str,
                  axes: Mapping[str, str]) -> list[dict[str, Any]]:  # fmt: skip
    """One model's band and line in one panel; the serial point it starts from keeps its
    own (square) marker, since that is the cell it shows."""
    traces: list[dict[str, Any]] = []
    common = {"type": "scatter", "name": format_label(name), "legendgroup": format_label(model),
              "showlegend": False, **axes}  # fmt: skip
    band = line.dropna(subset=["speedup_ci_low", "speedup_ci_high"])
    if len(band):
        workers = band["workers"].tolist()
        traces.append({
            **common, "x": workers + workers[::-1],
            "y": band["speedup_ci_high"].tolist() + band["speedup_ci_low"].tolist()[::-1],
            "fill": "toself", "fillcolor": _rgba(colour, BAND_OPACITY), "mode": "none",
            "hoverinfo": "skip",
        })  # fmt: skip
    symbols = [MODEL_SYMBOL.get(str(m), "circle") + ("-open" if f else "")
               for m, f in zip(line["model"], line["flag"], strict=True)]  # fmt: skip
    traces.append({
        **common, "x": line["workers"].tolist(), "y": line["speedup"].tolist(),
        "mode": "lines+markers", "line": {"color": colour, "dash": MODEL_DASH.get(model, "solid")},
        "marker": {"size": 8, "symbol": symbols}, "text": [_hover(r) for r in records(line)],
        "hovertemplate": "%{text}<extra></extra>",
    })  # fmt: skip
    return traces


def _ideal_trace(workers: list[int], axes: Mapping[str, str]) -> dict[str, Any]:
    """Ideal scaling in speedup space: W workers do W times the work of one."""
    return {
        "type": "scatter", "name": "ideal", "legendgroup": "ideal", "showlegend": False,
        "x": workers, "y": [float(w) for w in workers], "mode": "lines", "line": IDEAL_LINE,
        "text": [f"ideal: {format_times(w)} on {format_count(w, 'worker')}" for w in workers],
        "hovertemplate": "%{text}<extra></extra>", **axes,
    }  # fmt: skip


def _legend(models: list[str], ideal: bool) -> list[dict[str, Any]]:
    """The legend's entries, which draw nothing: each model once, in neutral ink since each
    panel draws it in its implementation's colour, then "ideal". A click on one hides its
    lines in every panel (they share its legend group)."""
    entries: list[dict[str, Any]] = [{
        "name": format_label(model), "mode": "lines+markers",
        "line": {"color": LEGEND_INK, "dash": MODEL_DASH.get(model, "solid")},
        "marker": {"size": 8, "symbol": MODEL_SYMBOL.get(model, "circle"), "color": LEGEND_INK},
    } for model in models]  # fmt: skip
    if ideal:
        entries.append({"name": "ideal", "mode": "lines", "line": IDEAL_LINE})
    # [None], not []: plotly.js hides a trace with no points, legend entry and all.
    return [{"type": "scatter", "x": [None], "y": [None], "legendgroup": e["name"],
             "hoverinfo": "skip", **e} for e in entries]  # fmt: skip


def _axis_suffix(index: int) -> str:
    return "" if index == 0 else str(index + 1)  # plotly's axes: x, x2, x3, ...


def _grid_layout(title: str, impls: list[str], colours: Mapping[str, str],
                 workers: list[int]) -> dict[str, Any]:  # fmt: skip
    """The panels' axes on a grid of at most MAX_COLUMNS columns, filled row by row.

    The panels share their axes from zero: a speedup is each implementation against its
    own serial run, so one scale reads for all, and the ideal line is the same in each
    (the heatmap compares implementations' throughput). Zooming one panel zooms them all.
    """
    count = max(len(impls), 1)
    rows = math.ceil(count / MAX_COLUMNS)
    columns = math.ceil(count / rows)  # 4 panels make 2 x 2, not 3 + 1
    plot_px = rows * PANEL_PX + (rows - 1) * PANEL_GAP_PX
    width = (1 - PANEL_GAP_X * (columns - 1)) / columns
    # Room at both ends so that the first and last markers aren't cut in half.
    pad = X_PAD * max(workers[-1] - workers[0], 1)
    margin = {"l": 55, "r": 10, "t": 75, "b": 45 + LEGEND_PX}  # t: title, then panel titles
    layout: dict[str, Any] = {
        "title": {"text": format_label(title), "font": {"size": 15}},
        "margin": margin, "height": plot_px + margin["t"] + margin["b"], "font": FONT,
        "autosize": True, "legend": {"orientation": "h", "traceorder": "normal",
                                     "y": -LEGEND_PX / plot_px, "yanchor": "top"},
        "template": _template(), "annotations": [],
    }  # fmt: skip
    for index, impl in enumerate(impls):
        row, column = divmod(index, columns)
        left, top = column * (width + PANEL_GAP_X), 1 - row * (PANEL_PX + PANEL_GAP_PX) / plot_px
        suffix = _axis_suffix(index)
        layout[f"xaxis{suffix}"] = {
            "domain": _domain(left, left + width), "anchor": f"y{suffix}", "tickvals": workers,
            "ticktext": [str(w) for w in workers], "range": [workers[0] - pad, workers[-1] + pad],
            **({"matches": "x"} if index else {}),
            # the lowest panel of each column names the axis
            **({"title": {"text": "workers"}} if index + columns >= count else {}),
        }  # fmt: skip
        layout[f"yaxis{suffix}"] = {
            "domain": _domain(top - PANEL_PX / plot_px, top), "anchor": f"x{suffix}",
            "rangemode": "tozero", **({"matches": "y"} if index else {}),
            **({"title": {"text": "speedup (×)"}} if column == 0 else {}),
        }  # fmt: skip
        swatch = f'<span style="color:{colours.get(impl, "#777777")}">■</span>'
        layout["annotations"].append({
            "text": f"{swatch} {format_label(impl)}", "x": left + width / 2, "y": top,
            "xref": "paper", "yref": "paper", "xanchor": "center", "yanchor": "bottom",
            "showarrow": False, "font": {"size": 13},
        })  # fmt: skip
    return layout


def _domain(low: float, high: float) -> list[float]:
    # Rounded: float sums give -5e-17 or 1.0000000000000002, which plotly.js rejects.
    return [round(low, 6) + 0.0, round(high, 6)]  # + 0.0 turns -0.0 into 0.0


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
        mean = geo.get(impl, {"ratio": math.nan, "decision": "undecided", "status": "–"})
        row.append({**mean, "model": "", "status": "–"})
        z.append([math.log2(c["ratio"]) if c["ratio"] > 0 else None for c in row])
        text.append([_heat_text(c["ratio"], str(c["status"]), str(c["decision"]), str(c["model"]))
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


def _heat_text(value: float, status: str, decision: str, model: str) -> str:
    if np.isnan(value):
        return format_label(status)
    mark = "" if decision in DECIDED else " ?"  # undecided against the reference
    return f"{value:.2f}×{mark}" + (f"<br>{format_label(model)}" if model else "")
