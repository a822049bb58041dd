"""Statistics and findings: intervals, the one estimator, roles, flags, what may be stated."""

# The findings print multiplication signs for their readers; the tests quote them.
# ruff: noqa: RUF001

from __future__ import annotations

import math
import re
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from harness.compare.cells import Cells, summarize
from harness.compare.estimate import Terms, estimate_all, geomean, ratio, ratios, seconds
from harness.compare.intervals import Sample
from harness.compare.roles import find_roles
from harness.compare.verdicts import adjusted, compare_run
from harness.countsfile import COUNT_COLUMNS
from harness.report.findings import format_break_even, format_findings
from harness.report.format import format_category, format_times
from harness.results import CELL, Run, load_run
from tests.helpers import (
    JITTER,
    QUICK,
    Cell,
    assert_golden,
    impl_record,
    make_run,
    scaling_cells,
    units,
)


@pytest.fixture(scope="module")
def quick() -> Cells:
    """The frozen quick run's results table, with its terms."""
    return summarize(load_run(QUICK))


@pytest.fixture
def tight_run() -> Run:
    """3.14 gains nothing from threads; 3.14t is 10% slower alone and 1.9x on 2 threads."""
    cells = {
        **scaling_cells("3.14", "loop", one=0.100, threads2=0.200, processes2=0.1026),
        **scaling_cells("3.14t", "loop", one=0.110, threads2=0.1158, processes2=0.1158),
    }
    impls = [impl_record("3.14", 1, False), impl_record("3.14t", 0, True)]
    return make_run(cells, impls, {"loop": "cpu"})


def _row(cells: Cells, cell: Cell) -> Any:
    return cells.table.set_index(CELL).loc[cell]


def test_a_cells_time_and_interval_rest_on_its_processes_not_its_values(quick: Cells) -> None:
    """A cell's time is the geometric mean of its process medians, with a t interval over
    its processes (n - 1 degrees of freedom): its values' count plays no part."""
    table = quick.table.set_index(CELL)
    run = load_run(QUICK)
    checked = 0
    for key, group in run.values.groupby(CELL):
        logs = np.log(group.groupby(["pass", "process"])["seconds"].median().to_numpy())
        half = stats.t.ppf(0.975, len(logs) - 1) * np.std(logs, ddof=1) / np.sqrt(len(logs))
        row = table.loc[key]
        assert row["processes"] == len(logs) == 3
        assert row["median_s"] == pytest.approx(np.exp(logs.mean()), rel=1e-12)
        assert row["ci_low_s"] == pytest.approx(np.exp(logs.mean() - half), rel=1e-12)
        assert row["ci_high_s"] == pytest.approx(np.exp(logs.mean() + half), rel=1e-12)
        checked += 1
    assert checked == len(run.values.groupby(CELL)) > 40


def test_every_measured_cell_but_the_baselines_has_a_speedup_interval(quick: Cells) -> None:
    """Every ok cell except serial/1 has a speedup whose interval brackets it."""
    table = quick.table
    ok = table[table["status"] == "ok"]
    base = (ok["model"] == "serial") & (ok["workers"] == 1)
    assert ok.loc[~base, "speedup_ci_low"].notna().all()
    assert (ok.loc[base, "speedup"] == 1).all() and ok.loc[base, "speedup_ci_low"].isna().all()
    rows = ok[~base]
    assert (rows["speedup_ci_low"] <= rows["speedup"] + 1e-12).all()
    assert (rows["speedup"] <= rows["speedup_ci_high"] + 1e-12).all()
    assert base.any() and len(rows)  # both kinds of cell were checked


def test_summary_and_comparison_tables_match_golden(quick: Cells) -> None:
    """The cell table and every comparison table of the quick fixture are pinned."""
    assert_golden("report-summary.csv", quick.table.to_csv(index=False, float_format="%.6g"))
    comparison = compare_run(quick)
    tables = [
        f"## {name}\n"
        + getattr(comparison, name).drop(columns="cells").to_csv(index=False, float_format="%.4g")
        for name in ("headline", "geomeans", "scaling", "overhead", "break_even", "models")
    ]
    assert_golden("report-tables.txt", "\n".join(tables))


