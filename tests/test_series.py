"""A history's means carry the workloads they are over, and a night whose mean is over other
workloads starts a new segment: no change is found, and no line drawn, across it."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import pytest

from harness.compare.cells import summarize
from harness.compare.verdicts import compare_run
from harness.history.changes import find_changes
from harness.history.series import run_figures, segments
from harness.report.trends import trend_figure
from harness.results import Run, load_run
from tests.helpers import QUICK, impl_record, make_run, scaling_cells

STEP = np.r_[np.ones(10), np.full(6, 1.25)]  # the overhead rises by a quarter at run 10
ALL, FEWER = "hash_sha256,io_sleep,nbody", "io_sleep,nbody"


def overhead_points(compositions: Sequence[str] | None) -> pd.DataFrame:
    """16 runs of the overhead's mean, a 25% rise from run 10, with these compositions (no
    column at all for None: a history written before it)."""
    values = np.exp(np.random.default_rng(5).normal(0.0, 0.01, len(STEP))) * STEP
    points = pd.DataFrame(
        [
            {"metric": "overhead", "impl": "3.14t", "workload": "geomean", "model": "serial",
             "workers": 1, "fingerprint": "f", "value": v, "ci_low": v * 0.99,
             "ci_high": v * 1.01, "run": f"r{i:02d}", "order": i}
            for i, v in enumerate(values)
        ]
    )  # fmt: skip
    return points if compositions is None else points.assign(composition=list(compositions))


def figures_of(run: Run) -> pd.DataFrame:
    """The points ``run`` adds to a history, from compare's figures for it."""
    cells = summarize(run)
    return run_figures(run.manifest, cells, compare_run(cells))


def test_the_overhead_mean_carries_the_workloads_it_is_over() -> None:
    """The quick fixture's mean is over its three workloads; a night on which 3.14t crashed
    on one is a mean over the rest. A cell's figure has no composition."""
    figures = figures_of(load_run(QUICK))
    overhead = figures[figures["metric"] == "overhead"]
    assert overhead["composition"].tolist() == [ALL]
    assert (figures.loc[figures["metric"] != "overhead", "composition"] == "").all()
    cells = {
        **scaling_cells("3.14", "loop", one=0.100, threads2=0.200, processes2=0.1026),
        **scaling_cells("3.14", "spin", one=0.050, threads2=0.100, processes2=0.0513),
        **scaling_cells("3.14t", "loop", one=0.110, threads2=0.1158, processes2=0.1158),
    }
    crashed = {("3.14t", "spin", "serial", 1): ("crashed", "Segmentation fault")}
    impls = [impl_record("3.14", 1, False), impl_record("3.14t", 0, True)]
    run = make_run(cells, impls, {"loop": "cpu", "spin": "cpu"}, failed=crashed)
    figures = figures_of(run)
    assert figures.loc[figures["metric"] == "overhead", "composition"].tolist() == ["loop"]


def test_a_mean_over_other_workloads_is_never_compared_with_the_runs_before() -> None:
    """The same 25% rise is a regression over one composition, and nothing where the mean
    lost a workload at that run: it starts a new segment."""
    (change,) = find_changes(overhead_points([ALL] * 16))
    assert (change.kind, change.after_run) == ("regression", "r10")
    shifted = overhead_points([ALL] * 10 + [FEWER] * 6)
    assert find_changes(shifted) == []
    assert segments(shifted)["segment"].tolist() == [1] * 10 + [2] * 6


def test_points_without_a_composition_keep_one_segment() -> None:
    """A history written before compositions (no column, or none for a cell's figure) is
    not cut: its points stay one segment, and its changes are still found."""
    for points in (overhead_points(None), overhead_points([""] * 16)):
        assert segments(points)["segment"].tolist() == [1] * 16
        assert len(find_changes(points)) == 1
    older = overhead_points(None).iloc[:10]
    mixed = pd.concat([older, overhead_points([ALL] * 16).iloc[10:]], ignore_index=True)
    # the first mean whose workloads are known starts a segment: the older ones' aren't
    assert segments(mixed)["segment"].tolist() == [1] * 10 + [2] * 6


