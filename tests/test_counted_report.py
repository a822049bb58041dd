"""A counted run's report: the frozen quick run with real instruction counts beside it.

tests/data/counts/quick.jsonl is a real count (nox -s instructions-bench, 5 repeats) of
the quick selection's serial cells on 3.14, 3.14t and 3.14t+gil; the quick run's time
interval for nbody's single-thread cost is far too wide to decide.
"""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import pandas as pd
import pytest

from harness import store
from harness.compare.cells import summarize
from harness.compare.verdicts import compare_run
from harness.report.findings import format_findings
from harness.report.format import format_times
from harness.results import CELL, load_run
from tests.helpers import DATA, QUICK, render

COUNTS = DATA / "counts" / "quick.jsonl"


@pytest.fixture(scope="module")
def counted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the quick run with the real counts as its counts.jsonl, reported."""
    run_dir = tmp_path_factory.mktemp("counted") / "quick"
    shutil.copytree(QUICK, run_dir)
    shutil.copyfile(COUNTS, store.counts_path(run_dir))
    render(load_run(run_dir))
    return run_dir


def test_nbodys_single_thread_cost_is_stated_in_instructions_where_time_cant_decide(
    counted: Path,
) -> None:
    """Where the time ratio's interval is too wide to decide, the single-thread cost is
    still stated, labelled an instruction ratio, with the time ratio and its decision
    beside it."""
    comparison = compare_run(summarize(load_run(counted)))
    row = comparison.overhead.set_index("workload").loc["nbody"]
    assert row["decision"] == "undecided" and row["ci_high"] / row["ci_low"] > 2
    assert row["instr_decision"] == "loses" and row["instr_ci_high"] / row["instr_ci_low"] < 1.001
    stated = [f.text for f in format_findings(comparison) if f.stated]
    (text,) = [t for t in stated if "in instructions executed per unit" in t]
    assert "(an instruction ratio, counted under cachegrind" in text
    low = format_times(row["instr_ci_low"])[:-1]  # the interval's first end, without its x
    assert f"{format_times(row['instr_ratio'])} on nbody (95% CI {low}" in text
    assert f"time {format_times(row['ratio'])}, undecided)" in text


def test_values_parquet_holds_each_serial_values_count_and_its_spread(counted: Path) -> None:
    """values.parquet carries each serial cell's instructions per unit and their CV over
    the count's repeats beside every one of its timed values; other cells' are NaN."""
    values = pd.read_parquet(counted / "values.parquet")
    summary = pd.read_csv(counted / "summary.csv").set_index(CELL)
    serial = values[(values["model"] == "serial") & values["impl"].isin(["3.14", "3.14t"])]
    assert len(serial) and serial["instructions"].notna().all()
    for key, rows in serial.groupby(CELL):
        # summary.csv: to the instruction, and the CV to 6 digits
        assert {round(v) for v in rows["instructions"]} == {summary.loc[key, "instructions"]}
        (cv,) = set(rows["instructions_cv"])
        assert cv == pytest.approx(summary.loc[key, "instructions_cv"], rel=1e-5)
    assert values.loc[values["model"] != "serial", "instructions"].isna().all()
    assert math.isnan(float(summary.loc[("3.14", "nbody", "threads", 2), "instructions"]))


def test_valgrinds_version_is_in_the_runs_provenance_and_a_new_one_is_an_event(
    tmp_path: Path,
) -> None:
    """run.json's machine records the valgrind on PATH (what counted), the implementations
    page shows it, and a class's new valgrind is an event of its history."""
    from harness.history.events import find_events
    from harness.machine import machine_info
    from harness.provision.valgrind import installed_version
    from tests.test_events import EPYC, entry

    assert machine_info()["valgrind"] == installed_version()
    run_dir = tmp_path / "quick"
    shutil.copytree(QUICK, run_dir)
    manifest = store.load_manifest(run_dir)
    machine = {**manifest["machine"], "valgrind": "valgrind-3.19.0"}
    store.write_manifest(run_dir, {**manifest, "machine": machine})
    render(load_run(run_dir))
    page = (run_dir / "impls.html").read_text()
    assert '<dd id="valgrind">valgrind-3.19.0 <span class="muted">(counts the serial' in page
    runs = [entry(0, {**EPYC, "valgrind": "valgrind-3.19.0"}),
            entry(1, {**EPYC, "valgrind": "valgrind-3.22.0"})]  # fmt: skip
    assert [e.describe() for e in find_events(runs)] == [
        "valgrind valgrind-3.19.0 → valgrind-3.22.0"
    ]


def _counted_copy(into: Path, created: str, step: float = 1.0) -> Path:
    """The quick run with its counts, made at ``created``; 3.14's nbody units ``step``
    times the instructions (its timed values unchanged)."""
    import json

    from tests.test_history import copy_run

    run_dir = copy_run(into, created)
    lines = []
    for line in COUNTS.read_text().splitlines():
        record = json.loads(line)
        if (record["impl"], record["workload"]) == ("3.14", "nbody"):
            first, more = record["instructions"]
            record["instructions"] = [first, first + round((more - first) * step)]
        lines.append(json.dumps(record))
    store.counts_path(run_dir).write_text("\n".join(lines) + "\n")
    return run_dir


def test_a_history_follows_each_counted_cell_and_finds_a_step_in_instructions_only(
    tmp_path: Path,
) -> None:
    """Three runs with the same counts, then one whose nbody units on 3.14 execute 2% more
    instructions: the history has a point per counted cell and run, decides one
    regression, at that run, in instructions only, and draws a chart per counted cell."""
    from harness.history.read import read_history
    from harness.publish import add_run, publish

    history = tmp_path / "history"
    for night, step in enumerate((1.0, 1.0, 1.0, 1.02), start=1):
        run = _counted_copy(tmp_path / "runs", f"2026-12-0{night}T03:17:00+00:00", step)
        add_run(run, history, keep_raw=1)
        found = read_history(history)
        counted = found.points[found.points["metric"] == "instructions"]
        assert len(counted) == 9 * night  # 3 workloads x 3.14, 3.14t, 3.14t+gil
        assert [c.metric for c in found.changes] == ([] if step == 1.0 else ["instructions"])
    (change,) = found.changes
    assert (change.kind, change.impl, change.workload) == ("regression", "3.14", "nbody")
    assert change.after_run == found.entries[-1].id and change.ratio == pytest.approx(1.02)
    assert change.counterpart.startswith("in instructions only: no change decided in time")
    assert found.new == [change]
    site = tmp_path / "site"
    publish(history, site)
    trends = (site / "trends.html").read_text()
    assert trends.count("instructions per unit") >= 9 and "Instructions per unit" in trends
    assert "in instructions only: no change decided in time" in (site / "changes.html").read_text()
