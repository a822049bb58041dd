"""Precision, not fixed effort: each cell's figures against a target, within a budget."""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from harness.cli import main, parse_request
from harness.compare.cells import summarize
from harness.compare.intervals import CONFIDENCE
from harness.compare.precision import half_width, needing
from harness.options import parse_args
from harness.provision import cpython
from harness.provision.impls import Impl
from harness.report.build import build_report
from harness.report.markdown import format_markdown
from harness.results import CELL, load_run
from harness.run import adaptive, allocation
from harness.run.adaptive import (
    MAX_VALUES,
    MIN_PASSES,
    MIN_VALUES,
    Adaptive,
    CellState,
    first_plan,
    kalibera_jones_values,
    projection,
    spread,
)
from harness.run.allocation import goals, processes_to_target
from harness.run.bench import Outcome
from harness.run.plan import PROFILES, Bench, plan
from harness.run.shards import Costs
from harness.run.workloads import Workload
from tests.helpers import ADAPTIVE, QUICK, TEST_WORKLOADS, assert_golden

ROOT = Path(__file__).resolve().parent.parent


def _row(table: pd.DataFrame, cell: tuple[str, str, str, int]) -> pd.Series:
    impl, workload, model, workers = cell
    found = table[(table["impl"] == impl) & (table["workload"] == workload)
                  & (table["model"] == model) & (table["workers"] == workers)]  # fmt: skip
    assert len(found) == 1
    return found.iloc[0]


def _quick_with_target(tmp_path: Path, target: float) -> Path:
    run = tmp_path / "run"
    shutil.copytree(QUICK, run)
    manifest = json.loads((run / "run.json").read_text())
    manifest["precision"] = {"target": target, "budget_s": 600.0}
    (run / "run.json").write_text(json.dumps(manifest))
    return run


def test_a_cells_precision_is_the_widest_half_width_of_its_own_figures() -> None:
    """precision = max over speedup and vs_ref of max(v - low, high - v) / v."""
    table = summarize(load_run(QUICK)).table
    row = _row(table, ("3.14t", "nbody", "threads", 2))
    widths = [half_width(row[v], row[f"{v}_ci_low"], row[f"{v}_ci_high"])
              for v in ("speedup", "vs_ref")]  # fmt: skip
    assert row["precision"] == pytest.approx(max(widths))
    assert row["precise"] == (max(widths) <= 0.02)


def test_the_reference_baseline_has_no_precision_of_its_own() -> None:
    """The reference's serial cell is 1 against itself twice: no figure, no precision."""
    table = summarize(load_run(QUICK)).table
    assert math.isnan(_row(table, ("3.14", "nbody", "serial", 1))["precision"])


def test_a_ratio_that_misses_the_target_sends_back_the_cells_it_rests_on() -> None:
    """An imprecise vs_ref needs more of its own cell and of the reference cell."""
    cells = summarize(load_run(QUICK))
    need = needing(cells.table, 0.02, cells.speedup, cells.vs_ref)
    vs_ref = _row(cells.table, ("pypy3.9", "nbody", "serial", 1))
    assert half_width(vs_ref["vs_ref"], vs_ref["vs_ref_ci_low"], vs_ref["vs_ref_ci_high"]) > 0.02
    assert ("pypy3.9", "nbody", "serial", 1) in need
    assert ("3.14", "nbody", "serial", 1) in need  # the reference it rests on
    assert all(far > 1 for far in need.values())


def test_cells_at_the_target_are_not_measured_again() -> None:
    """No cell whose figures (and the figures resting on it) are precise is sent back."""
    cells = summarize(load_run(QUICK))
    need = needing(cells.table, 0.02, cells.speedup, cells.vs_ref)
    precise = _row(cells.table, ("3.14t", "io_sleep", "threads", 2))["precision"]
    assert precise <= 0.02 and need  # others are sent back; this one, precise, is not
    assert ("3.14t", "io_sleep", "threads", 2) not in need  # nothing rests on it


def test_a_run_measured_to_a_target_marks_imprecise_cells_and_still_decides_on_them(
    tmp_path: Path,
) -> None:
    """With a recorded target, cells that missed it are flagged, and the findings resting on
    them are still decided by their own intervals: a flag is never a gate."""
    report = build_report(load_run(_quick_with_target(tmp_path, 0.02)))
    flags = report.summary.set_index(["impl", "workload", "model", "workers"])["flag"]
    assert flags[("3.14t", "nbody", "threads", 2)].startswith("imprecise: ±")
    assert flags[("3.14t", "io_sleep", "threads", 2)] == ""
    fixed = build_report(load_run(QUICK))
    assert [f.text for f in report.findings] == [f.text for f in fixed.findings]
    assert "the others are marked in the results table" in report.precision


