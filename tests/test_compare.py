"""Statistics and findings: intervals, ratios, roles, flags, and what may be stated."""

# The findings print multiplication signs for their readers; the tests quote them.
# ruff: noqa: RUF001

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from harness.compare import CELL, cell_samples, find_roles, summarize
from harness.findings import format_category, format_findings
from harness.intervals import ratio_estimate, ratio_estimates
from harness.results import OUTCOME_COLUMNS, PAIRED_COLUMNS, VALUE_COLUMNS, Run, load_run
from harness.verdicts import compare_run
from tests.conftest import DATA

QUICK = DATA / "runs" / "quick"
GOLDEN = DATA / "golden"
# GILBENCH_UPDATE_GOLDEN=1 rewrites the golden files instead of comparing with them.
UPDATE = os.environ.get("GILBENCH_UPDATE_GOLDEN") == "1"
Cell = tuple[str, str, str, int]
# Nine values spread by +-0.8% around a median: tight enough never to be flagged.
JITTER = 1 + 0.002 * (np.arange(9) - 4)


def assert_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if UPDATE:
        path.write_text(text)
    assert text == path.read_text(), f"{name} differs; GILBENCH_UPDATE_GOLDEN=1 rewrites it"


def impl_record(impl_id: str, gil: int, free_threaded: bool, version: str = "3.14.7",
                family: str = "cpython") -> dict[str, Any]:  # fmt: skip
    return {"id": impl_id, "family": family, "expect_gil": gil, "unavailable": "",
            "provenance": {"version": version, "free_threaded": free_threaded}}  # fmt: skip


def make_run(
    cells: Mapping[Cell, Sequence[float]],
    impls: Sequence[dict[str, Any]],
    categories: Mapping[str, str],
    failed: Mapping[Cell, tuple[str, str]] | None = None,
) -> Run:
    """A run in memory: these values per cell, and these failed cells with their reasons."""
    gil = {i["id"]: i["expect_gil"] for i in impls}
    values = [
        {"impl": impl, "workload": workload, "model": model, "workers": workers,
         "gil_enabled": gil[impl], "process": k // 3, "value": k % 3, "seconds": seconds,
         "cpu_count": 2, "cpus": 2, "oversubscribed": workers > 2, "checksum": "1",
         "start_method": ""}
        for (impl, workload, model, workers), series in cells.items()
        for k, seconds in enumerate(series)
    ]  # fmt: skip
    outcomes = [
        {"impl": i, "workload": w, "model": m, "workers": n, "pass": 1, "status": "ok",
         "detail": "", "elapsed_s": 1.0}
        for i, w, m, n in cells
    ] + [
        {"impl": i, "workload": w, "model": m, "workers": n, "pass": 1, "status": status,
         "detail": detail, "elapsed_s": 1.0}
        for (i, w, m, n), (status, detail) in (failed or {}).items()
    ]  # fmt: skip
    manifest = {
        "run": "synthetic", "profile": "test", "impls": list(impls),
        "machine": {"cpu_count": 2, "cpu_model": "test CPU", "os": "test OS"},
        "selection": {"models": ["serial", "threads", "processes"], "workers": [1, 2]},
        "workloads": [{"name": w, "category": c} for w, c in categories.items()],
    }  # fmt: skip
    return Run(
        Path("/nonexistent"),
        manifest,
        pd.DataFrame(outcomes, columns=OUTCOME_COLUMNS),
        pd.DataFrame(values, columns=VALUE_COLUMNS),
    )


def scaling_cells(impl: str, workload: str, one: float, threads2: float,
                  processes2: float) -> dict[Cell, list[float]]:  # fmt: skip
    """Cells whose medians are one unit in ``one`` s serially, and the given 2-worker rounds."""
    medians = {
        ("serial", 1): one, ("serial", 2): 2 * one, ("threads", 1): one,
        ("threads", 2): threads2, ("processes", 1): one, ("processes", 2): processes2,
    }  # fmt: skip
    return {(impl, workload, m, n): list(t * JITTER) for (m, n), t in medians.items()}


@pytest.fixture
def tight_run() -> Run:
    """3.14 gains nothing from threads; 3.14t is 10% slower alone and 1.9x on 2 threads."""
    cells = {
        **scaling_cells("3.14", "loop", one=0.100, threads2=0.200, processes2=0.1026),
        **scaling_cells("3.14t", "loop", one=0.110, threads2=0.1158, processes2=0.1158),
    }
    impls = [impl_record("3.14", 1, False), impl_record("3.14t", 0, True)]
    return make_run(cells, impls, {"loop": "cpu"})


