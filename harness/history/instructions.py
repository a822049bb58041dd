"""Changes in the instruction series, decided against each series' own measured noise; and
every change of a serial cell said against the other tier's (time or instructions). Pure.

A serial cell's instructions per unit (run/counts.py) hardly move between runs of the same
code: over its repeats, each under its own hash seed, a count's coefficient of variation
was 0.0000% to 0.0002% on nbody and hash_sha256 and 0.005% to 0.03% on io_sleep, whose
units mostly wait (docs/measurements.md). Timed series need the permutation test and a
5% floor (changes.py); here a step of a fraction of a percent is a real one, and a few
runs are enough to see it. So an instruction series is read run by run:

- its **level** is the median of the last ``LEVEL_RUNS`` runs since its previous change
  (one run, just after a change); a series' first ``LEVEL_RUNS`` runs only set it;
- its **noise** is measured, never assumed: each run's point carries the 95% interval of
  its count over its repeats, and the noise is the median of those intervals' relative
  half-widths over the series' runs so far, the run read included;
- run r is a change when it moved from the level by at least the **threshold**,
  max(``FLOOR``, ``NOISE_TIMES`` x the noise), and its interval and the previous run's
  don't overlap. The floor covers what repeats can't show, as a new environment's
  layout; the 2% real step (tests/test_instruction_step.py) is found at its run and
  three A/A nightlies before it show nothing.

Such a change is decided at once, on its own run: a count that moved beyond its noise
moved. A slow creep below the threshold a run is never one (changes.py's rules don't see
it either). A change is a regression when the units execute more instructions, an
improvement when fewer.

``find_all`` is the one entry: the timed series' changes (changes.find_changes) and the
instruction series', each change of a serial cell at one worker then saying what the
other tier did at the same run (``Change.counterpart``): a regression found in
instructions but not in time is reported as such, and the other way round.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace

import numpy as np
import pandas as pd

from harness.history.changes import find_changes
from harness.history.decision import DEFAULT_RULES, Change, Rules, kind_of
from harness.history.series import HIGHER_IS_BETTER, SERIES, segments

METRIC = "instructions"
TIMED = "throughput"  # the same serial cell's timed figure
# The least step decided in any instruction series, whatever its repeats say: what moves
# a count between nights beyond its repeats (another runner image, glibc, environment) is
# not in them. Two counts of nbody and hash_sha256 hours apart here differed by 0.00007%
# at most (docs/measurements.md): 0.1% is over a thousand times that, and a twentieth of
# the 2% a workload edit shows.
FLOOR = 0.001
# A step must be this many times the series' noise (its runs' 95% half-widths, about 2.5
# CVs of their repeats): on instructions-bench's injected steps 2x already gave no false
# alarm in 58,000 series-runs a cell; 3x leaves room for tails that 5 repeats can't show,
# and still finds a 2% step on the noisiest cell (io_sleep) every time.
NOISE_TIMES = 3.0
LEVEL_RUNS = 3  # the level before a run: the median of this many runs since a change


def find_all(points: pd.DataFrame, rules: Rules = DEFAULT_RULES) -> list[Change]:
    """Every change of the history's series, newest first: the timed figures' by
    changes.py's rules, the instruction counts' by ``find_steps``; a serial cell's each
    saying what the other tier did at its run."""
    counted = points["metric"] == METRIC if len(points) else pd.Series(dtype=bool)
    timed = find_changes(points[~counted], rules) if len(points) else []
    steps = find_steps(points[counted]) if len(points) else []
    found = [*_against(timed, steps, points), *_against(steps, timed, points)]
    return sorted(found, key=lambda c: (c.after_run, c.series), reverse=True)


def find_steps(points: pd.DataFrame) -> list[Change]:
    """The changes of the instruction series among ``points`` (all of one metric)."""
    if points.empty:
        return []
    found = []
    for _, rows in segments(points).groupby([*SERIES, "segment"], sort=False):
        found += _steps(rows.reset_index(drop=True))
    return found


def _steps(rows: pd.DataFrame) -> list[Change]:
    values = rows["value"].to_numpy(dtype=float)
    low, high = rows["ci_low"].to_numpy(dtype=float), rows["ci_high"].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        noise = (high - low) / (2 * values)  # NaN where a run has no interval
    starts, thresholds = [0], {}
    for r in range(LEVEL_RUNS, len(values)):  # a level and a noise need some runs first
        since = starts[-1]
        level = float(np.median(values[max(since, r - LEVEL_RUNS) : r]))
        spread = noise[: r + 1]  # the counts' spread: a step in level doesn't change it
        if not (level > 0 and values[r] > 0) or np.isnan(spread).all():
            continue
        threshold = max(FLOOR, NOISE_TIMES * float(np.nanmedian(spread)))
        apart = high[r - 1] < low[r] or high[r] < low[r - 1]
        if abs(math.log(values[r] / level)) >= math.log1p(threshold) and apart:
            starts.append(r)
            thresholds[r] = threshold
    bounds = [*starts, len(values)]
    return [_change(rows, since, at, end, thresholds[at])
            for since, at, end in zip(bounds, bounds[1:], bounds[2:], strict=False)]  # fmt: skip


def _change(rows: pd.DataFrame, since: int, at: int, end: int, threshold: float) -> Change:
    """The step at run ``at`` (the level from run ``since``; it holds until ``end``)."""
    before = float(np.median(rows["value"].iloc[max(since, at - LEVEL_RUNS) : at]))
    row, last = rows.iloc[at], rows.iloc[at - 1]
    after = float(row["value"])
    return Change(
        metric=METRIC,
        impl=str(row["impl"]),
        workload=str(row["workload"]),
        model=str(row["model"]),
        workers=int(row["workers"]),
        machine_class=str(row["machine_class"]),
        fingerprint=str(row["fingerprint"]),
        before_run=str(last["run"]),
        after_run=str(row["run"]),
        runs_before=at - since,
        runs_after=end - at,
        before=before,
        after=after,
        ratio=after / before,
        # the run's interval against the run's before it: both are measured, not pooled
        ci_low=float(row["ci_low"]) / float(last["ci_high"]),
        ci_high=float(row["ci_high"]) / float(last["ci_low"]),
        p_value=math.nan,  # decided against the noise measured, not by a test's p
        q_value=math.nan,
        kind=kind_of(after > before, HIGHER_IS_BETTER[METRIC]),
        threshold=threshold,
    )


def _cell(change: Change) -> tuple[str, str, str, int, str]:
    return (change.impl, change.workload, change.model, change.workers, change.machine_class)


def _against(changes: Sequence[Change], others: Sequence[Change],
             points: pd.DataFrame) -> list[Change]:  # fmt: skip
    """``changes``, a serial cell's each saying whether the other tier (instructions for a
    timed change, time for an instruction change) changed at the same run, and if not,
    how far it moved there."""
    out = []
    for change in changes:
        if change.metric not in (METRIC, TIMED) or (change.model, change.workers) != ("serial", 1):
            out.append(change)
            continue
        other = TIMED if change.metric == METRIC else METRIC
        words = {METRIC: "instructions", TIMED: "time"}
        match = next((o for o in others if o.metric == other and _cell(o) == _cell(change)
                      and o.after_run == change.after_run), None)  # fmt: skip
        if match is not None:
            said = f"{words[other]} too: a {match.kind} of {match.ratio - 1:+.2%}"
        else:
            moved = _moved(points, other, change)
            said = f"in {words[change.metric]} only: no change decided in {words[other]}" + (
                f" ({moved:+.2%} between the same runs)" if moved is not None else ""
            )
        out.append(replace(change, counterpart=said))
    return out


def _moved(points: pd.DataFrame, metric: str, change: Change) -> float | None:
    """How far ``metric`` of the change's cell moved between its runs either side."""
    rows = points[(points["metric"] == metric) & (points["impl"] == change.impl)
                  & (points["workload"] == change.workload) & (points["model"] == "serial")
                  & (points["workers"] == 1)]  # fmt: skip
    if "machine_class" in rows:
        rows = rows[rows["machine_class"].fillna("").astype(str) == change.machine_class]
    by_run = dict(zip(rows["run"].astype(str), rows["value"].astype(float), strict=True))
    if change.before_run not in by_run or change.after_run not in by_run:
        return None
    return by_run[change.after_run] / by_run[change.before_run] - 1