def test_every_speedup_a_finding_states_is_the_results_tables_figure(quick: Cells) -> None:
    """Each speedup a scaling finding quotes, decided or undecided, is the table's figure for
    that cell, and every threads cell's speedup is quoted exactly once."""
    comparison = compare_run(quick)
    table = quick.table.set_index(CELL)
    workers = comparison.workers
    # The fixture has one workload per category, so each scaling figure is one cell's.
    assert (quick.table.groupby("category")["workload"].nunique() == 1).all()
    expected = sorted(c for c in quick.speedup if c[2:] == ("threads", workers))
    checked = []
    for finding in format_findings(comparison):
        if finding.topic != "scaling":
            continue
        if finding.stated:
            match = re.match(r"On .* \((\w+)\), (\d+) threads against 1 thread", finding.text)
            assert match is not None, finding.text
            workload, count = match.groups()
            stated = re.findall(r"(?:: |; )(\S+) (\d+\.\d\d)× \(", finding.text)
        else:
            match = re.match(r"Thread scaling of (\S+) on .* \((\w+)\) at (\d+) threads: "
                             r"undecided at (\d+\.\d\d)×", finding.text)  # fmt: skip
            assert match is not None, finding.text
            impl, workload, count, figure = match.groups()
            stated = [(impl, figure)]
        assert int(count) == workers
        for impl, shown in stated:
            speedup = table.loc[(impl, workload, "threads", workers), "speedup"]
            assert format_times(speedup) == f"{shown}×", (impl, workload)
            checked.append((impl, workload, "threads", workers))
    assert expected and sorted(checked) == expected


def test_findings_reuse_the_tables_estimates_exactly(quick: Cells) -> None:
    """Scaling, overhead and the reference's headline are the table's figures (break-even:
    the next test, as the fixture's default build is never best with threads)."""
    comparison = compare_run(quick)
    table = quick.table.set_index(CELL)
    roles, workers = comparison.roles, comparison.workers
    single = comparison.scaling[comparison.scaling["missing"] == 0]
    for row in single.itertuples():
        cell = table.loc[(row.impl, row.workloads, "threads", workers)]
        assert (row.ratio, row.ci_low, row.ci_high) == (
            cell["speedup"], cell["speedup_ci_low"], cell["speedup_ci_high"])  # fmt: skip
    for row in comparison.overhead[comparison.overhead["workload"] != ""].itertuples():
        cell = table.loc[(roles.free_threaded, row.workload, "serial", 1)]
        assert row.ratio == pytest.approx(1 / cell["vs_ref"], rel=1e-12)
        assert row.ci_low == pytest.approx(1 / cell["vs_ref_ci_high"], rel=1e-12)
    own = comparison.headline[comparison.headline["impl"] == roles.reference]
    for row in own.itertuples():
        cell = (row.impl, row.workload, row.model, workers)
        assert row.ratio == table.loc[cell, "speedup"]
        # picked among the models by its estimate: its interval is simultaneous over them
        (picked,) = quick.estimate([quick.speedup[cell]], adjusted(int(row.candidates)))
        assert (row.ci_low, row.ci_high) == (picked.low, picked.high)
        assert row.candidates > 1 and row.ci_low < table.loc[cell, "speedup_ci_low"]
    assert len(single) and len(comparison.overhead) and len(own)


def test_a_break_even_against_the_default_builds_threads_is_the_tables_vs_ref() -> None:
    """Where the default build does best with threads, break-even is the free-threaded
    threads cell's vs_ref, figure and interval."""
    cells = {
        **scaling_cells("3.14", "loop", one=0.100, threads2=0.1026, processes2=0.200),
        **scaling_cells("3.14t", "loop", one=0.110, threads2=0.1158, processes2=0.1158),
    }
    impls = [impl_record("3.14", 1, False), impl_record("3.14t", 0, True)]
    summary = summarize(make_run(cells, impls, {"loop": "cpu"}))
    table = summary.table.set_index(CELL)
    break_even = compare_run(summary).break_even
    threads = break_even[break_even["rival"] == "threads"]
    assert 2 in set(threads["workers"])  # 3.14's threads beat its processes at 2 workers
    for row in threads.itertuples():
        cell = table.loc[("3.14t", row.workload, "threads", row.workers)]
        assert (row.ratio, row.ci_low, row.ci_high) == (
            cell["vs_ref"], cell["vs_ref_ci_low"], cell["vs_ref_ci_high"])  # fmt: skip