def test_a_fixed_profile_run_shows_precision_but_is_judged_by_its_spread_alone() -> None:
    """A fixed run reports precision against the default without flagging on it."""
    report = build_report(load_run(QUICK))
    assert report.summary["precise"].eq(False).any()  # cells that missed the default
    assert not report.summary["flag"].str.startswith("imprecise").any()
    assert "(no width was asked for: the profile's effort is fixed)" in report.precision
    assert f"Precision: {report.precision}" in format_markdown(report)


def test_kalibera_jones_takes_many_values_where_processes_agree_and_few_where_they_differ() -> None:
    """Values per process rise with within-process variance and fall with between-process."""
    rng = np.random.default_rng(1)
    agree = [rng.normal(0.0, 0.05, 6) for _ in range(4)]
    differ = [rng.normal(shift, 0.001, 6) for shift in (0.0, 0.2, -0.2, 0.1)]
    assert kalibera_jones_values(agree, process_s=1.0, value_s=0.1) == MAX_VALUES
    assert kalibera_jones_values(differ, process_s=1.0, value_s=0.1) == MIN_VALUES


def test_kalibera_jones_follows_the_cost_of_a_process() -> None:
    """The dearer a process is against a value, the more values each process takes."""
    rng = np.random.default_rng(2)
    groups = [rng.normal(shift, 0.05, 6) for shift in (0.0, 0.04, -0.03, 0.02, -0.05)]
    cheap = kalibera_jones_values(groups, process_s=0.2, value_s=0.1)
    dear = kalibera_jones_values(groups, process_s=5.0, value_s=0.1)
    assert cheap < dear


def test_kalibera_jones_reads_the_sample_behind_the_cells_least_precise_figure() -> None:
    """A paired cell whose speedup is its wider figure is allocated on its per-value
    speedups; one whose ratio to the reference is wider, or an unpaired one, on its round
    times."""
    row = {"paired": True, "speedup": 1.9, "speedup_ci_low": 1.7, "speedup_ci_high": 2.1,
           "vs_ref": 1.0, "vs_ref_ci_low": 0.99, "vs_ref_ci_high": 1.01}  # fmt: skip
    assert allocation.served(row) == "ratios"
    assert allocation.served({**row, "vs_ref_ci_low": 0.5, "vs_ref_ci_high": 1.5}) == "seconds"
    assert allocation.served({**row, "vs_ref": math.nan}) == "ratios"  # the reference's cell
    assert allocation.served({**row, "paired": False}) == "seconds"


