"""The instruction series' changes (harness/history/instructions.py): decided run by run
against each series' own measured noise, and said against the same cell's time."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from harness.history.changes import find_changes
from harness.history.instructions import FLOOR, NOISE_TIMES, find_all, find_steps

NBODY = 1_107_174_446.0  # 3.14's instructions per unit of nbody, as counted here


def points(metric: str, values: Sequence[float], half: float, impl: str = "3.14",
           workload: str = "nbody") -> pd.DataFrame:  # fmt: skip
    """One series of ``metric`` on one machine class, each run's interval +-``half`` of it."""
    return pd.DataFrame(
        [{"metric": metric, "impl": impl, "workload": workload, "model": "serial",
          "workers": 1, "machine_class": "EPYC, 2 cores, x86_64", "fingerprint": "f",
          "composition": "", "value": v, "ci_low": v * (1 - half), "ci_high": v * (1 + half),
          "run": f"r{r:03d}", "order": r} for r, v in enumerate(values)]
    )  # fmt: skip


def test_a_two_percent_step_is_decided_at_its_run_and_the_runs_before_are_quiet() -> None:
    """Three runs alike to the count's own spread, then 2% more instructions: a regression
    from that run, decided on it alone; the three runs before give none."""
    level = [NBODY * (1 + 1e-7 * d) for d in (0, 1, -1)]
    assert find_steps(points("instructions", level, 2e-6)) == []
    (step,) = find_steps(points("instructions", [*level, NBODY * 1.02], 2e-6))
    assert (step.kind, step.after_run, step.before_run) == ("regression", "r003", "r002")
    assert (step.runs_before, step.runs_after) == (3, 1)
    assert step.ratio == NBODY * 1.02 / level[0] and step.threshold == FLOOR
    assert step.ci_low > 1.019 and step.ci_high < 1.021
    assert "+2.00%, beyond its threshold of 0.10% set by the counts' measured spread" in (
        step.describe()
    )


def test_the_threshold_is_a_multiple_of_the_series_measured_noise() -> None:
    """On a series whose runs' intervals are +-0.4% (a count that mostly waits), a step just
    within NOISE_TIMES x the noise is undecided; one just beyond it is decided, and an
    improvement when the count falls."""
    half = 0.004
    within, beyond = NOISE_TIMES * half * 0.9, NOISE_TIMES * half * 1.1
    assert find_steps(points("instructions", [31_000.0] * 4 + [31_000 * (1 + within)], half)) == []
    (step,) = find_steps(points("instructions", [31_000.0] * 4 + [31_000 / (1 + beyond)], half))
    assert step.kind == "improvement" and math.isclose(step.threshold, NOISE_TIMES * half)


def test_a_step_back_is_a_change_of_its_own_and_a_count_without_interval_none() -> None:
    """A change that is undone a run later is two changes, each at its run; runs with no
    interval (one repeat) decide nothing."""
    found = find_steps(points("instructions", [NBODY] * 3 + [NBODY * 1.01, NBODY], 1e-6))
    assert [(c.kind, c.after_run, c.runs_after) for c in found] == [
        ("regression", "r003", 1), ("improvement", "r004", 1)]  # fmt: skip
    lone = points("instructions", [NBODY] * 3 + [NBODY * 1.5], 0.0).assign(ci_low=math.nan)
    assert find_steps(lone) == []


def test_changes_in_one_tier_only_are_reported_as_such() -> None:
    """A time regression with no instruction change says it is in time only (and how far
    instructions moved); an instruction regression with no time change says it is in
    instructions only; the permutation test never reads an instruction series."""
    slow = [100.0] * 12 + [60.0] * 4
    timed = pd.concat([
        points("throughput", slow, 0.01),
        points("instructions", [NBODY] * 16, 1e-6),
        points("throughput", [50.0] * 16, 0.01, workload="hash_sha256"),
        points("instructions", [1.4e9] * 12 + [1.4e9 * 1.003] * 4, 1e-6,
               workload="hash_sha256"),
    ])  # fmt: skip
    found = {(c.metric, c.workload): c for c in find_all(timed)}
    assert set(found) == {("throughput", "nbody"), ("instructions", "hash_sha256")}
    time = found[("throughput", "nbody")]
    assert (time.kind, time.after_run) == ("regression", "r012")
    assert time.counterpart == (
        "in time only: no change decided in instructions (+0.00% between the same runs)"
    )
    counted = found[("instructions", "hash_sha256")]
    assert (counted.kind, counted.after_run) == ("regression", "r012")
    assert counted.counterpart == (
        "in instructions only: no change decided in time (+0.00% between the same runs)"
    )
    assert find_changes(timed[timed["metric"] == "instructions"]) == []  # 0.3%: below 5%


def test_a_change_in_both_tiers_says_so() -> None:
    """Time and instructions both regressed at one run: each change names the other."""
    both = pd.concat([points("throughput", [100.0] * 12 + [80.0] * 4, 0.01),
                      points("instructions", [NBODY] * 12 + [NBODY * 1.25] * 4, 1e-6)])  # fmt: skip
    found = {c.metric: c for c in find_all(both)}
    assert found["throughput"].counterpart.startswith("instructions too: a regression of +25.00%")
    assert found["instructions"].counterpart.startswith("time too: a regression of -20.00%")


def test_steps_injected_into_real_counts_are_found_above_the_floor_and_never_below(
    tmp_path: Path,
) -> None:
    """On series drawn from a real count's repeats (nbody on 3.14), no A/A night raises an
    alarm, a step under FLOOR is never decided, and one of twice FLOOR or more always is,
    at its own night."""
    import shutil

    import numpy as np

    from harness import store
    from harness.countsfile import load_counts
    from harness.history.countpower import STEPS, format_power, power
    from harness.run.counts import repeats_of
    from tests.test_counted_report import COUNTS

    shutil.copyfile(COUNTS, store.counts_path(tmp_path))
    pool = [r.per_unit for r in repeats_of(load_counts(tmp_path))
            if (r.impl, r.workload) == ("3.14", "nbody")]  # fmt: skip
    found = power("3.14", "nbody", pool, 20, np.random.default_rng(1))
    assert found.false == 0 and found.series_runs == 20 * 29 * (1 + len(STEPS))
    assert all(found.found[s] == 0 for s in STEPS if s < FLOOR)
    assert all(found.found[s] == 1 for s in STEPS if s >= 2 * FLOOR)
    assert found.smallest <= 2 * FLOOR
    table = format_power([found], 20).splitlines()
    assert table[1].split()[-3:] == ["smallest", "false", "alarms"]
    assert table[2].split()[:2] == ["3.14", "nbody"] and table[2].endswith(f"0/{29 * 200}")
    assert table[3] == (f"every cell: a step of {found.smallest:.2%} found with 95% power and "
                        "no false alarm")  # fmt: skip