def _by_pass(values: Any, per: int = 3) -> Sample:
    """``values`` as processes of ``per`` values, one a pass."""
    passes = np.arange(len(values)) // per + 1
    return Sample.of(values, passes, np.zeros(len(values), dtype=int))


def test_more_values_in_the_same_processes_do_not_narrow_an_interval() -> None:
    """Tripling the values each process took, alike, leaves the interval as it was: only
    processes count."""
    cell = ("a", "w", "threads", 2)
    medians = [1.8, 1.95, 1.9]
    few = _by_pass(np.repeat(medians, 3) * np.tile([0.99, 1.0, 1.01], 3))
    many = _by_pass(np.repeat(medians, 9) * np.tile(np.linspace(0.99, 1.01, 9), 3), per=9)
    key = ratios(cell)
    (a,) = estimate_all([Terms.of([(key, 1.0)])], {key: few})
    (b,) = estimate_all([Terms.of([(key, 1.0)])], {key: many})
    assert (a.low, a.value, a.high) == pytest.approx((b.low, b.value, b.high), rel=1e-12)
    assert a.value == pytest.approx(math.prod(medians) ** (1 / 3), rel=1e-12)


def test_a_ratio_of_cells_measured_in_the_same_passes_is_paired_by_pass() -> None:
    """A slow pass that slows both cells alike cancels out of their ratio's interval."""
    a, b = ("a", "w", "serial", 1), ("b", "w", "serial", 1)
    drift = np.repeat([1.0, 1.3, 0.8, 1.1], 3)
    samples = {seconds(a): _by_pass(0.2 * drift), seconds(b): _by_pass(0.1 * drift * 1.001)}
    (paired,) = estimate_all([ratio(a, b)], samples)
    assert paired.value == pytest.approx(2 / 1.001, rel=1e-12)
    assert paired.high / paired.low == pytest.approx(1, abs=1e-9)
    apart = {seconds(a): samples[seconds(a)],
             seconds(b): Sample.of(samples[seconds(b)].values, np.arange(12) // 3 + 10,
                                   np.zeros(12, dtype=int))}  # fmt: skip
    (unpaired,) = estimate_all([ratio(a, b)], apart)
    assert unpaired.value == pytest.approx(paired.value, rel=1e-12)
    assert unpaired.high / unpaired.low > 1.3  # Welch: the drift stays in the interval


def test_an_interval_and_its_p_value_agree_on_whether_the_figure_is_1() -> None:
    """p < 0.05 exactly when the 95% interval leaves out 1, including a scaled figure."""
    rng = np.random.default_rng(4)
    checked = 0
    for shift in np.linspace(-0.06, 0.06, 25):
        cell = ("a", "w", "threads", 2)
        sample = _by_pass(np.exp(shift + rng.normal(0, 0.03, 12)))
        for scale in (1.0, 2.0):
            (found,) = estimate_all([Terms.of([(ratios(cell), 1.0)], scale / 2 + 0.5)],
                                    {ratios(cell): sample})  # fmt: skip
            assert (found.p < 0.05) == (found.low > 1 or found.high < 1)
            checked += 1
    assert checked == 50


def test_inverse_terms_give_exact_reciprocals() -> None:
    """A ratio and its inverse: figure and interval are reciprocal."""
    rng = np.random.default_rng(2)
    a, b = ("a", "w", "serial", 1), ("b", "w", "serial", 1)
    samples = {seconds(a): _by_pass(rng.lognormal(0, 0.1, 9)),
               seconds(b): _by_pass(rng.lognormal(0, 0.1, 9))}  # fmt: skip
    forward, backward = estimate_all([ratio(a, b), ratio(b, a)], samples)
    assert backward.value == pytest.approx(1 / forward.value, rel=1e-12)
    assert (backward.low, backward.high) == pytest.approx((1 / forward.high, 1 / forward.low))
    assert backward.p == pytest.approx(forward.p, rel=1e-12)


