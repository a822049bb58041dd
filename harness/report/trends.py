"""The history site's charts: each series over the runs, and the scaling curves of the
newest run beside those of a week and a month earlier. Pure: figure dicts out.

Each run's point carries its 95% interval as an error bar. A series is followed per class
of machine (history/series.py): where a chart holds several classes, each has a line of
its own, in the series' colour with a dash and marker of the class's, and a dashed rule
marks the run at which a class first appears. A line never joins two segments (a mean
over other workloads than the class's run before; a dashed rule says so). What changed
in a class's setup (events: kernel, runner image, packages, versions) is a dotted rule
labelled with the fields that changed, their values on hover. Each change decided is a
rule of its own, red for a regression, green for an improvement, labelled with its size
(an undecided move has none), its possible causes on hover.
"""

# ruff: noqa: RUF001

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

import pandas as pd

from harness.history.decision import Change
from harness.history.events import Event
from harness.history.series import composition, segments
from harness.report.charts import FONT, IDEAL_LINE, PALETTE, Figure, format_label
from harness.report.format import format_count

SEGMENT_RULE = {"color": "#777777", "dash": "dash", "width": 1}
EVENT_COLOUR = "#9A7D0A"
EVENT_RULE = {"color": EVENT_COLOUR, "dash": "dot", "width": 1}
KIND_COLOUR = {"regression": "#C0392B", "improvement": "#1E8449"}
# Each class of machine on a chart, in the order they first appear: a line's dash, marker.
CLASS_STYLES = (("solid", "circle"), ("dot", "square"), ("dashdot", "diamond"),
                ("longdash", "triangle-up"))  # fmt: skip
AGO = (("newest", 0, "solid"), ("a week earlier", 7, "dash"), ("a month earlier", 30, "dot"))
TREND_PX = 300
LINE = ["impl", "workload", "model", "workers"]  # a chart's series, its metric being one


