"""The decision rule and the intervals behind it, as docs/statistics.md states them: the four
words, equivalence first, the looks and the error rate each spends, and the trimmed t
interval over pass summaries."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from scipy import stats

from harness.compare.decisions import Levels, decide, look_of, looks
from harness.compare.estimate import Estimate
from harness.compare.intervals import Sample, combine


def test_an_interval_within_the_margin_is_equivalent_even_where_it_leaves_1_out() -> None:
    """[1.01, 1.04] lies above 1 and within 5%: equivalent, not gains; its ends on the
    margin's own ends are still within it."""
    assert decide(Estimate(1.02, 1.01, 1.04)) == "equivalent"
    assert decide(Estimate(0.98, 0.96, 0.99)) == "equivalent"
    assert decide(Estimate(1.0, 1 / 1.05, 1.05)) == "equivalent"
    assert decide(Estimate(1.02, 1.01, 1.04), margin=0.01) == "gains"


def test_an_interval_past_1_and_the_margin_gains_or_loses_by_which_side_is_better() -> None:
    """Wholly above 1 and reaching past the margin: gains where higher is better, loses where
    lower is (a time ratio); an interval holding 1 and reaching past the margin is undecided."""
    above, below = Estimate(1.2, 1.03, 1.4), Estimate(0.8, 0.7, 0.98)
    assert (decide(above), decide(below)) == ("gains", "loses")
    assert decide(above, higher_is_better=False) == "loses"
    assert decide(below, higher_is_better=False) == "gains"
    assert decide(Estimate(1.0, 0.9, 1.1)) == "undecided"
    assert decide(Estimate(1.0, math.nan, math.nan)) == "undecided"


def test_a_sequential_run_looks_a_third_apart_and_spends_alpha_over_k_k_plus_1() -> None:
    """Looks after passes 3, 4, 5, 7, 9, 12, 16, 21, 28; look k spends 5% / (k (k + 1)), so
    the looks' shares never sum past 5%; the look after pass 12 reads at 99.88%."""
    assert list(itertools.islice(looks(), 9)) == [3, 4, 5, 7, 9, 12, 16, 21, 28]
    sequential = Levels(sequential=True)
    assert sequential.spent(3) == pytest.approx(0.025)
    assert sequential.spent(4) == pytest.approx(0.05 / 6)
    assert sequential.confidence(12) == pytest.approx(1 - 0.05 / 42)
    spent = sum(sequential.spent(at) for at in itertools.islice(looks(), 40))
    assert spent == pytest.approx(0.05 * 40 / 41) and spent < 0.05  # 1 - 1/(k + 1) of it
    assert Levels().spent(12) == pytest.approx(0.05)  # a fixed profile: 95% throughout


def test_a_run_cut_off_between_looks_is_read_at_the_next_looks_stricter_level() -> None:
    """A figure whose last pass is 6 is read at the look after pass 7, the fourth."""
    assert (look_of(6), look_of(7), look_of(8)) == (4, 4, 5)
    sequential = Levels(sequential=True)
    assert sequential.confidence(6) == sequential.confidence(7) > sequential.confidence(5)


def _one_process_a_pass(logs: list[float]) -> Sample:
    """A sample of one process a pass, each with three values whose median is exp(log)."""
    values = np.repeat(np.exp(logs), 3) * np.tile([0.99, 1.0, 1.02], len(logs))
    passes = np.repeat(np.arange(1, len(logs) + 1), 3)
    return Sample(values, passes, np.zeros(len(values), dtype=int))


def test_from_five_passes_a_figure_is_the_tukey_mclaughlin_trimmed_t_interval() -> None:
    """Ten passes, one slowed throughout: the figure is exp of the 20%-trimmed mean of the
    pass summaries, and its half-width t(h - 1) s_w sqrt(P - 1) / sqrt(h (h - 1)), with s_w
    the winsorized standard deviation and h = P - 2 floor(0.2 P) passes kept."""
    logs = [0.0, 0.01, -0.01, 0.02, -0.02, 0.005, -0.005, 0.015, -0.015, 0.4]
    found = combine([_one_process_a_pass(logs)], [1.0])
    y = np.sort(np.array(logs))
    p, g = len(y), int(0.2 * len(y))
    h = p - 2 * g
    winsorized = np.clip(y, y[g], y[p - g - 1])
    half = stats.t.ppf(0.975, h - 1) * np.std(winsorized, ddof=1) * math.sqrt(p - 1)
    half /= math.sqrt(h * (h - 1))
    low, high = found.bounds()
    assert found.log == pytest.approx(float(stats.trim_mean(y, 0.2)), abs=1e-12)
    assert (low, high) == pytest.approx((found.log - half, found.log + half), abs=1e-12)
    assert found.log < 0.02  # the slowed pass is set aside, not averaged in


def test_below_five_passes_nothing_is_trimmed_and_the_interval_is_students() -> None:
    """Four passes: the plain mean of the pass summaries and Student's t interval with 3
    degrees of freedom."""
    logs = [0.0, 0.03, -0.01, 0.2]
    found = combine([_one_process_a_pass(logs)], [1.0])
    mean, error = float(np.mean(logs)), float(stats.sem(logs))
    assert found.log == pytest.approx(mean, abs=1e-12)
    assert found.bounds() == pytest.approx(stats.t.interval(0.95, 3, mean, error), abs=1e-12)