def test_a_geometric_mean_of_one_figure_is_that_figure() -> None:
    """geomean([t]) estimates to exactly what t does, interval included."""
    cell = ("a", "w", "threads", 2)
    samples = {ratios(cell): _by_pass(np.linspace(1.5, 1.9, 9))}
    one = Terms.of([(ratios(cell), 1.0)])
    assert estimate_all([geomean([one])], samples) == estimate_all([one], samples)


def test_a_wider_confidence_gives_a_wider_interval_around_the_same_figure() -> None:
    """Asked for 99% (as a simultaneous interval would), the interval widens; the figure
    stays."""
    cell = ("a", "w", "threads", 2)
    samples = {ratios(cell): _by_pass(np.linspace(1.5, 1.9, 9))}
    one = [Terms.of([(ratios(cell), 1.0)])]
    (usual,), (wide,) = estimate_all(one, samples), estimate_all(one, samples, confidence=0.99)
    assert wide.value == usual.value and wide.low < usual.low and wide.high > usual.high


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
    """With precise cells, every kind of finding is decided, with the ratios built in."""
    findings = format_findings(compare_run(summarize(tight_run)))
    texts = [f.text for f in findings if f.stated]
    assert [f for f in findings if not f.stated] == []
    assert texts[0].startswith(
        "On pure-Python CPU work (loop), 2 threads against 1 thread, in work done: "
        "gain: 3.14t 1.90× (95% CI "
    )
    assert "no gain (within 5% of 1 thread): 3.14 1.00× (95% CI " in texts[0]
    assert texts[1].startswith(
        "Serial on one worker, 3.14t against 3.14, in time taken: slower: 1.10× on loop"
    )
    assert "gains on every model of 3.14: none up to 2 workers on loop (at 2: " in texts[2]
    assert "processes on 3.14 (1.95× the throughput of serial" in texts[3]


def test_a_wide_cell_is_flagged_but_its_figure_is_still_decided_by_its_own_interval(
    tight_run: Run,
) -> None:
    """A cell whose round-time interval spans more than a quarter of its median is marked,
    and the speedup resting on it is still stated, with the decision its interval makes."""
    values = tight_run.values.copy()
    noisy = (values["impl"] == "3.14t") & (values["model"] == "threads") & (values["workers"] == 2)
    values.loc[noisy, "seconds"] *= np.linspace(0.7, 1.3, 9)
    run = Run(tight_run.directory, tight_run.manifest, tight_run.cells, tight_run.outcomes,
              values)  # fmt: skip
    cells = summarize(run)
    row = _row(cells, ("3.14t", "loop", "threads", 2))
    assert row["flag"].startswith("wide spread: the 95% interval spans ")
    comparison = compare_run(cells)
    (scaling,) = comparison.scaling[comparison.scaling["impl"] == "3.14t"].itertuples()
    assert scaling.wide == "3.14t loop/threads/2"
    assert scaling.decision == "gains" and scaling.ci_low > 1
    (finding,) = [f for f in format_findings(comparison) if f.topic == "scaling"]
    assert finding.stated and f"gain: 3.14t {format_times(scaling.ratio)} (" in finding.text


def _paired_run(cell: Cell, unit_times: Any, round_scale: Any = None) -> Run:
    """tight_run's cells, with ``cell``'s values tokened and paired with these unit times."""
    cells = {
        **scaling_cells("3.14", "loop", one=0.100, threads2=0.200, processes2=0.1026),
        **scaling_cells("3.14t", "loop", one=0.110, threads2=0.1158, processes2=0.1158),
    }
    if round_scale is not None:
        cells[cell] = list(np.array(cells[cell]) * round_scale)
    impls = [impl_record("3.14", 1, False), impl_record("3.14t", 0, True)]
    return make_run(cells, impls, {"loop": "cpu"}, paired=units(cell, unit_times), tokens=[cell])