def trend_figure(
    points: pd.DataFrame,
    title: str,
    y_title: str,
    name_of: Any,
    colour_of: Any,
    changes: Sequence[Change],
    dates: Mapping[str, str],
    log_y: bool = False,
    events: Sequence[Event] = (),
) -> Figure:
    """One chart: a line per series in ``points`` and class of machine, broken at each
    segment boundary, with the events of its classes and the changes decided."""
    ordered = segments(points)
    ordered["composition"] = composition(ordered)
    classes = list(dict.fromkeys(ordered.sort_values("order", kind="stable")["machine_class"]))
    several = len(classes) > 1
    traces: list[dict[str, Any]] = []
    rules: list[dict[str, Any]] = []
    notes: list[dict[str, Any]] = []
    mixed: set[str] = set()  # runs at which a line's mean is over other workloads
    colours: dict[tuple[Any, ...], int] = {}  # a series' colour, whatever its class
    for key, line in ordered.groupby([*LINE, "machine_class"], sort=False):
        series, machine = tuple(key[:-1]), str(key[-1])
        index = colours.setdefault(series, len(colours))
        x: list[Any] = []
        y: list[Any] = []
        plus: list[Any] = []
        minus: list[Any] = []
        text: list[Any] = []
        previous: int | None = None  # the segment of the class's run before
        columns = zip(line["run"].astype(str), line["segment"].astype(int), line["composition"],
                      line["value"].astype(float), line["ci_low"].astype(float),
                      line["ci_high"].astype(float), strict=True)  # fmt: skip
        for run, segment, mix, value, low, high in columns:
            if previous is not None and segment != previous:
                for gap in (x, y, plus, minus, text):  # no line across a segment boundary
                    gap.append(None)
                mixed.add(run)
            previous = segment
            x.append(dates.get(run, run))
            y.append(value)
            plus.append(high - value if math.isfinite(high) else None)
            minus.append(value - low if math.isfinite(low) else None)
            text.append(_composition_note(mix))
        colour = colour_of(series, index)
        dash, symbol = CLASS_STYLES[classes.index(machine) % len(CLASS_STYLES)]
        name = name_of(series) + (f" on {machine}" if several else "")
        # A mean says which workloads it is over; a cell's figure has nothing to add.
        over = "<br>%{text}" if any(text) else ""
        traces.append(
            {
                "type": "scatter",
                "mode": "lines+markers",
                "name": format_label(name),
                "x": x,
                "y": y,
                "line": {"color": colour, "width": 1.5, "dash": dash},
                "marker": {"size": 6, "color": colour, "symbol": symbol},
                "connectgaps": False,
                "error_y": {
                    "type": "data",
                    "array": plus,
                    "arrayminus": minus,
                    "visible": True,
                    "thickness": 1,
                    "width": 3,
                    "color": colour,
                },
                **({"text": text} if over else {}),
                "hovertemplate": f"%{{x}}: %{{y:.3g}}{over}<extra>%{{fullData.name}}</extra>",
            }
        )
    first = ordered.groupby("machine_class", sort=False)["order"].min()
    later = first[first > ordered["order"].min()]  # classes that came after the chart's first
    opened = set(ordered.loc[ordered["order"].isin(later), "run"].astype(str))
    for run in sorted(mixed | opened):
        where = dates.get(run, run)
        what = [said for said, at in (("a new class of machine", opened),
                                      ("workloads changed", mixed)) if run in at]  # fmt: skip
        rules.append(_rule(where, SEGMENT_RULE))
        notes.append(_note(where, " and ".join(what), "#777777"))
    marks = _event_marks([e for e in events if e.machine_class in classes], dates, several)
    rules += marks[0]
    notes += marks[1]
    for change in changes:
        where = dates.get(change.after_run, change.after_run)
        colour = KIND_COLOUR[change.kind]
        rules.append(_rule(where, {"color": colour, "width": 1.5}))
        note = _note(where, f"{change.ratio - 1:+.0%} {change.kind}", colour)
        notes.append({**note, "hovertext": format_label(change.describe())})
    layout = {
        "title": {"text": format_label(title), "font": {"size": 14}},
        "font": FONT,
        "height": TREND_PX,
        "margin": {"l": 60, "r": 20, "t": 40, "b": 40},
        "xaxis": {"type": "date", "title": {"text": "run"}},
        "yaxis": {"title": {"text": format_label(y_title)}, **({"type": "log"} if log_y else {})},
        "shapes": rules,
        "annotations": notes,
        "hovermode": "closest",
        "legend": {"orientation": "h", "y": -0.25},
    }
    return {"data": traces, "layout": layout}


