"""The decisions of an A/A twin under the adaptive stopping rule, on real passes resampled
(compare/coverage.py): how often a figure whose truth is exactly 1 is decided."""

from __future__ import annotations

import pytest

from harness.compare import coverage
from harness.compare.coverage import AA_DECISIONS, load_pool
from harness.compare.coveragebench import bench, format_nulls
from harness.compare.tally import Tally
from tests.helpers import holds_its_truth

# An adaptive run is read back at each of its looks, about a second of the test's time
# each: enough of them for a few hundred figures whose truth is 1.
ADAPTIVE_RUNS = 20
NOMINAL = 0.05  # the error rate every decision is taken at, looks and all


@pytest.fixture(scope="module")
def tally() -> Tally:
    """The default build's twin in the free-threaded build's place, measured until its
    figures are decided: 20 simulated runs on every frozen history."""
    pools = [load_pool(history) for history in coverage.HISTORIES]
    return bench(pools, runs=ADAPTIVE_RUNS, designs=(AA_DECISIONS,))[AA_DECISIONS]


def test_nominal_95_percent_intervals_hold_the_truth_at_least_90_percent_of_the_time(
    tally: Tally,
) -> None:
    """Speedups, ratios to the reference, geometric means and the headline's picked means
    each hold their truth in at least 90% of the twin's simulated runs."""
    holds_its_truth(tally, AA_DECISIONS)


def test_an_aa_twin_under_the_decision_stopping_rule_is_read_as_different_at_most_5_percent(
    tally: Tally,
) -> None:
    """The free-threaded build replaced by the default build's own processes, measured
    until its figures are decided: of the figures whose truth is exactly 1 (its single-
    thread cost, its cells' ratios to the default build, its threads against the default
    build's), at most 5% are read as gains or loses."""
    assert tally.runs == 3 * ADAPTIVE_RUNS and sum(tally.nulls.values()) >= 300
    assert {"overhead", "vs_ref"} <= set(tally.nulls)
    assert tally.false_rate() <= NOMINAL, format_nulls(AA_DECISIONS, tally)
