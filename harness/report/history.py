"""What the history site states: the runs index, the trend charts and the changes page.
Pure: strings out.

Every figure comes from the history's tables (archive.py), each written once when its run
was added; every change is a decision taken once over them (history/read.py), rendered
here as it was decided.
"""

# ruff: noqa: RUF001

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from harness.history.archive import Entry
from harness.history.decision import Change
from harness.history.instructions import FLOOR, NOISE_TIMES
from harness.history.read import History, run_classes
from harness.history.series import METRIC_LABELS, machines
from harness.machine import machine_class
from harness.report.answer import load_answer
from harness.report.changelog import format_decided, run_link
from harness.report.charts import format_figure_json, impl_colours
from harness.report.format import format_category
from harness.report.pages import environment
from harness.report.trends import ago_figure, earlier_runs, palette_colour, trend_figure

# Runs whose downloads (summary.csv, values.parquet, raw JSON) the site carries, newest
# first. Only the runs whose pages the history keeps have pages on the site (the newest
# archive.KEEP_PAGES); every run keeps its row in the index, its points in the trends and
# its tables in the history (docs/measurements.md, "The published site").
DOWNLOADS = 7
SITE_PAGES = {"index.html": "Runs", "trends.html": "Trends", "changes.html": "Changes"}


def run_dates(history: History) -> dict[str, str]:
    """Each run's creation time in UTC, as plotly's date axes read it (no offset)."""
    return {
        e.id: datetime.fromisoformat(str(e.record["created"]))
        .astimezone(UTC)
        .strftime("%Y-%m-%d %H:%M:%S")
        for e in history.entries
    }


def render_site_pages(history: History) -> dict[str, str]:
    """index.html, trends.html and changes.html, by file name."""
    env = environment()
    paged = {e.id for e in history.entries if e.has_pages}
    env.globals.update(site_pages=SITE_PAGES, run_link=lambda run: run_link(run, paged))
    dates = run_dates(history)
    colours = impl_colours(str(i) for i in history.points.get("impl", []))
    decided = format_decided(history.counts())  # e.g. "2 regressions and 1 improvement"
    common = {"history": history, "newest": history.newest, "colours": colours, "decided": decided}
    rows = [{**_index_row(e), "downloads": n < DOWNLOADS}
            for n, e in enumerate(reversed(history.entries))]  # fmt: skip
    pages: dict[str, dict[str, Any]] = {
        "index.html": {
            "rows": rows,
            "ago": _ago_charts(history, colours),
            "answer": load_answer(history.newest.folder / "report" / "answer.json"),
        },
        "trends.html": {"sections": _trend_sections(history, colours, dates)},
        "changes.html": {
            "changes": [(c, c.describe()) for c in history.changes],
            "dates": dates,
            "instruction_floor": FLOOR,
            "instruction_times": NOISE_TIMES,
        },
    }
    return {
        page: env.get_template(f"site-{page}.j2").render(page=page, **common, **extra)
        for page, extra in pages.items()
    }


def format_night(night: Mapping[str, Any]) -> str:
    """``attempt 2 of night 123, replaces attempt 1``: what a re-run's entry stands for."""
    said = f"attempt {night['attempt']} of night {night['id']}"
    replaced = [str(a) for a in night.get("replaces", [])]
    if replaced:
        plural = "s" if len(replaced) > 1 else ""
        said += f", replaces attempt{plural} {', '.join(replaced)}"
    return said