def test_median_interval_is_scipys_order_statistic_interval() -> None:
    """Each cell's interval is exactly what scipy.stats.quantile_test gives for its values."""
    run = load_run(QUICK)
    summary = summarize(run).set_index(["impl", "workload", "model", "workers"])
    for key, values in cell_samples(run.values).items():
        ci: Any = stats.quantile_test(values, q=np.median(values), p=0.5).confidence_interval(0.95)
        assert summary.loc[key, "ci_low_s"] == ci.low
        assert summary.loc[key, "ci_high_s"] == ci.high


def test_speedup_interval_brackets_the_speedup() -> None:
    """Every bootstrap interval of a speedup holds the speedup of the medians."""
    summary = summarize(load_run(QUICK))
    rows = summary.dropna(subset=["speedup_ci_low"])
    assert len(rows) == 45  # every cell but the 9 serial one-worker baselines
    assert (rows["speedup_ci_low"] <= rows["speedup"] + 1e-12).all()
    assert (rows["speedup"] <= rows["speedup_ci_high"] + 1e-12).all()


def test_summary_and_comparison_tables_match_golden() -> None:
    """The cell table and every comparison table of the quick fixture are pinned."""
    run = load_run(QUICK)
    summary = summarize(run)
    assert_golden("report-summary.csv", summary.to_csv(index=False, float_format="%.6g"))
    comparison = compare_run(run, summary)
    tables = [
        f"## {name}\n" + getattr(comparison, name).to_csv(index=False, float_format="%.4g")
        for name in ("headline", "geomeans", "scaling", "overhead", "break_even", "models")
    ]
    assert_golden("report-tables.txt", "\n".join(tables))


def test_bootstrap_is_reproducible_and_batching_changes_nothing() -> None:
    """A fixed seed gives the same interval every time, alone or bootstrapped with others."""
    rng = np.random.default_rng(1)
    nums = [rng.lognormal(0, 0.1, 9) for _ in range(4)]
    dens = [rng.lognormal(0, 0.1, 9) for _ in range(4)]
    together = ratio_estimates(nums, dens)
    for i in range(4):
        alone = ratio_estimate([(nums[i], dens[i])])
        assert (alone.value, alone.low, alone.high) == tuple(together[i])


@pytest.mark.parametrize(
    ("ids", "free_threaded", "expected"),
    [
        (["3.15", "3.15t", "3.15t+gil"], [False, True, True], ("3.15", "3.15t", "3.15")),
        (["plain", "nogil"], [False, True], ("plain", "nogil", "plain")),
        (["pypy3.10", "3.13"], [False, False], ("pypy3.10", None, None)),
    ],
)
def test_roles_are_found_from_the_data(
    ids: list[str], free_threaded: list[bool], expected: tuple[str | None, ...]
) -> None:
    """The free-threaded build and its partner are found by id or provenance, never assumed."""
    impls = [
        impl_record(i, 0 if ft and not i.endswith("+gil") else 1, ft)
        for i, ft in zip(ids, free_threaded, strict=True)
    ]
    roles = find_roles({"impls": impls})
    assert (roles.reference, roles.free_threaded, roles.default) == expected


def test_tight_run_states_scaling_overhead_break_even_and_models(tight_run: Run) -> None:
    """With precise cells, every kind of finding is stated, with the ratios built in."""
    findings = format_findings(compare_run(tight_run, summarize(tight_run)))
    texts = [f.text for f in findings if f.stated]
    assert [f for f in findings if not f.stated] == []
    assert texts[0].startswith(
        "On pure-Python CPU work (loop), 3.14t with 2 threads does 1.90× the work of 1 thread"
    )
    assert "; 3.14 does 1.00× (95% CI " in texts[0]
    assert texts[1].startswith(
        "Serial on one worker, 3.14t takes this multiple of 3.14's time: 1.10× on loop"
    )
    assert texts[2].endswith("beats the best model on 3.14: none up to 2 workers on loop.")
    assert "processes on 3.14 (1.95× the throughput of serial" in texts[3]