def test_paired_serial_units_are_the_speedups_baseline() -> None:
    """Serial units timed beside a cell's values, not the serial cell, set its speedup."""
    cell = ("3.14t", "loop", "threads", 2)
    # the machine ran at 0.9 of its serial-cell speed while 3.14t's threads were measured
    cells = summarize(_paired_run(cell, [0.110 / 0.9 * j for j in JITTER]))
    row = _row(cells, cell)
    assert bool(row["paired"])
    # process medians 0.994, 1.0 and 1.006 of these: their geometric mean is 1 - 1.2e-5
    assert row["baseline_s"] == pytest.approx(0.110 / 0.9, rel=1e-4)
    assert row["speedup"] == pytest.approx(2 * 0.110 / 0.9 / 0.1158, rel=1e-4)
    assert row["speedup_ci_low"] <= row["speedup"] <= row["speedup_ci_high"]
    unpaired = _row(cells, ("3.14t", "loop", "processes", 2))  # falls back to serial/1
    assert not bool(unpaired["paired"])
    assert unpaired["speedup"] == pytest.approx(2 * 0.110 / 0.1158)


def test_worker_spread_is_the_median_of_each_values_slowest_over_quickest() -> None:
    """A cell's worker_spread is the median of its values' spreads; cells without are NaN."""
    cell = ("3.14t", "loop", "threads", 2)
    run = _paired_run(cell, [0.110 * j for j in JITTER])
    run.paired["worker_spread"] = [1.0, 1.5, 1.1, 1.2, 1.02, 1.4, 1.3, 1.05, 1.01]
    cells = summarize(run)
    assert _row(cells, cell)["worker_spread"] == pytest.approx(1.1)
    assert np.isnan(_row(cells, ("3.14t", "loop", "processes", 2))["worker_spread"])
    assert np.isnan(_row(cells, ("3.14t", "loop", "serial", 1))["worker_spread"])


def test_each_value_is_divided_by_the_units_timed_right_after_it() -> None:
    """The speedup is W x the median of unit/round per value, joined by process and index."""
    cell = ("3.14t", "loop", "threads", 2)
    slow = np.array([1.0, 1.4, 1.0, 1.4, 1.4, 1.0, 1.0, 1.4, 1.0])  # the machine, per value
    unit_times = 0.110 * slow * np.array([1.05, 0.97, 1.0, 1.03, 0.96, 0.95, 1.04, 1.02, 0.98])
    run = _paired_run(cell, unit_times, round_scale=slow * JITTER[::-1] / JITTER)
    shuffled = run.paired.sample(frac=1, random_state=3)  # order must not matter
    run = Run(run.directory, run.manifest, run.cells, run.outcomes, run.values, shuffled)
    row = _row(summarize(run), cell)
    rounds = 0.1158 * slow * JITTER[::-1]
    per_process = np.median((2 * unit_times / rounds).reshape(3, 3), axis=1)
    assert row["speedup"] == pytest.approx(np.exp(np.log(per_process).mean()))  # 1.89
    assert row["speedup"] == pytest.approx(2 * 0.110 / 0.1158, rel=0.01)  # the drift cancels
    units_median = np.median(unit_times.reshape(3, 3), axis=1)
    assert row["baseline_s"] == pytest.approx(np.exp(np.log(units_median).mean()))
    assert row["speedup_ci_low"] <= row["speedup"] <= row["speedup_ci_high"]


def test_units_that_match_no_value_leave_the_cell_on_the_serial_baseline() -> None:
    """Paired units whose process token names no run are not guessed at: no pairing."""
    cell = ("3.14t", "loop", "threads", 2)
    run = _paired_run(cell, [0.2] * 9)
    stray = run.paired.assign(pairing="gone")
    run = Run(run.directory, run.manifest, run.cells, run.outcomes, run.values, stray)
    row = _row(summarize(run), cell)
    assert not bool(row["paired"])
    assert row["speedup"] == pytest.approx(2 * 0.110 / 0.1158)


def test_a_speedup_surely_above_its_worker_count_carries_a_note() -> None:
    """Paired units 30% slower than the workers' own give 2.6x on 2 workers, with a note."""
    cell = ("3.14t", "loop", "processes", 2)
    row = _row(summarize(_paired_run(cell, [0.1158 * 1.3 * j for j in JITTER])), cell)
    assert row["speedup"] == pytest.approx(2.6, rel=0.01)
    assert row["speedup_note"].startswith("superlinear: above 2 (95% interval from 2.")
    assert row["speedup_note"].endswith("the workers ran units faster than the serial baseline did")
    assert row["flag"] == ""  # the cell's own times are as good as ever
    untouched = _row(summarize(_paired_run(cell, [0.1158 * j for j in JITTER])), cell)
    assert untouched["speedup_note"] == ""


