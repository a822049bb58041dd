"""How small a step the instruction series find: real counts' repeats, steps injected, as
detection.py does for the timed series. Pure; instructions-bench prints it.

The noise is real: each simulated night's count of a cell is the mean of ``RUN_REPEATS``
repeats drawn (three different ones) from that cell's repeats as counted, each under its
own hash seed, and its 95% interval is Student's t over those three, as a run's count and
its interval are (run/counts.py, compare/estimate.py). Onto ``RUNS`` such nights go a
step of a given size from night ``STEP_AT`` on, in every simulated series of a cell, or
nothing (A/A). instructions.find_steps reads each series; a change is found when it is
decided at the step's own night (a night or two later is late: neither found nor a false
alarm), a false alarm when it is decided anywhere else or in an A/A series. Its rule
decides a night from that night and the ones before, so reading the whole series gives
what the nightly, reading one night more each time, would have.

What it leaves out: how a count moves between nights beyond its repeats' spread (a new
runner image, another environment) is not in the repeats of one count; FLOOR stands for
it, and the A/A nightlies of tests/test_instruction_step.py measure it on one cell.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from harness.history.instructions import LEVEL_RUNS, METRIC, find_steps

RUNS = 30  # nights a simulated series has
STEP_AT = 20  # the first night with the step
RUN_REPEATS = 3  # a run's repeats: run/counts.REPEATS
STEPS = (0.0001, 0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05)
POWER = 0.95  # issue 26: the smallest step found with at least 95% power and no false alarm


@dataclass(frozen=True)
class Power:
    """One cell's detection: per step size, the share found at its night; false alarms."""

    impl: str
    workload: str
    cv: float  # of the cell's counted repeats
    found: dict[float, float]  # step -> share of series where it was decided at STEP_AT
    false: int  # alarms, over every series (A/A and stepped) of the cell
    series_runs: int  # chances to raise one

    @property
    def smallest(self) -> float:
        """The smallest step found with POWER, none of the cell's series crying wolf; NaN
        if none was."""
        if self.false:
            return math.nan
        return next((s for s in STEPS if self.found[s] >= POWER), math.nan)


def simulate(pool: np.ndarray, step: float, series: int, rng: np.random.Generator) -> pd.DataFrame:
    """``series`` simulated series of one cell, a step of ``step`` (0: none) at STEP_AT."""
    # three different repeats a night, as a run's repeats have three different hash seeds
    picks = rng.random((series, RUNS, len(pool))).argsort(axis=2)[:, :, :RUN_REPEATS]
    draws = pool[picks]
    factors = np.where(np.arange(RUNS) >= STEP_AT, 1 + step, 1.0)
    draws = draws * factors[None, :, None]
    mean = draws.mean(axis=2)
    half = stats.t.ppf(0.975, RUN_REPEATS - 1) * draws.std(axis=2, ddof=1) / math.sqrt(RUN_REPEATS)
    s, r = np.meshgrid(np.arange(series), np.arange(RUNS), indexing="ij")
    return pd.DataFrame(
        {
            "metric": METRIC,
            "impl": [f"s{i}" for i in s.ravel()],
            "workload": "w",
            "model": "serial",
            "workers": 1,
            "machine_class": "c",
            "fingerprint": "f",
            "value": mean.ravel(),
            "ci_low": (mean - half).ravel(),
            "ci_high": (mean + half).ravel(),
            "run": [f"r{i:03d}" for i in r.ravel()],
            "order": r.ravel(),
        }
    )


def power(impl: str, workload: str, pool: Sequence[float], series: int,
          rng: np.random.Generator) -> Power:  # fmt: skip
    """One cell's figures: each STEPS size and A/A, ``series`` simulated series each."""
    values = np.asarray(pool, dtype=float)
    found, false, chances = {}, 0, 0
    if len(values) <= RUN_REPEATS:
        raise ValueError(f"{impl} {workload}: {len(values)} repeats; drawing {RUN_REPEATS} "
                         "different ones a night needs more")  # fmt: skip
    for step in (0.0, *STEPS):
        changes = find_steps(simulate(values, step, series, rng))
        at = [int(c.after_run[1:]) for c in changes]
        right = {c.impl for c, r in zip(changes, at, strict=True) if step and r == STEP_AT}
        # a step just under the threshold may be decided a night or two late, when the
        # level before it is still the old one: late, not found, and no false alarm
        false += sum(1 for r in at if not (step and STEP_AT <= r < STEP_AT + LEVEL_RUNS))
        chances += series * (RUNS - 1)
        if step:
            found[step] = len(right) / series
    cv = float(values.std(ddof=1) / values.mean()) if len(values) > 1 else math.nan
    return Power(impl, workload, cv, found, false, chances)


def format_power(found: Sequence[Power], series: int) -> str:
    """The table instructions-bench prints: per cell, the share found per step size, the
    smallest found with POWER and no false alarm, and the false alarms."""
    head = " ".join(f"{s:>6.2%}" for s in STEPS)
    lines = [
        f"steps injected into real counts ({series} series x {RUNS} nights a cell and step, "
        f"each night {RUN_REPEATS} repeats drawn from the cell's; found = decided at the "
        "step's own night):",
        f"{'impl':<10} {'workload':<12} {head}  {'smallest':>8}  false alarms",
    ]
    for p in found:
        shares = " ".join(f"{p.found[s]:>6.0%}" for s in STEPS)
        smallest = "-" if math.isnan(p.smallest) else f"{p.smallest:.2%}"
        lines.append(f"{p.impl:<10} {p.workload:<12} {shares}  {smallest:>8}  "
                     f"{p.false}/{p.series_runs}")  # fmt: skip
    every = [p.smallest for p in found]
    if every and not any(math.isnan(s) for s in every):
        lines.append(f"every cell: a step of {max(every):.2%} found with {POWER:.0%} power and "
                     "no false alarm")  # fmt: skip
    return "\n".join(lines)
