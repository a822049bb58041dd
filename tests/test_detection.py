"""The detection benchmark's figures hold what README.md claims of them: on the noise of
runs measured to +-2%, 95% of 10% steps found within 3 runs, at most 1% false alarms per
series-run. A small run of it (40 series of which 4 change, 5 histories, fixed seed) that
gives the full run's shares here."""

from __future__ import annotations

import numpy as np
import pytest

from harness.history import detection

SERIES, HISTORIES = 40, 5  # one series in 10 changes: 20 changes, 5800 series-runs
SEED = 20261202


@pytest.fixture(scope="module")
def precise() -> dict[str, detection.Figures]:
    """The rules on the frozen precise runs' noise: no change, and steps of 10%."""
    chosen = [s for s in detection.scenarios() if s.name in ("A/A (no change)", "step of 10%")]
    pools = detection.real_noise(detection.PRECISE_FIXTURE)
    found = detection.score(pools, SERIES, HISTORIES, np.random.default_rng(SEED), chosen)
    return {figures.scenario.name: figures for figures in found}


def test_ten_percent_steps_on_precise_noise_are_found_within_three_runs(
    precise: dict[str, detection.Figures],
) -> None:
    """At least 95% of the injected 10% steps are reported by their third run."""
    step = precise["step of 10%"].rules
    assert step.changes == HISTORIES * SERIES // detection.SHARE
    assert step.share_within(3) >= 0.95, step.line("gilbench's rules")


def test_false_alarms_on_precise_noise_stay_under_one_percent_per_series_run(
    precise: dict[str, detection.Figures],
) -> None:
    """With no change or beside steps, the rules raise at most 1% false alarms a series-run."""
    for figures in precise.values():
        tally = figures.rules
        assert tally.series_runs == HISTORIES * SERIES * (detection.RUNS - 1)
        assert tally.false_rate <= 0.01, (figures.scenario.name, tally.line("gilbench's rules"))