def test_one_process_gives_no_interval_however_many_values_it_took() -> None:
    """A single process tells nothing of the spread between processes: the cell is flagged."""
    cells = {("3.14", "w", "serial", 1): [0.1, 0.101, 0.099]}
    run = make_run(cells, [impl_record("3.14", 1, False)], {"w": "cpu"})
    assert summarize(run).table["flag"].item() == "too few processes for a 95% interval (1)"


def test_without_a_free_threaded_build_there_is_no_overhead_or_break_even() -> None:
    """Overhead and break-even findings need both builds; otherwise they say nothing."""
    cells = scaling_cells("3.14", "loop", one=0.1, threads2=0.2, processes2=0.1026)
    run = make_run(cells, [impl_record("3.14", 1, False)], {"loop": "cpu"})
    topics = {f.topic for f in format_findings(compare_run(summarize(run)))}
    assert topics == {"scaling", "models", "headline", "errors"}


def test_failed_cells_keep_their_status_and_reason(tight_run: Run) -> None:
    """A crashed cell is in the table with its reason and no figures; the rest is intact."""
    key = ("3.14t", "loop", "threads", 4)
    run = make_run({}, tight_run.manifest["impls"], {"loop": "cpu"},
                   failed={key: ("crashed", "Segmentation fault")})  # fmt: skip
    row = summarize(run).table.iloc[0]
    assert (row["status"], row["detail"], row["n"]) == ("crashed", "Segmentation fault", 0)
    assert math.isnan(row["median_s"]) and row["flag"] == ""


def test_a_cell_that_failed_after_measuring_gets_no_speedup_or_baseline() -> None:
    """Values from a cell's earlier passes stay in its row, but a crash leaves it no ratios."""
    cell = ("3.14t", "loop", "threads", 2)
    cells = {
        **scaling_cells("3.14", "loop", one=0.100, threads2=0.200, processes2=0.1026),
        **scaling_cells("3.14t", "loop", one=0.110, threads2=0.1158, processes2=0.1158),
    }
    impls = [impl_record("3.14", 1, False), impl_record("3.14t", 0, True)]
    run = make_run(cells, impls, {"loop": "cpu"}, failed={cell: ("crashed", "pass 2 died")},
                   paired=units(cell, [0.110 * j for j in JITTER]), tokens=[cell])  # fmt: skip
    summary = summarize(run)
    row = _row(summary, cell)
    assert (row["status"], row["n"], bool(row["paired"])) == ("crashed", 9, False)
    assert all(math.isnan(row[c]) for c in ("speedup", "baseline_s", "vs_ref", "efficiency"))
    assert cell not in summary.speedup and not summary.ok(cell)


@pytest.mark.parametrize(
    ("category", "phrase"),
    [("cpu", "pure-Python CPU work"), ("c-release", "C code that releases the GIL"),
     ("gpu", "“gpu” work")],
)  # fmt: skip
def test_categories_read_as_phrases_with_the_raw_id_as_fallback(category: str, phrase: str) -> None:
    """Known categories become readable phrases; unknown ones are quoted as they are."""
    assert format_category(category) == phrase


def test_verdicts_hold_a_5_percent_false_discovery_rate_across_the_run(quick: Cells) -> None:
    """vs_ref_q is Benjamini-Hochberg over every cell's p-value of its ratio being 1, and a
    cell reads faster or slower exactly where it is at most 5%: some cells whose own 95%
    interval leaves 1 out read as undecided or equivalent."""
    table = quick.table.set_index(CELL)
    tested = [c for c in quick.vs_ref if not math.isnan(table.loc[c, "vs_ref_q"])]
    p = np.array([e.p for e in quick.estimate([quick.vs_ref[c] for c in tested])])
    q = stats.false_discovery_control(p, method="bh")
    assert [table.loc[c, "vs_ref_q"] for c in tested] == pytest.approx(list(q), rel=1e-12)
    demoted = 0
    for cell, qv in zip(tested, q, strict=True):
        verdict = table.loc[cell, "vs_ref_verdict"]
        assert verdict in ("faster", "slower", "equivalent", "undecided"), cell
        row = table.loc[cell]
        within = row["vs_ref_ci_low"] >= 1 / 1.05 and row["vs_ref_ci_high"] <= 1.05
        assert (verdict == "equivalent") == within, cell  # equivalence first
        assert (verdict in ("faster", "slower")) == (qv <= 0.05 and not within), cell
        row = table.loc[cell]
        demoted += qv > 0.05 and (row["vs_ref_ci_low"] > 1 or row["vs_ref_ci_high"] < 1)
    assert len(tested) == 48 and demoted >= 1


