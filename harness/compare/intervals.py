"""95% confidence intervals from the experiment's real structure: processes, not values. Pure.

A cell is measured in passes; each pass starts one worker process (a pyperf run), which
takes a few values. Values within one process share its warm-up, its memory layout, its
hash seed and the machine's state for the seconds it ran, so they are correlated: on this
project's VM a slow stretch outlasts a process. Treating them as independent makes an
interval narrower the more values a process takes, whatever the processes say. So every
interval here rests on the processes alone (the method is set out in docs/statistics.md):

1. Each process is summarized by the log of its values' median (robust to the odd slow
   value within a process). A pass's summary is the mean of its processes' (one, in every
   profile gilbench has).
2. A figure is a constant times a product of samples' typical values raised to powers
   (estimate.Terms), so on the log scale it is a linear combination of pass summaries.
   - One sample: the figure is ``exp(trimmed mean of its pass summaries)``, a geometric
     mean of process medians (20% trimmed: ``TRIM``), with the Tukey-McLaughlin t interval
     over its passes (Student's, below five passes).
   - Several samples measured in the same passes (a ratio to the reference, a geometric
     mean over workloads, in a fixed profile all of them): the combination is formed pass
     by pass, over the passes every sample ran in, and gets the same one-sample t interval.
     Pairing by pass takes out the drift that hits every cell of a pass alike.
   - Several samples with fewer than two passes in common: independent samples, Yuen's
     trimmed Welch and Satterthwaite's degrees of freedom.
3. The p-value is that of the figure being 1 (no difference), from the same t statistic,
   so a decision taken from the interval and one taken from the p-value always agree.

No random numbers, so a report rebuilt from the same files prints the same figures.
"""

from __future__ import annotations

import functools
import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
from scipy import stats

CONFIDENCE = 0.95
# The share of passes set aside at each end of a figure's pass summaries (Tukey and
# McLaughlin's 20% trimmed mean): a process the machine slowed throughout is set aside, not
# averaged in: on this project's VMs a paired speedup's process summaries have a long tail
# of slow processes, under which a plain mean's t interval misses its truth too often
# (docs/statistics.md; coverage-bench measures the trimmed one).
TRIM = 0.2
# The least passes in common for which a combination is formed pass by pass; below it the
# samples are taken as independent (a t interval needs two summaries at least).
MIN_PAIRED = 2


@dataclass(frozen=True)
class Sample:
    """A cell's values, each with the pass and process it came from."""

    values: np.ndarray  # float seconds (or per-value ratios), all > 0
    passes: np.ndarray  # int: the pass of each value's process
    processes: np.ndarray  # int: the value's process, unique within the sample

    @classmethod
    def of(cls, values: Sequence[float], passes: Sequence[int] | None = None,
           processes: Sequence[int] | None = None) -> Sample:  # fmt: skip
        """A sample; without passes every value is its own process and pass (tests, and
        figures that have no structure)."""
        array = np.asarray(values, dtype=float)
        order = np.arange(len(array))
        passes_ = order if passes is None else np.asarray(passes, dtype=int)
        return cls(array, passes_, passes_ if processes is None else np.asarray(processes))

    def __len__(self) -> int:
        return len(self.values)

    @functools.cached_property
    def by_pass(self) -> tuple[np.ndarray, np.ndarray]:
        """(passes, log summary of each): the mean over a pass's processes of the log of
        each process's median value; passes sorted."""
        groups: dict[tuple[int, int], list[float]] = {}
        for key in zip(self.passes.tolist(), self.processes.tolist(), self.values.tolist(),
                       strict=True):  # fmt: skip
            groups.setdefault((int(key[0]), int(key[1])), []).append(float(key[2]))
        logs: dict[int, list[float]] = {}
        for (number, _), values in groups.items():
            logs.setdefault(number, []).append(math.log(statistics.median(values)))
        passes = np.array(sorted(logs), dtype=int)
        return passes, np.array([statistics.fmean(logs[int(p)]) for p in passes])

    @property
    def process_count(self) -> int:
        """How many processes the values came from."""
        return len(set(zip(self.passes.tolist(), self.processes.tolist(), strict=True)))