def _index_row(entry: Entry) -> dict[str, Any]:
    record = entry.record
    versions = record["versions"]
    family = {str(i["id"]): i.get("family") for i in entry.manifest["impls"]}
    cpython = sorted({v for k, v in versions.items() if v and family.get(k) == "cpython"})
    others = [f"{k} {v}" for k, v in versions.items() if family.get(k) != "cpython"]
    machines = [
        f"{m.get('cpu_count')} × {m.get('cpu_model')}, {m.get('memory_gib')} GiB "
        f"({m['fingerprint'][:8]}{', ' + label if label else ''})"
        for label, m in record["machines"].items()
    ]
    speed = (
        "; ".join(
            f"{s['median_rate'] / 1e6:.1f} M/s (slowest {s['slowest_rate'] / 1e6:.1f})"
            for s in record["cpu_speed"]
        )
        or "not sampled"
    )
    commit = str(record["gilbench"].get("commit", ""))[:10]
    return {
        "id": entry.id,
        "date": str(record["created"]).replace("T", " ")[:16],
        "commit": commit,
        "version": record["gilbench"].get("version", ""),
        "cpython": ", ".join(cpython),
        "others": ", ".join(others),
        "machines": machines,
        "cells": record["cells"],
        "speed": speed,
        "profile": record["profile"],
        "raw": entry.has_raw,
        "pages": entry.has_pages,
        # a re-run's entry says so; a night's first attempt reads as any run
        "night": format_night(entry.night) if entry.night and entry.night["attempt"] > 1 else "",
    }


def _changes_for(history: History, metric: str, **match: object) -> list[Change]:
    return [
        c
        for c in history.changes
        if c.metric == metric and all(getattr(c, k) == v for k, v in match.items())
    ]


def _headline_workloads(points: pd.DataFrame) -> list[tuple[str, str]]:
    """(category, workload): each category's headline workload, else its first one."""
    speed = points[points["metric"] == "speedup"]
    chosen = []
    for category, rows in speed.groupby("category", sort=True):
        marked = rows[rows["headline"].astype(bool)]
        chosen.append((str(category), str((marked if len(marked) else rows)["workload"].iloc[0])))
    return chosen


def _trend_sections(
    history: History, colours: Mapping[str, str], dates: Mapping[str, str]
) -> list[dict[str, Any]]:
    points = history.points
    sections: list[dict[str, Any]] = []
    figures = []
    for category, workload in _headline_workloads(points):
        rows = points[(points["metric"] == "speedup") & (points["workload"] == workload)]
        for impl, own in rows.groupby("impl", sort=False):
            figures.append(
                trend_figure(
                    own,
                    f"{workload} ({format_category(category)}) on {impl}: speedup",
                    "speedup (×)",
                    lambda k: f"{k[2]} × {k[3]}",
                    palette_colour,
                    _changes_for(history, "speedup", workload=workload, impl=impl),
                    dates,
                    events=history.events,
                )
            )
    sections.append(
        {
            "id": "speedup",
            "title": "Speedup at each worker count",
            "text": "Each category's headline workload, per implementation and model; "
            "the speedup is over the same implementation's serial run at 1 worker.",
            "figures": figures,
        }
    )
    figures = []
    serial = points[points["metric"] == "throughput"]
    for name, rows in serial.groupby("workload", sort=True):
        workload = str(name)
        figures.append(
            trend_figure(
                rows,
                f"{workload}: serial throughput",
                "units/s (log)",
                lambda k: k[0],
                lambda k, i: colours.get(k[0], "#777777"),
                _changes_for(history, "throughput", workload=workload),
                dates,
                log_y=True,
                events=history.events,
            )
        )
    sections.append(
        {
            "id": "throughput",
            "title": "Serial throughput",
            "text": "Each implementation on one worker.",
            "figures": figures,
        }
    )
    sections += _instruction_section(history, colours, dates)
    overhead = points[points["metric"] == "overhead"]
    if len(overhead):
        figures = [
            trend_figure(
                overhead,
                "Free-threaded build's single-thread overhead",
                "time ratio (×)",
                lambda k: f"{k[0]} over the default build",
                lambda k, i: colours.get(k[0], "#777777"),
                _changes_for(history, "overhead"),
                dates,
                events=history.events,
            )
        ]
        sections.append(
            {
                "id": "overhead",
                "title": "Free-threaded overhead",
                "text": METRIC_LABELS["overhead"] + "; above 1 is slower.",
                "figures": figures,
            }
        )
    sections.append(
        {
            "id": "cpu-speed",
            "title": "CPU speed per run",
            "text": "The median and slowest rate of the samples each run took between "
            "its benchmarks: a slow night reads low here too; a slow interpreter "
            "doesn't.",
            "figures": [_cpu_figure(history, dates)],
        }
    )
    for section in sections:
        section["figures"] = [format_figure_json(f) for f in section["figures"]]
    return sections


