"""The intervals' coverage under adaptive stopping, measured on real passes resampled
(compare/coverage.py): the adaptive design (tests/test_coverage_aa.py has its A/A twin, a
file of its own so that the tests' parallel half shares their minutes)."""

from __future__ import annotations

import pytest

from harness.compare import coverage
from harness.compare.coverage import ADAPTIVE, load_pool
from harness.compare.coveragebench import EVERY_LOOK, bench
from harness.compare.tally import Tally
from tests.helpers import COVERAGE_FLOOR, holds_its_truth

# An adaptive run is read back at each of its looks, about a second of the test's time
# each: fewer of them than the fixed designs' 60.
ADAPTIVE_RUNS = 20


@pytest.fixture(scope="module")
def tallies() -> dict[str, Tally]:
    """The adaptive design, 20 simulated runs on every frozen history: its last looks, and
    its figures at every look."""
    pools = [load_pool(history) for history in coverage.HISTORIES]
    return bench(pools, runs=ADAPTIVE_RUNS, designs=(ADAPTIVE,))


@pytest.fixture(scope="module")
def tally(tallies: dict[str, Tally]) -> Tally:
    """The adaptive design's figures as its last look states them."""
    return tallies[ADAPTIVE]


def test_nominal_95_percent_intervals_hold_the_truth_at_least_90_percent_of_the_time(
    tally: Tally,
) -> None:
    """Speedups, ratios to the reference, geometric means and the headline's picked means
    each hold their truth in at least 90% of simulated runs, adaptive stopping included."""
    holds_its_truth(tally, ADAPTIVE)


def test_each_interval_of_a_sequential_run_is_stated_at_its_looks_level(tally: Tally) -> None:
    """A sequential run states its looks' higher levels, and its intervals hold their truth
    at least that often, less the floor's 5 points of slack: what the report prints is the
    level its intervals have."""
    for kind in ("speedup", "vs_ref"):
        level = tally.level(kind)
        assert 0.95 < level < 1, (kind, level)
        assert tally.coverage(kind) >= level - (0.95 - COVERAGE_FLOOR), (kind, level)


def test_a_sequential_runs_figures_hold_the_truth_at_every_look_at_least_90_percent_of_the_time(
    tallies: dict[str, Tally],
) -> None:
    """The alpha-spending rule's own claim: each interval stated for a figure at every
    look holds its truth, for at least 90% of figures (95% nominal), as many as the last
    looks state."""
    every, last = tallies[ADAPTIVE + EVERY_LOOK], tallies[ADAPTIVE]
    assert every.runs == last.runs == 3 * ADAPTIVE_RUNS
    for kind in ("speedup", "vs_ref", "geomean"):
        assert every.checked[kind] == last.checked[kind], kind
        assert every.level(kind) == pytest.approx(0.95), kind
        assert every.coverage(kind) >= COVERAGE_FLOOR, (kind, every.coverage(kind))
        assert every.coverage(kind) <= last.coverage(kind), kind  # more intervals to hold