@dataclass(frozen=True)
class Interval:
    """A figure on the log scale: its point, standard error and degrees of freedom."""

    log: float
    se: float  # NaN: no interval (fewer than two passes)
    df: float
    passes: int = 0  # the pass summaries it rests on (the fewest of any sample's, unpaired)
    last: int = 0  # the last pass it rests on: where a sequential run looked at it last

    def bounds(self, confidence: float = CONFIDENCE) -> tuple[float, float]:
        """The interval's ends on the log scale; NaN when there is none."""
        if not (math.isfinite(self.se) and self.df > 0):
            return math.nan, math.nan
        half = float(stats.t.ppf(0.5 + confidence / 2, self.df)) * self.se
        return self.log - half, self.log + half

    def p_value(self, null_log: float = 0.0) -> float:
        """Two-sided p-value of the figure being exp(null_log), from the same t statistic."""
        if not (math.isfinite(self.se) and self.df > 0):
            return math.nan
        if self.se == 0:
            return 0.0 if self.log != null_log else 1.0
        return float(2 * stats.t.sf(abs(self.log - null_log) / self.se, self.df))


NO_INTERVAL = Interval(math.nan, math.nan, math.nan)


def combine(samples: Sequence[Sample], powers: Sequence[float]) -> Interval:
    """sum_j powers[j] x (sample j's log typical value), with its standard error.

    Paired by pass when the samples share MIN_PAIRED passes or more (one sample shares all
    of its own); otherwise independent, with Welch-Satterthwaite degrees of freedom.
    """
    summaries = [s.by_pass for s in samples]
    if any(len(p) == 0 for p, _ in summaries):
        return NO_INTERVAL
    common = functools.reduce(np.intersect1d, [p for p, _ in summaries])
    if len(common) >= MIN_PAIRED or len(samples) == 1:
        combined = sum(
            power * logs[np.searchsorted(passes, common)]
            for (passes, logs), power in zip(summaries, powers, strict=True)
        )
        found = _one_sample(np.asarray(combined, dtype=float))
        return replace(found, last=int(common[-1]))
    return replace(_welch(summaries, powers), passes=min(len(p) for p, _ in summaries),
                   last=max(int(p[-1]) for p, _ in summaries))  # fmt: skip


def _trimmed(y: np.ndarray) -> tuple[float, float, int]:
    """(trimmed mean, its squared standard error, degrees of freedom) of ``y``: Tukey and
    McLaughlin's, as in Yuen's test. The TRIM share of each end is set aside for the mean
    and winsorized for the spread; with fewer than 1 / TRIM values nothing is trimmed, and
    this is the mean with Student's standard error and n - 1 degrees of freedom."""
    n = len(y)
    g = int(TRIM * n)
    ordered = np.sort(y)
    h = n - 2 * g
    mean = float(np.mean(ordered[g : n - g]))
    if h < 2:
        return mean, math.nan, 0
    winsorized = np.clip(ordered, ordered[g], ordered[n - g - 1])
    return mean, float(np.var(winsorized, ddof=1)) * (n - 1) / (h * (h - 1)), h - 1


def _one_sample(y: np.ndarray) -> Interval:
    point, variance, df = _trimmed(y)
    if not df:
        return Interval(point, math.nan, math.nan, len(y))
    return Interval(point, math.sqrt(variance), df, len(y))


def _welch(summaries: Sequence[tuple[np.ndarray, np.ndarray]], powers: Sequence[float]) -> Interval:
    """Independent samples: Yuen's trimmed Welch, Satterthwaite's degrees of freedom."""
    found = [_trimmed(logs) for _, logs in summaries]
    point = sum(p * mean for (mean, _, _), p in zip(found, powers, strict=True))
    if any(not df for _, _, df in found):
        return Interval(point, math.nan, math.nan)
    parts = [p * p * v for (_, v, _), p in zip(found, powers, strict=True)]
    variance = sum(parts)
    if variance == 0:
        return Interval(point, 0.0, math.inf)
    df = variance**2 / sum(v * v / d for v, (_, _, d) in zip(parts, found, strict=True))
    return Interval(point, math.sqrt(variance), df)