def test_a_wide_cell_is_flagged_and_its_finding_withheld(tight_run: Run) -> None:
    """A cell whose interval spans more than a quarter of its median is not stated."""
    values = tight_run.values.copy()
    noisy = (values["impl"] == "3.14t") & (values["model"] == "threads") & (values["workers"] == 2)
    values.loc[noisy, "seconds"] *= np.linspace(0.7, 1.3, 9)
    run = Run(tight_run.directory, tight_run.manifest, tight_run.outcomes, values)
    summary = summarize(run)
    cell = (
        (summary["impl"] == "3.14t") & (summary["model"] == "threads") & (summary["workers"] == 2)
    )
    flag = summary.loc[cell, "flag"].item()
    assert flag.startswith("wide spread: the 95% interval spans ")
    findings = format_findings(compare_run(run, summary))
    withheld = [f.text for f in findings if not f.stated]
    assert "Thread scaling of 3.14t on pure-Python CPU work: not stated; too noisy: " \
           "3.14t loop/threads/2." in withheld  # fmt: skip
    assert not any("3.14t with 2 threads" in f.text for f in findings if f.stated)


def _with_tokens(run: Run, cell: Cell) -> pd.DataFrame:
    """The run's values, the cell's marked with pairing tokens, one per worker process."""
    values = run.values.astype({"pairing": object})  # the fixture's column is all NaN
    rows = (values[CELL] == pd.Series(cell, index=CELL)).all(axis=1)
    values.loc[rows, "pairing"] = "w" + values.loc[rows, "process"].astype(str)
    return values


def _units(cell: Cell, seconds: Sequence[float]) -> pd.DataFrame:
    """Paired serial units for the cell's 9 values (3 processes x 3 values), in order."""
    impl, workload, model, workers = cell
    return pd.DataFrame(
        [{"impl": impl, "workload": workload, "model": model, "workers": workers,
          "pairing": f"w{k // 3}", "value": k % 3, "seconds": unit}
         for k, unit in enumerate(seconds)],
        columns=PAIRED_COLUMNS,
    )  # fmt: skip


def test_paired_serial_units_are_the_speedups_baseline(tight_run: Run) -> None:
    """Serial units timed beside a cell's values, not the serial cell, set its speedup."""
    cell = ("3.14t", "loop", "threads", 2)
    # the machine ran at 0.9 of its serial-cell speed while 3.14t's threads were measured
    paired = _units(cell, [0.110 / 0.9 * j for j in JITTER])
    run = Run(tight_run.directory, tight_run.manifest, tight_run.outcomes,
              _with_tokens(tight_run, cell), paired)  # fmt: skip
    summary = summarize(run).set_index(CELL)
    row = summary.loc[cell]
    assert bool(row["paired"])
    assert row["baseline_s"] == pytest.approx(0.110 / 0.9)
    assert row["speedup"] == pytest.approx(2 * 0.110 / 0.9 / 0.1158)
    assert row["speedup_ci_low"] <= row["speedup"] <= row["speedup_ci_high"]
    unpaired = summary.loc[("3.14t", "loop", "processes", 2)]  # falls back to serial/1
    assert not bool(unpaired["paired"])
    assert unpaired["speedup"] == pytest.approx(2 * 0.110 / 0.1158)


def test_worker_spread_is_the_median_of_each_values_slowest_over_quickest(
    tight_run: Run,
) -> None:
    """A cell's worker_spread is the median of its values' spreads; cells without are NaN."""
    cell = ("3.14t", "loop", "threads", 2)
    paired = _units(cell, [0.110 * j for j in JITTER])
    paired["worker_spread"] = [1.0, 1.5, 1.1, 1.2, 1.02, 1.4, 1.3, 1.05, 1.01]
    run = Run(tight_run.directory, tight_run.manifest, tight_run.outcomes,
              _with_tokens(tight_run, cell), paired)  # fmt: skip
    summary = summarize(run).set_index(CELL)
    assert summary.loc[cell, "worker_spread"] == pytest.approx(1.1)
    assert np.isnan(summary.loc[("3.14t", "loop", "processes", 2), "worker_spread"])
    assert np.isnan(summary.loc[("3.14t", "loop", "serial", 1), "worker_spread"])


