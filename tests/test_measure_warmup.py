"""pure_runner's warm-up rule (gbwarmup): pyperf's test, on synthetic sequences of values."""

from __future__ import annotations

import argparse
import itertools
import random
from collections.abc import Callable, Iterable

import gbwarmup
import pytest
from pyperf import _utils as pyperf_utils
from pyperf import _worker as pyperf_worker

# A steady JIT: every sample of 20 holds these 4 values 5 times over, so two samples agree.
STEADY = [0.98, 1.0, 1.0, 1.02]


def _stream(values: Iterable[float]) -> Callable[[], float]:
    return iter(values).__next__


def _still_clock() -> float:
    return 0.0


def test_steady_values_settle_after_pyperf_s_first_guess_of_one_warm_up() -> None:
    """One warm-up, then two samples of 20 that agree: settled after 41 values."""
    got = gbwarmup.calibrate_warmups(_stream([3.0] + STEADY * 20), _still_clock)
    assert got == (1, [3.0] + STEADY * 10, True)


def test_a_slow_first_value_after_the_warm_ups_is_an_outlier() -> None:
    """A first value above Q3 + 1.5 IQR of the rest fails the test; a fast one doesn't."""
    after_warmup = STEADY[1:] + STEADY * 9  # the samples, but for their first value
    assert not gbwarmup.warmups_settled([9.0, 2.0, *after_warmup], 1)
    assert gbwarmup.warmups_settled([9.0, 0.5, *after_warmup], 1)  # pyperf checks only above
    assert gbwarmup.warmups_settled([9.0, 0.98, *after_warmup], 1)


def test_a_first_value_outlier_becomes_one_more_warm_up() -> None:
    """The JIT's second value is still slow: the rule counts it as a warm-up too."""
    values = [9.0, 2.0] + STEADY[1:] + STEADY * 20
    nwarmup, taken, settled = gbwarmup.calibrate_warmups(_stream(values), _still_clock)
    assert (nwarmup, len(taken), settled) == (2, 42, True)


@pytest.mark.parametrize(
    "later",
    [
        [v / 1.2 for v in STEADY * 5],  # the JIT still speeding up: the second 20% faster
        [1.25 * v for v in STEADY * 5],  # the second 25% slower
        [0.96, 1.0, 1.0, 1.04] * 5,  # the second's deviations twice as wide, quartiles close
        [0.90, 0.90, 1.0, 1.02] * 5,  # half of the second sample 10% faster
    ],
)
def test_two_samples_that_disagree_are_not_settled(later: list[float]) -> None:
    """Samples whose means, deviations or quartiles lie too far apart are not settled."""
    assert not gbwarmup.warmups_settled([9.0, *STEADY * 5, *later], 1)


def test_a_sequence_that_keeps_drifting_is_given_up_after_pyperf_s_300_values() -> None:
    """A JIT 1% faster every value never settles: after 300 values the rule gives up."""
    drifting = (0.99**i for i in itertools.count())
    nwarmup, taken, settled = gbwarmup.calibrate_warmups(drifting.__next__, _still_clock)
    assert (nwarmup, len(taken), settled) == (300, gbwarmup.MAX_WARMUP_VALUES, False)


def test_the_wall_clock_limit_stops_the_search_but_never_before_the_first_test() -> None:
    """At 1 s a value, a 5 s limit still takes the 41 values of one test, then stops."""
    now = [0.0]

    def drifting() -> float:
        now[0] += 1.0
        return 0.99 ** now[0]

    got = gbwarmup.calibrate_warmups(drifting, lambda: now[0], max_seconds=5)
    assert (got[0], len(got[1]), got[2]) == (41, 41, False)


def test_zero_deviations_agree_instead_of_dividing_by_zero() -> None:
    """Two zero MADs (a coarse clock's identical values) agree; zero against non-zero doesn't.

    pyperf divides by the second sample's MAD, and raises when it is zero.
    """
    assert gbwarmup.warmups_settled([2.0] + [1.0] * 40, 1)
    assert not gbwarmup.warmups_settled([2.0] + [1.0, 0.99, 1.01, 1.0] * 5 + [1.0] * 20, 1)


class _PyperfTask:
    """What pyperf's WorkerTask.test_calibrate_warmups reads of its worker task."""

    def __init__(self, values: list[float]) -> None:
        self.warmups = [(1, value) for value in values]
        self.args = argparse.Namespace(verbose=False)


def test_the_rule_gives_pyperf_s_verdict_on_random_sequences() -> None:
    """On 400 noisy, drifting or spiky sequences, gbwarmup and pyperf 2.10 agree every time."""
    rng = random.Random(12)
    verdicts = []
    for _ in range(400):
        noise, drift = rng.choice([0.002, 0.02, 0.08]), rng.choice([0.0, 0.0, 0.002, -0.004])
        values = [1.0 + drift * i + rng.gauss(0, noise) for i in range(rng.randint(41, 70))]
        if rng.random() < 0.3:
            values[rng.randrange(3)] *= rng.choice([1.1, 3.0])  # a slow value early on
        nwarmup = rng.randint(1, len(values) - 40)
        ours = gbwarmup.warmups_settled(values, nwarmup)
        theirs = pyperf_worker.WorkerTask.test_calibrate_warmups(
            _PyperfTask(values),  # type: ignore[arg-type]
            nwarmup,
            "second",
        )
        assert ours == theirs, (values, nwarmup)
        verdicts.append(ours)
    assert 40 < sum(verdicts) < 360  # both verdicts were put to the test


def test_quartiles_and_deviations_are_pyperf_s() -> None:
    """percentile and median_abs_dev give pyperf's _utils figures on the same values."""
    rng = random.Random(3)
    for size in (2, 3, 20, 21):
        values = [rng.uniform(0.5, 2.0) for _ in range(size)]
        for fraction in (0.0, 0.25, 0.5, 0.75, 1.0):
            expected = pyperf_utils.percentile(values, fraction)
            assert gbwarmup.percentile(values, fraction) == pytest.approx(expected, rel=1e-12)
        expected = pyperf_utils.median_abs_dev(values)
        assert gbwarmup.median_abs_dev(values) == pytest.approx(expected, rel=1e-12)