def test_the_trend_breaks_where_the_workloads_changed_and_says_so() -> None:
    """The line has a gap at the run whose mean is over other workloads, a rule marked
    "workloads changed" there, and each point's hover names its workloads."""
    points = overhead_points([ALL] * 10 + [FEWER] * 6)
    dates = {f"r{i:02d}": f"2026-12-{i + 1:02d}" for i in range(16)}
    figure = trend_figure(points, "overhead", "x", str, lambda k, i: "#000000", [], dates)
    (line,) = figure["data"]
    assert line["y"][10] is None and None not in line["y"][:10] + line["y"][11:]
    notes = [(n["x"], n["text"]) for n in figure["layout"]["annotations"]]
    assert notes == [("2026-12-11", "workloads changed")]
    assert line["text"][0] == "over 3 workloads: hash_sha256, io_sleep, nbody"
    assert line["text"][-1] == "over 2 workloads: io_sleep, nbody"
    assert line["hovertemplate"].startswith("%{x}: %{y:.3g}<br>%{text}<extra>")


def test_a_new_class_of_machine_gets_a_line_of_its_own_and_a_new_setup_breaks_nothing() -> None:
    """Another class of machine is a line of its own, marked where it first appears; another
    setup of the same class (a fingerprint that changed: a new kernel) breaks nothing."""
    points = overhead_points([ALL] * 16)
    dates = {f"r{i:02d}": f"2026-12-{i + 1:02d}" for i in range(16)}
    moved = points.assign(machine_class=["a"] * 10 + ["b"] * 6)
    figure = trend_figure(moved, "overhead", "x", str, lambda k, i: "#000000", [], dates)
    assert [len(line["y"]) for line in figure["data"]] == [10, 6]
    assert [line["line"]["dash"] for line in figure["data"]] == ["solid", "dot"]
    assert [line["name"] for line in figure["data"]][1].endswith(" on b")
    notes = [(n["x"], n["text"]) for n in figure["layout"]["annotations"]]
    assert notes == [("2026-12-11", "a new class of machine")]
    kernel = points.assign(fingerprint=["a"] * 10 + ["b"] * 6)
    figure = trend_figure(kernel, "overhead", "x", str, lambda k, i: "#000000", [], dates)
    (line,) = figure["data"]
    assert None not in line["y"] and figure["layout"]["annotations"] == []


def test_a_speedups_point_keeps_the_interval_its_adaptive_run_stated_at_its_look() -> None:
    """The frozen adaptive run's speedup points carry the results table's intervals, stated
    above 95% at the run's looks; a serial throughput's rests on the 95% round-time one."""
    from harness.compare.estimate import Terms, estimate_all, seconds
    from tests.helpers import ADAPTIVE

    run = load_run(ADAPTIVE)
    cells = summarize(run)
    points = run_figures(run.manifest, cells, compare_run(cells))
    keys = ["impl", "workload", "model", "workers"]
    speedups = points[points["metric"] == "speedup"].merge(cells.table, on=keys)
    assert len(speedups) >= 4 and (speedups["speedup_level"] > 0.95).all()
    assert (speedups["ci_low"] == speedups["speedup_ci_low"]).all()
    assert (speedups["ci_high"] == speedups["speedup_ci_high"]).all()
    serial = points[points["metric"] == "throughput"].merge(cells.table, on=keys)
    assert len(serial) and (serial["ci_high"] == serial["workers"] / serial["ci_low_s"]).all()
    cell = tuple(serial[keys].iloc[0])
    (at_95,) = estimate_all([Terms.of([(seconds(cell), 1.0)])], cells.samples, 0.95)
    assert serial["ci_low_s"].iloc[0] == pytest.approx(at_95.low, rel=1e-12)