def _event_marks(
    events: Sequence[Event], dates: Mapping[str, str], several: bool
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """A dotted rule per run at which a class's setup changed, labelled with the fields
    that changed (standing up along the rule) and their values on hover."""
    by_run: dict[str, list[Event]] = {}
    for event in events:
        by_run.setdefault(event.run, []).append(event)
    rules, notes = [], []
    for run, found in sorted(by_run.items()):
        where = dates.get(run, run)
        said = [format_label(e.describe() + (f" ({e.machine_class})" if several else ""))
                for e in found]  # fmt: skip
        rules.append(_rule(where, EVENT_RULE))
        notes.append(
            {
                **_note(where, ", ".join(dict.fromkeys(e.field for e in found)), EVENT_COLOUR),
                "y": 0,
                "yanchor": "bottom",
                "xanchor": "right",
                "textangle": -90,
                "font": {"size": 10, "color": EVENT_COLOUR},
                "hovertext": "<br>".join(said),
            }
        )
    return rules, notes


def _composition_note(mix: str) -> str:
    """``over 3 workloads: a, b, c`` for a mean's point, "" for a cell's."""
    names = [n for n in mix.split(",") if n]
    if not names:
        return ""
    return format_label(f"over {format_count(len(names), 'workload')}: {', '.join(names)}")


def _rule(x: str, line: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "type": "line",
        "xref": "x",
        "yref": "paper",
        "x0": x,
        "x1": x,
        "y0": 0,
        "y1": 1,
        "line": dict(line),
    }


def _note(x: str, text: str, colour: str) -> dict[str, Any]:
    return {
        "x": x,
        "xref": "x",
        "y": 1,
        "yref": "paper",
        "text": format_label(text),
        "showarrow": False,
        "yanchor": "bottom",
        "font": {"size": 11, "color": colour},
    }


def palette_colour(key: Any, index: int) -> str:
    return PALETTE[index % len(PALETTE)]


def earlier_runs(dates: Mapping[str, datetime], newest: str) -> list[tuple[str, str, str]]:
    """(label, run id, dash) of the newest run and the runs a week and a month before it:
    the newest run made at least that long before; none if the history is younger."""
    chosen = []
    for label, days, dash in AGO:
        cutoff = dates[newest] - timedelta(days=days)
        older = [run for run, when in dates.items() if when <= cutoff]
        if older:
            chosen.append((label, max(older, key=lambda r: dates[r]), dash))
    return chosen


def ago_figure(
    points: pd.DataFrame,
    workload: str,
    model: str,
    runs: Sequence[tuple[str, str, str]],
    class_of: Mapping[tuple[str, str], str],
    colours: Mapping[str, str],
) -> Figure:
    """Speedup against workers, a panel per implementation: the newest run's curve, drawn
    over a week's and a month's earlier curves measured on the same class of machine
    (``class_of``: by run and implementation)."""
    rows = points[
        (points["metric"] == "speedup")
        & (points["workload"] == workload)
        & (points["model"] == model)
    ]
    impls = list(dict.fromkeys(rows.loc[rows["run"] == runs[0][1], "impl"]))
    traces: list[dict[str, Any]] = []
    layout: dict[str, Any] = {
        "font": FONT,
        "height": 320,
        "hovermode": "closest",
        "margin": {"l": 50, "r": 20, "t": 50, "b": 60},
        "legend": {"orientation": "h", "y": -0.3},
        "title": {"text": format_label(f"{workload}, {model}"), "font": {"size": 14}},
    }
    width = 1 / max(len(impls), 1)
    top = max([2.0, *rows["workers"].astype(float)])
    for column, impl in enumerate(impls):
        suffix = "" if column == 0 else str(column + 1)
        layout[f"xaxis{suffix}"] = {
            "domain": [column * width + 0.02, (column + 1) * width - 0.02],
            "title": {"text": "workers"},
            "anchor": f"y{suffix}",
            "range": [0.8, top + 0.2],
        }
        layout[f"yaxis{suffix}"] = {
            "anchor": f"x{suffix}",
            "rangemode": "tozero",
            **({"matches": "y"} if column else {"title": {"text": "speedup"}}),
        }
        layout.setdefault("annotations", []).append(
            {
                "text": format_label(impl),
                "xref": "paper",
                "yref": "paper",
                "showarrow": False,
                "x": (column + 0.5) * width,
                "y": 1.0,
                "yanchor": "bottom",
                "font": {"color": colours.get(impl, "#444444")},
            }
        )
        newest_class = class_of.get((runs[0][1], impl))
        traces.append(
            {
                "type": "scatter",
                "mode": "lines",
                "x": [1, top],
                "y": [1, top],
                "line": IDEAL_LINE,
                "name": "ideal",
                "legendgroup": "ideal",
                "showlegend": column == 0,
                "xaxis": f"x{suffix}",
                "yaxis": f"y{suffix}",
                "hoverinfo": "skip",
            }
        )
        for label, run, dash in runs:
            if class_of.get((run, impl)) != newest_class:
                continue  # another class of machine's curve says nothing about this one's
            line = rows[(rows["run"] == run) & (rows["impl"] == impl)].sort_values("workers")
            if line.empty:
                continue
            x, y = line["workers"].tolist(), line["value"].tolist()
            if 1 not in x:  # every curve starts from the serial run at 1 worker
                x, y = [1, *x], [1.0, *y]
            traces.append(
                {
                    "type": "scatter",
                    "mode": "lines+markers",
                    "x": x,
                    "y": y,
                    "name": format_label(f"{label} ({run[:8]})"),
                    "legendgroup": label,
                    "showlegend": column == 0,
                    "xaxis": f"x{suffix}",
                    "yaxis": f"y{suffix}",
                    "line": {"color": colours.get(impl, "#444444"), "dash": dash},
                    "hovertemplate": f"{format_label(label)}: %{{y:.2f}}× at %{{x}} workers"
                    "<extra></extra>",
                }
            )
    return {"data": traces, "layout": layout}
