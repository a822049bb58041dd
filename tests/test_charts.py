"""The scaling charts state the results table's figure for every cell: the point drawn, its
band and its hover are summary.csv's speedup and interval, as the page carries them."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from harness.report.format import format_times
from harness.results import CELL

Cell = tuple[str, str, str, int]
# The hover's first line names the cell a point shows: a line joined to its serial baseline
# draws that baseline's cell at 1 worker.
HOVER_CELL = re.compile(r"<b>(?P<impl>\S+) (?P<model>\S+)</b>, (?P<workers>\d+) workers?<br>")
CSV_DIGITS = 5e-6  # summary.csv writes 6 significant digits (write.py's float_format)


def page_figures(page: Path) -> dict[str, dict[str, Any]]:
    """The scaling figures embedded in the written overview, by workload (from each title)."""
    found = {}
    for chunk in page.read_text().split('<script type="application/json"')[1:]:
        figure = json.loads(chunk.split("</script>")[0].split(">", 1)[1])
        if any(t.get("mode") == "lines+markers" for t in figure["data"]):
            found[figure["layout"]["title"]["text"].split(" (")[0]] = figure
    return found


def drawn_lines(figure: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    """A figure's model lines ("lines+markers") or bands ("fill"), not legend entries."""
    traces = [t for t in figure["data"] if t["x"] != [None] and t["name"] != "ideal"]
    if kind == "fill":
        return [t for t in traces if t.get("fill") == "toself"]
    return [t for t in traces if t.get("mode") == "lines+markers"]


def load_summary(report: Path) -> pd.DataFrame:
    """summary.csv as written, indexed by cell."""
    text = {"impl": str, "workload": str, "model": str, "status": str}
    return pd.read_csv(report / "summary.csv", dtype=text).set_index(CELL).sort_index()


def test_every_cells_point_and_hover_give_summary_csvs_speedup(quick_report: Path) -> None:
    """Each point's y is its cell's speedup in summary.csv, and its hover quotes it as the
    report formats it; every measured non-serial cell is checked."""
    summary = load_summary(quick_report)
    figures = page_figures(quick_report / "index.html")
    assert sorted(figures) == ["hash_sha256", "io_sleep", "nbody"]
    checked: set[Cell] = set()
    for workload, figure in figures.items():
        for line in drawn_lines(figure, "lines+markers"):
            for x, y, hover in zip(line["x"], line["y"], line["text"], strict=True):
                shown = HOVER_CELL.match(hover)
                assert shown is not None, hover
                cell = (shown["impl"], workload, shown["model"], int(shown["workers"]))
                assert cell[3] == x and line["name"].startswith(cell[0] + " "), (cell, line)
                speedup = float(summary.loc[cell, "speedup"])
                assert y == pytest.approx(speedup, rel=CSV_DIGITS), cell
                assert f"<br>speedup {format_times(speedup)}" in hover, (cell, hover)
                if cell[2] != "serial":
                    checked.add(cell)
    measured = summary[(summary["status"] == "ok") & (summary["n"] > 0)]
    non_serial = measured[measured.index.get_level_values("model") != "serial"]
    assert len(checked) == len(non_serial) == 48


def test_every_band_is_its_cells_speedup_interval(quick_report: Path) -> None:
    """A line's 95% band runs through summary.csv's speedup interval at each of its cells,
    and pinches to 1 at the serial baseline, whose speedup is 1 by definition."""
    summary = load_summary(quick_report)
    checked = 0
    for workload, figure in page_figures(quick_report / "index.html").items():
        for band in drawn_lines(figure, "fill"):
            impl, model = band["name"].rsplit(" ", 1)
            half = len(band["x"]) // 2
            highs = zip(band["x"][:half], band["y"][:half], strict=True)
            lows = dict(zip(band["x"][half:], band["y"][half:], strict=True))
            for workers, high in highs:
                cell = (impl, workload, model, workers)
                if cell not in summary.index:  # the serial baseline the line starts from
                    cell = (impl, workload, "serial", 1)
                row = summary.loc[cell]
                expected = [row["speedup_ci_low"], row["speedup_ci_high"]]
                if cell[2:] == ("serial", 1):
                    assert all(math.isnan(e) for e in expected)
                    expected = [1.0, 1.0]
                assert [lows[workers], high] == pytest.approx(expected, rel=CSV_DIGITS), cell
                checked += 1
    assert checked > 48  # every non-serial cell, and the baselines their lines start from