class _Fixed:
    """Stands in for Cells: each terms' estimate given, whatever the confidence."""

    def __init__(self, found: dict[str, Any]) -> None:
        self.found = found

    def estimate(self, terms: list[Any], confidence: float) -> list[Any]:
        return [self.found[t] for t in terms]


@pytest.mark.parametrize(
    ("ends", "named"),
    [
        # every interval above 1: the one with the lowest low end, not the lowest estimate
        ({"a": (1.01, 1.6), "b": (1.05, 1.15)}, "a"),
        # one surely beats us: it is named, though another's estimate is lower
        ({"a": (0.7, 0.98), "b": (0.3, 1.2)}, "a"),
        # nothing decided: the nearest rival by estimate
        ({"a": (0.95, 1.5), "b": (0.9, 1.2)}, "b"),
    ],
)
def test_a_pick_is_stated_against_the_rival_its_decision_rests_on(
    ends: dict[str, tuple[float, float]], named: str
) -> None:
    """ "Beats the best" rests on every rival's simultaneous interval: the sentence names the
    rival the decision comes from, never just the one with the best estimate."""
    from harness.compare.estimate import Estimate
    from harness.compare.picks import _hardest

    found = {m: Estimate((lo + hi) / 2, lo, hi) for m, (lo, hi) in ends.items()}
    assert _hardest(_Fixed(found), [(m, m) for m in ends])[0] == named  # type: ignore[arg-type]


def _break_even_row(workload: str, workers: int, ratio_: float, low: float, high: float,
                    decision: str) -> dict[str, Any]:  # fmt: skip
    return {"workload": workload, "category": "cpu", "workers": workers, "rival": "processes",
            "wide": "", "ratio": ratio_, "ci_low": low, "ci_high": high, "confidence": 0.95,
            "candidates": 3, "decision": decision, "passes": 3, "needed": 9.0,
            "cells": ()}  # fmt: skip


def test_break_even_is_stated_at_most_where_a_fewer_worker_count_is_undecided(
    quick: Cells,
) -> None:
    """A gain at 4 workers after an undecided 2 reads "at most 4"; a workload decided at
    no count is "none up to", and one undecided before any gain is its own undecided
    sentence, named in the decided one so it doesn't read as unmeasured."""
    rows = [
        _break_even_row("alpha", 2, 0.97, 0.80, 1.10, "undecided"),
        _break_even_row("alpha", 4, 1.60, 1.30, 1.90, "gains"),
        _break_even_row("beta", 2, 0.50, 0.40, 0.60, "loses"),
        _break_even_row("gamma", 2, 1.02, 0.85, 1.20, "undecided"),
    ]
    comparison = replace(compare_run(quick), break_even=pd.DataFrame(rows))
    found = [f for f in format_break_even(comparison)]
    decided = [f.text for f in found if f.stated]
    undecided = [f.text for f in found if not f.stated]
    assert len(decided) == 1 and len(undecided) == 1
    assert ": at most 4 on alpha (1.60× the throughput of processes" in decided[0]
    assert "; at 2 undecided (0.97×, 95% CI 0.80–1.10×" in decided[0]
    assert "none up to 2 workers on beta (at 2: 0.50×" in decided[0]
    assert decided[0].endswith("; undecided: gamma (below).")
    assert undecided[0].startswith("Break-even of 3.14t threads on gamma (at 2 workers, "
                                   "against processes): undecided at 1.02×")  # fmt: skip