def test_a_process_takes_no_more_values_than_last_ten_seconds(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """However many values Kalibera and Jones ask for, a process's values (each with its
    paired units) last at most MAX_PROCESS_VALUES_S: rounds of the frozen adaptive run made
    a second long leave a paired cell 5 values of 2 s, a serial one 10 of 1 s."""
    found = adaptive.assess(ADAPTIVE, 0.02)
    slow = found.cells.table.assign(median_s=1.0)
    found = replace(found, cells=replace(found.cells, table=slow))
    cells = slow[["impl", "workload", "model", "workers"]].itertuples(index=False, name=None)
    states = {(str(i), str(w), str(m), int(n)): CellState(passes=[(3, 4.0)] * 3)
              for i, w, m, n in cells}  # fmt: skip
    monkeypatch.setattr(allocation, "kalibera_jones_values", lambda *_: MAX_VALUES)
    allocation.replan(states, found)
    taken = {(c[2], c[3]): (s.values, s.value_s) for c, s in states.items()}
    assert taken[("serial", 1)] == (10, 1.0) and taken[("threads", 2)] == (5, 2.0)
    assert all(n * s <= allocation.MAX_PROCESS_VALUES_S for n, s in taken.values())


def test_the_projection_names_the_cells_the_budget_leaves_imprecise() -> None:
    """Cells go cheapest to bring to the target first; those whose cumulative cost passes
    the budget are named."""
    far, near = ("a", "w", "threads", 2), ("b", "w", "threads", 2)
    states = {far: CellState(values=3, passes=[(3, 1.3), (3, 1.3)]),
              near: CellState(values=3, passes=[(3, 1.3), (3, 1.3)])}  # fmt: skip
    need, counts = {far: 4.0, near: 1.2}, {far: 6, near: 6}
    owed = {c: g - counts[c] for c, g in goals(need, counts).items()}
    assert goals({}, {far: 3}) == {far: 4}  # precise at the pilot: one process more
    total, left_out = projection(states, owed, 10.0)
    # A half-width is t(P - 1) s / sqrt(P) over P processes. At 6 processes that is
    # 1.050 s; far must bring it to 1.050 s / 4 = 0.262 s, which takes 59 processes
    # (t(58) / sqrt(59) = 0.2606), 53 more; near to 0.875 s: 8 (0.836), 2 more.
    assert processes_to_target(4.0, 6) == 59 and processes_to_target(1.2, 6) == 8
    assert total == pytest.approx((53 + 2) * 1.3)
    assert left_out == [far]  # near, 2.6 s, fits; far, 68.9 s more, does not
    assert projection(states, owed, 1000.0)[1] == []


def _matrix() -> list[Bench]:
    impls = [Impl(name, name, Path("/usr/bin/true")) for name in ("a", "b", "c")]
    loads = [Workload(name, Path(name), "cpu", (), "", 1) for name in ("x", "y")]
    return plan(impls, loads, ["serial", "threads"], [1, 2, 4])


def test_precision_bench_prints_each_cells_time_half_width_and_processes_both_ways() -> None:
    """format_table on two run folders (here the frozen adaptive run twice): a line per cell
    with its seconds, half-width and processes in each, their time ratio, and the medians,
    at the levels each run stated them (its looks' here; a fixed run's are 95%)."""
    from harness.run.precisionbench import format_levels, format_table

    table = summarize(load_run(ADAPTIVE)).table
    cells = table[CELL].itertuples(index=False, name=None)
    benches = [Bench(Impl(i, i, Path("/usr/bin/true")), Workload(w, Path(w), "cpu", (), "", 1),
                     m, int(n)) for i, w, m, n in cells]  # fmt: skip
    lines = format_table(benches, ADAPTIVE, ADAPTIVE, None).splitlines()
    for bench, processes, line in zip(benches, table["processes"], lines[1:], strict=False):
        words = line.split()
        assert words[:2] == [bench.impl.id, bench.name] and words[4] == "1.00x"
        assert words[-2:] == [str(processes), str(processes)]
    assert len([line for line in lines if " 1.00x " in line]) == len(benches)
    figures = int(np.isfinite(table["precision"].to_numpy(dtype=float)).sum())
    levels = pd.concat([table["speedup_level"], table["vs_ref_level"]]).dropna()
    assert levels.min() < levels.max()  # the run's looks spent different shares
    stated = f"{100 * levels.min():.4g}% to {100 * levels.max():.4g}%"
    [line] = [line for line in lines if line.startswith("precision (")]
    assert f"fixed {stated}, adaptive {stated})" in line
    assert f"{figures} of {figures} cells" in line
    assert format_levels(summarize(load_run(QUICK))) == f"{100 * CONFIDENCE:.4g}%"


def test_the_first_passes_take_worker_counts_in_turn_and_implementations_within_them() -> None:
    """Serial at 1 worker everywhere first, then each count across every implementation."""
    order = [b.cell for b in spread(_matrix())]
    assert order[:6] == [(i, w, "serial", 1) for w in "xy" for i in "abc"]
    assert [c[3] for c in order] == sorted(c[3] for c in order)
    assert order[6:12] == [(i, w, "threads", 1) for w in "xy" for i in "abc"]


def test_a_budget_too_short_for_the_first_passes_cuts_the_most_worker_cells_everywhere(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Every implementation keeps its few-worker cells, each measured through its whole
    pilot (three passes), none in part."""
    now = [0.0]
    costs = Costs({name: (10.0, 10.0) for name in "abc"}, "test")

    def measure(bench: Bench, *_: object) -> Outcome:
        now[0] += 10.0
        return Outcome("ok", "", 10.0)

    monkeypatch.setattr(adaptive, "attempt", measure)
    lines: list[str] = []
    profile = replace(PROFILES["adaptive"], budget_s=600.0)  # 20 of 36 cells' three passes
    matrix = Adaptive(_matrix(), {}, tmp_path, profile, costs, lines.append,
                      clock=lambda: now[0])  # fmt: skip
    assert matrix.step() and matrix.step() and matrix.step()
    passes = {cell: len(state.passes) for cell, state in matrix.states.items()}
    assert set(passes.values()) == {0, 3}
    measured = {cell for cell, n in passes.items() if n}
    assert len(measured) == 20 and {c[0] for c in measured} == set("abc")
    assert measured == {b.cell for b in spread(_matrix())[:20]}  # all at 1, some at 2
    assert (
        "covers about 20 of them, so about 16 cells at 2, 4 workers will not be measured"
        in (lines[0])
    )


def test_the_plan_says_nothing_is_cut_when_the_first_passes_fit() -> None:
    """Within the budget, the plan says the cells are measured again until every figure
    is decided and every cell is at the precision asked."""
    costs = Costs({name: (10.0, 10.0) for name in "abc"}, "test")
    line = first_plan(spread(_matrix()), costs, 3600.0, 0.02)
    assert line.startswith("36 cells to measure to ±2% within 60m00s")
    assert line.endswith("until every figure is decided and every cell is at the precision asked")


@pytest.mark.parametrize(
    ("argv", "line"),
    [
        (["--precision", "0"], "--precision takes a share like 0.02 or 2%"),
        (["--precision", "150%"], "--precision takes a share like 0.02 or 2%"),
        (["--precision", "tight"], "--precision takes a share like 0.02 or 2%"),
        (["--budget", "90"], "--budget takes a duration with its unit, like 90m"),
        (["--budget=-5m"], "--budget takes a duration with its unit, like 90m"),
        (["--budget", "soon"], "--budget takes a duration with its unit, like 90m"),
    ],
)
def test_a_bad_precision_or_budget_is_one_line_and_exit_2(
    argv: list[str], line: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """argparse refuses them before anything is built, saying what it takes."""
    with pytest.raises(SystemExit) as leaving:
        main(["compare", *argv])
    assert leaving.value.code == 2
    err = capsys.readouterr().err
    assert line in err and "Traceback" not in err


def test_precision_with_a_fixed_profile_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    """--precision asks for the adaptive profile; with --quick it is one line and exit 2."""
    assert main(["compare", "--quick", "--precision", "0.05"]) == 2
    assert capsys.readouterr().err == (
        "gilbench: error: --precision sets the adaptive profile's target; the quick profile "
        "measures a fixed effort: drop one of them\n"
    )


def test_compare_is_adaptive_by_default_and_the_fixed_profiles_stay() -> None:
    """No flag: adaptive, aimed at decisions with no width asked, within the default budget;
    quick and full keep their passes."""
    default = parse_request(parse_args(["compare"])).profile
    assert (default.name, default.precision, default.budget_s) == ("adaptive", None, 90 * 60.0)
    asked = parse_request(parse_args(["compare", "--precision", "1%", "--budget", "1h30m"]))
    assert (asked.profile.precision, asked.profile.budget_s) == (0.01, 5400.0)
    full = parse_request(parse_args(["compare", "--profile", "full", "--budget", "2h"])).profile
    assert (full.passes, full.precision, full.budget_s) == (20, None, 7200.0)
    assert parse_request(parse_args(["compare", "--quick"])).profile.passes == 3


def _run(reports: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "harness", "run", "--impl", "3.14", "--workload",
         str(TEST_WORKLOADS / "sleepy.py"), "--model", "serial,threads", "--workers", "1,2",
         "--sparse", "--no-count", "--reports", str(reports), *extra],
        cwd=ROOT, capture_output=True, text=True, check=False, timeout=900,
    )  # fmt: skip


@pytest.mark.e2e
def test_an_adaptive_run_stops_once_every_figure_is_decided(
    cpython_builds: tuple[cpython.CPythonBuild, cpython.CPythonBuild], tmp_path: Path
) -> None:
    """By default the run measures until its figures are decided: a steady workload's
    threads scale clearly after the pilot, and nothing is measured again."""
    done = _run(tmp_path, "--budget", "5m")
    assert done.returncode == 0, done.stderr[-2000:]
    assert "cells to measure within 5m00s" in done.stderr
    assert "after pass 3: 2 of 2 figures decided, 0 undecided; nothing is left" in done.stderr
    run = (tmp_path / "latest").resolve()
    assert load_run(run).outcomes["pass"].max() == MIN_PASSES
    assert "2 of 2 figures decided, 0 undecided, in " in done.stderr


@pytest.mark.e2e
def test_an_adaptive_run_stops_a_cell_once_its_figures_are_precise(
    cpython_builds: tuple[cpython.CPythonBuild, cpython.CPythonBuild], tmp_path: Path
) -> None:
    """With --precision, a steady workload reaches +-2% in its first passes and is not
    measured again."""
    done = _run(tmp_path, "--budget", "5m", "--precision", "2%")
    assert done.returncode == 0, done.stderr[-2000:]
    assert "cells to measure to ±2% within 5m00s" in done.stderr
    run = (tmp_path / "latest").resolve()
    summary = pd.read_csv(run / "summary.csv")
    threads = summary[summary["model"] == "threads"].iloc[0]
    assert threads["status"] == "ok" and bool(threads["precise"]) and threads["precision"] <= 0.02
    # it stopped because every figure was precise: before the budget and the last pass
    passes = load_run(run).outcomes.groupby("model")["pass"].max()
    assert 2 <= passes["threads"] < PROFILES["adaptive"].passes
    assert "; 1 of 1 cells with a figure at ±2%, in " in done.stderr
    assert "budget was spent" not in (run / "summary.csv").read_text()
    assert "Precision: 1 of 1 cell with a figure reached ±2%" in (run / "summary.md").read_text()


@pytest.mark.e2e
def test_a_budget_smaller_than_one_benchmark_records_every_cell_missing_with_the_reason(
    cpython_builds: tuple[cpython.CPythonBuild, cpython.CPythonBuild], tmp_path: Path
) -> None:
    """Nothing fits: the plan says so up front, and each cell is missing with the budget's
    reason; the report still renders."""
    done = _run(tmp_path, "--budget", "1s")
    assert done.returncode == 1
    assert "so about 2 cells at 1, 2 workers will not be measured" in done.stderr
    run = (tmp_path / "latest").resolve()
    summary = pd.read_csv(run / "summary.csv")
    assert set(summary["status"]) == {"missing"}
    assert summary["detail"].str.contains("budget of 0m01s was spent").all()
    assert (run / "index.html").is_file()


def test_replan_groups_a_real_runs_values_by_the_process_that_took_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """On a real adaptive run of pieces, each cell's variance components come from one
    group per process (pass, run): as many groups as the cell's ok attempts."""
    found = adaptive.assess(ADAPTIVE, 0.02)
    outcomes = load_run(ADAPTIVE).outcomes
    ok = outcomes[outcomes["status"] == "ok"]
    groups = ok.groupby(["impl", "workload", "model", "workers"])
    attempts = {(str(i), str(w), str(m), int(n)): len(g) for (i, w, m, n), g in groups}
    states = {cell: CellState(passes=[(3, 1.0)] * count) for cell, count in attempts.items()}
    seen: dict[int, int] = {}

    def spy(groups: list[np.ndarray], process_s: float, value_s: float) -> int:
        seen[len(seen)] = len(groups)
        return kalibera_jones_values(groups, process_s, value_s)

    monkeypatch.setattr(allocation, "kalibera_jones_values", spy)
    allocation.replan(states, found)
    assert sorted(seen.values()) == sorted(attempts.values()) and max(seen.values()) > 3


def test_a_real_adaptive_run_took_values_per_process_as_each_cell_needed() -> None:
    """In the frozen adaptive run, parallel cells' processes after the pilot took different
    numbers of values: Kalibera and Jones ran on each cell's own variance components."""
    lines = [json.loads(line) for line in (ADAPTIVE / "outcomes.jsonl").read_text().splitlines()]
    later = [line for line in lines if line["status"] == "ok" and line["pass"] > MIN_PASSES
             and (line["model"], line["workers"]) != ("serial", 1)]  # fmt: skip
    per_cell: dict[tuple[str, str, str, int], set[int]] = {}
    for line in later:
        cell = (line["impl"], line["workload"], line["model"], line["workers"])
        per_cell.setdefault(cell, set()).add(int(line["values"]))
    assert len(per_cell) >= 4
    assert len({min(v) for v in per_cell.values()} | {max(v) for v in per_cell.values()}) > 1


def test_the_frozen_adaptive_run_reads_as_its_golden_table() -> None:
    """The current format (pieces, paired files, values per process varying) gives the
    pinned results table."""
    table = summarize(load_run(ADAPTIVE)).table
    assert_golden("adaptive-summary.csv", table.to_csv(index=False, float_format="%.6g"))