def test_each_value_is_divided_by_the_units_timed_right_after_it(tight_run: Run) -> None:
    """The speedup is W x the median of unit/round per value, joined by process and index."""
    cell = ("3.14t", "loop", "threads", 2)
    values = _with_tokens(tight_run, cell)
    rows = (values[CELL] == pd.Series(cell, index=CELL)).all(axis=1)
    slow = np.array([1.0, 1.4, 1.0, 1.4, 1.4, 1.0, 1.0, 1.4, 1.0])  # the machine, per value
    values.loc[rows, "seconds"] = 0.1158 * slow * JITTER[::-1]
    units = 0.110 * slow * np.array([1.05, 0.97, 1.0, 1.03, 0.96, 0.95, 1.04, 1.02, 0.98])
    shuffled = _units(cell, units).sample(frac=1, random_state=3)  # order must not matter
    run = Run(tight_run.directory, tight_run.manifest, tight_run.outcomes, values, shuffled)
    row = summarize(run).set_index(CELL).loc[cell]
    ratios = 2 * units / values.loc[rows, "seconds"].to_numpy()
    assert row["speedup"] == pytest.approx(np.median(ratios))  # 1.89; pooled medians: 1.98
    assert row["speedup"] == pytest.approx(2 * 0.110 / 0.1158, rel=0.01)  # the drift cancels
    assert row["baseline_s"] == pytest.approx(np.median(units))
    assert row["speedup_ci_low"] <= row["speedup"] <= row["speedup_ci_high"]


def test_units_that_match_no_value_leave_the_cell_on_the_serial_baseline(
    tight_run: Run,
) -> None:
    """Paired units whose process token names no run are not guessed at: no pairing."""
    cell = ("3.14t", "loop", "threads", 2)
    stray = _units(cell, [0.2] * 9).assign(pairing="gone")
    run = Run(tight_run.directory, tight_run.manifest, tight_run.outcomes,
              _with_tokens(tight_run, cell), stray)  # fmt: skip
    row = summarize(run).set_index(CELL).loc[cell]
    assert not bool(row["paired"])
    assert row["speedup"] == pytest.approx(2 * 0.110 / 0.1158)


def test_a_speedup_surely_above_its_worker_count_carries_a_note(tight_run: Run) -> None:
    """Paired units 30% slower than the workers' own give 2.6x on 2 workers, with a note."""
    cell = ("3.14t", "loop", "processes", 2)
    paired = _units(cell, [0.1158 * 1.3 * j for j in JITTER])
    run = Run(tight_run.directory, tight_run.manifest, tight_run.outcomes,
              _with_tokens(tight_run, cell), paired)  # fmt: skip
    row = summarize(run).set_index(CELL).loc[cell]
    assert row["speedup"] == pytest.approx(2.6, rel=0.01)
    assert row["speedup_note"].startswith("superlinear: above 2 (95% interval from 2.")
    assert row["speedup_note"].endswith("the workers ran units faster than the serial baseline did")
    assert row["flag"] == ""  # the cell's own times are as good as ever
    untouched = summarize(tight_run).set_index(CELL).loc[cell]  # 1.90x: no note
    assert untouched["speedup_note"] == ""


def test_too_few_values_for_an_interval_are_flagged() -> None:
    """Fewer than six values give no 95% interval of the median: the cell is flagged."""
    cells = {("3.14", "w", "serial", 1): [0.1, 0.1, 0.1]}
    run = make_run(cells, [impl_record("3.14", 1, False)], {"w": "cpu"})
    assert summarize(run)["flag"].item() == "too few values for a 95% interval (n=3)"


def test_without_a_free_threaded_build_there_is_no_overhead_or_break_even() -> None:
    """Overhead and break-even findings need both builds; otherwise they say nothing."""
    cells = scaling_cells("3.14", "loop", one=0.1, threads2=0.2, processes2=0.1026)
    run = make_run(cells, [impl_record("3.14", 1, False)], {"loop": "cpu"})
    topics = {f.topic for f in format_findings(compare_run(run, summarize(run)))}
    assert topics == {"scaling", "models", "headline"}


def test_failed_cells_keep_their_status_and_reason(tight_run: Run) -> None:
    """A crashed cell is in the table with its reason and no figures; the rest is intact."""
    key = ("3.14t", "loop", "threads", 4)
    run = make_run({}, tight_run.manifest["impls"], {"loop": "cpu"},
                   failed={key: ("crashed", "Segmentation fault")})  # fmt: skip
    row = summarize(run).iloc[0]
    assert (row["status"], row["detail"], row["n"]) == ("crashed", "Segmentation fault", 0)
    assert np.isnan(row["median_s"]) and row["flag"] == ""


@pytest.mark.parametrize(
    ("category", "phrase"),
    [("cpu", "pure-Python CPU work"), ("c-release", "C code that releases the GIL"),
     ("gpu", "“gpu” work")],
)  # fmt: skip
def test_categories_read_as_phrases_with_the_raw_id_as_fallback(category: str, phrase: str) -> None:
    """Known categories become readable phrases; unknown ones are quoted as they are."""
    assert format_category(category) == phrase