def test_a_break_even_gain_is_decided_on_each_rivals_own_interval() -> None:
    """Where free-threaded threads beat every model of the default build, the gain is an
    intersection of claims, decided on each rival's own interval (no adjustment for the
    rivals); the closest rival is the one stated."""
    cells = {
        **scaling_cells("3.14", "loop", one=0.100, threads2=0.200, processes2=0.1026),
        **scaling_cells("3.14t", "loop", one=0.110, threads2=0.0900, processes2=0.1158),
    }
    impls = [impl_record("3.14", 1, False), impl_record("3.14t", 0, True)]
    summary = summarize(make_run(cells, impls, {"loop": "cpu"}))
    break_even = compare_run(summary).break_even
    (row,) = break_even[break_even["workers"] == 2].itertuples()
    assert (row.decision, row.each, row.candidates, row.rival) == ("gains", True, 1, "processes")
    table = summary.table.set_index(CELL)
    own = table.loc[("3.14t", "loop", "threads", 2)]
    rival = table.loc[("3.14", "loop", "processes", 2)]
    assert row.rivals == 3 and row.ci_low > 1 and row.confidence == pytest.approx(0.95)
    assert row.ratio == pytest.approx(rival["median_s"] / own["median_s"], rel=1e-9)
    (text,) = [f.text for f in format_break_even(compare_run(summary)) if f.stated]
    assert "the closest of 3 models, each gained on by its own interval, 95% CI " in text


def _counted(run: Run, per_unit: dict[str, float], jitter: float = 1e-5) -> Run:
    """``run`` with five repeats of an instruction count for each impl's serial/1 cell."""
    rows = []
    for impl, mean in per_unit.items():
        for repeat in range(5):
            count = mean * (1 + jitter * (repeat - 2))
            rows.append({"impl": impl, "workload": "loop", "model": "serial", "workers": 1,
                         "repeat": repeat, "status": "ok", "detail": "", "hash_seed": repeat,
                         "units": 2, "more_units": 7, "instructions": 2 * count,
                         "more_instructions": 7 * count, "per_unit": count,
                         "valgrind": "valgrind-3.19.0", "elapsed_s": 2.0, "checksum": "1",
                         "gil_enabled": impl == "3.14"})  # fmt: skip
    return replace(run, counts=pd.DataFrame(rows, columns=COUNT_COLUMNS))


def test_the_single_thread_cost_is_also_an_instruction_ratio_where_both_builds_are_counted(
    tight_run: Run,
) -> None:
    """Counted serial cells give summary.csv their instructions and spread, and the
    overhead its instruction ratio, decided and stated as such beside the time ratio."""
    cells = summarize(_counted(tight_run, {"3.14": 100e6, "3.14t": 139e6}))
    row = _row(cells, ("3.14t", "loop", "serial", 1))
    assert row["instructions"] == pytest.approx(139e6) and row["counted"] == "ok"
    assert 0 < row["instructions_cv"] < 1e-4
    assert math.isnan(_row(cells, ("3.14t", "loop", "threads", 2))["instructions"])
    comparison = compare_run(cells)
    (overhead, _) = comparison.overhead.itertuples()
    assert overhead.instr_ratio == pytest.approx(1.39, rel=1e-6)
    assert overhead.instr_ci_low > 1.38 and overhead.instr_decision == "loses"
    texts = [f.text for f in format_findings(comparison) if f.stated]
    (text,) = [t for t in texts if "instructions executed" in t]
    assert "an instruction ratio" in text and "more: 1.39× on loop (95% CI " in text
    assert "time 1.10×, loses" in text and "decide differently" not in text
    topics = set(comparison.decisions()["topic"])
    assert "overhead in instructions" in topics


def test_time_and_instructions_that_decide_differently_are_said_to(tight_run: Run) -> None:
    """Where the time ratio says slower and the instruction count says the same, the
    finding says they disagree, and why that can be."""
    comparison = compare_run(summarize(_counted(tight_run, {"3.14": 100e6, "3.14t": 100e6})))
    (text,) = [f.text for f in format_findings(comparison) if "instructions executed" in f.text]
    assert "the same (within 5%): 1.00× on loop" in text
    assert "Time and instructions decide differently on loop" in text
