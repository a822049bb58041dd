"""The intervals' coverage, measured on real passes resampled (compare/coverage.py): the
fixed designs. The sequential ones are in test_coverage_adaptive.py and test_coverage_aa.py,
files of their own so that the tests' parallel half shares the minutes they take."""

from __future__ import annotations

import numpy as np
import pytest

from harness.compare import coverage
from harness.compare.coverage import AA, QUICK, load_pool
from harness.compare.coveragebench import bench
from harness.compare.tally import Tally
from tests.helpers import COVERAGE_FLOOR, holds_its_truth

RUNS = 60


@pytest.fixture(scope="module")
def tallies() -> dict[str, Tally]:
    """Quick and A/A designs, 60 simulated runs each on every frozen history."""
    pools = [load_pool(history) for history in coverage.HISTORIES]
    return bench(pools, runs=RUNS, designs=(QUICK, AA))


@pytest.mark.parametrize("design", [QUICK, AA])
def test_nominal_95_percent_intervals_hold_the_truth_at_least_90_percent_of_the_time(
    tallies: dict[str, Tally], design: str
) -> None:
    """Speedups, ratios to the reference, geometric means and the headline's picked means
    each hold their truth in at least 90% of simulated runs."""
    holds_its_truth(tallies[design], design)


def test_each_interval_of_a_fixed_run_is_stated_at_95_percent(
    tallies: dict[str, Tally],
) -> None:
    """A fixed run states 95% for every interval, and its intervals hold their truth at
    least that often, less the floor's 5 points of slack."""
    tally = tallies[QUICK]
    for kind in ("speedup", "vs_ref"):
        level = tally.level(kind)
        assert level == pytest.approx(0.95), (kind, level)
        assert tally.coverage(kind) >= level - (0.95 - COVERAGE_FLOOR), (kind, level)


def test_an_aa_twin_reads_as_no_difference_in_most_runs(tallies: dict[str, Tally]) -> None:
    """The reference against its own processes, measured at other moments: at most 10% of
    ratios leave 1 out (5% expected)."""
    tally = tallies[AA]
    assert tally.checked["vs_ref"] >= 100
    assert tally.decided.get("vs_ref", 0) / tally.checked["vs_ref"] <= 0.10


def test_a_pool_is_whole_passes_of_real_processes_with_their_paired_units() -> None:
    """Every pass of a frozen history keeps each cell's values and, where it paired them,
    as many serial units; cells with too few processes to resample are left out."""
    pool = load_pool(coverage.HISTORIES[0])
    holding = pool.holding
    assert holding and all(len(p) >= coverage.MIN_POOL for p in holding.values())
    checked = 0
    for one in pool.passes:
        for (_, _, model, workers), (seconds, units) in one.items():
            assert len(seconds) >= 2 and np.all(seconds > 0)
            assert (units is None) == ((model, workers) == ("serial", 1))
            assert units is None or len(units) == len(seconds)
            checked += 1
    assert checked == sum(len(p) for p in holding.values())


def test_the_benchs_figures_do_not_depend_on_the_processes_they_are_computed_in() -> None:
    """Each (history, design) draws from its own stream of the seed: one process or two
    give the same tallies."""
    pools = [load_pool(history) for history in coverage.HISTORIES]
    one = bench(pools, runs=1, designs=(QUICK, AA), fixed_runs=2, jobs=1)
    two = bench(pools, runs=1, designs=(QUICK, AA), fixed_runs=2, jobs=2)
    assert set(one) == set(two) == {QUICK, AA}
    for name in one:
        assert one[name].runs == two[name].runs == 2 * len(pools)
        assert one[name].held == two[name].held and one[name].checked == two[name].checked
        assert one[name].by_run == two[name].by_run


def test_a_coverages_margin_is_taken_over_runs_not_over_intervals() -> None:
    """Intervals of one run share its passes: 2 runs of 50 intervals, one all held, one
    none, give a coverage of 50% known to within +-98 points, not +-14 as 100 independent
    intervals would."""
    tally = Tally()
    tally.add_held({("speedup", str(i)): (True, 0.95, False) for i in range(50)})
    tally.add_held({("speedup", str(i)): (False, 0.95, False) for i in range(50)})
    assert tally.coverage("speedup") == 0.5
    assert tally.margin("speedup") == pytest.approx(1.96 * 0.5)
    merged = Tally()
    merged.merge(tally)
    merged.merge(tally)
    assert merged.checked == {"speedup": 200} and len(merged.by_run["speedup"]) == 4