def _instruction_section(
    history: History, colours: Mapping[str, str], dates: Mapping[str, str]
) -> list[dict[str, Any]]:
    """A chart per counted serial cell: its instructions per unit, on an axis of its own,
    where a step of a fraction of a percent shows (history/instructions.py decides it)."""
    counted = history.points[history.points["metric"] == "instructions"]
    figures = [
        trend_figure(
            rows,
            f"{workload} on {impl}: instructions per unit",
            "instructions per unit",
            lambda k: k[0],
            lambda k, i: colours.get(k[0], "#777777"),
            _changes_for(history, "instructions", workload=workload, impl=impl),
            dates,
            events=history.events,
        )
        for (workload, impl), rows in counted.groupby(["workload", "impl"], sort=True)
    ]
    if not figures:
        return []
    text = (
        "Each serial cell's instructions per unit, counted under cachegrind (no parallelism, "
        "no cache misses, no clock speed): a step beyond its measured noise is a change."
    )
    return [{"id": "instructions", "title": "Instructions per unit", "text": text,
             "figures": figures}]  # fmt: skip


def _cpu_figure(history: History, dates: Mapping[str, str]) -> dict[str, Any]:
    rows = []
    for order, entry in enumerate(history.entries):
        measured = machines(entry.manifest)
        for speed in entry.record["cpu_speed"]:
            label = str(speed["machine"])
            machine = measured.get(label) or next(iter(measured.values()))
            for which in ("median", "slowest"):
                value = float(speed[f"{which}_rate"]) / 1e6
                rows.append(
                    {
                        "metric": "cpu",
                        "impl": which,
                        "workload": label or "machine",
                        "model": "",
                        "workers": 0,
                        "machine_class": machine_class(machine),
                        "fingerprint": str(machine.get("fingerprint", "")),
                        "value": value,
                        "ci_low": float("nan"),
                        "ci_high": float("nan"),
                        "run": entry.id,
                        "order": order,
                    }
                )
    frame = pd.DataFrame(
        rows,
        columns=[
            "metric",
            "impl",
            "workload",
            "model",
            "workers",
            "machine_class",
            "fingerprint",
            "value",
            "ci_low",
            "ci_high",
            "run",
            "order",
        ],
    )
    return trend_figure(
        frame,
        "CPU speed while measuring",
        "M iterations/s",
        lambda k: f"{k[0]}{'' if k[1] == 'machine' else ' ' + k[1]}",
        palette_colour,
        [],
        dates,
        events=history.events,
    )


def _ago_charts(history: History, colours: Mapping[str, str]) -> list[str]:
    """The newest run's scaling curves over a week's and a month's earlier ones."""
    classes = run_classes(history.newest)  # a week earlier: on the newest run's classes
    dates = {e.id: datetime.fromisoformat(str(e.record["created"]))
             for e in history.entries if run_classes(e) & classes}  # fmt: skip
    runs = earlier_runs(dates, history.newest.id)
    points = history.points
    class_of = {
        (str(r), str(i)): str(c)
        for r, i, c in points[["run", "impl", "machine_class"]]
        .drop_duplicates()
        .itertuples(index=False)
    }
    charts = []
    for _category, workload in _headline_workloads(points[points["run"] == history.newest.id]):
        charts.append(
            format_figure_json(ago_figure(points, workload, "threads", runs, class_of, colours))
        )
    return charts
