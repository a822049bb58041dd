"""The one estimator behind every figure gilbench shows, and the one rule for what it means.

Every ratio in the report is a ``Terms``: a constant times a product of samples' typical
values, each raised to a power. A sample is one cell's values (``seconds``: the time of
one round) or, where the cell paired each value with serial units timed right after it,
the cell's per-value speedups (``ratios``: W x unit / round). A sample's typical value is
the 20%-trimmed geometric mean over its processes of each process's median (intervals.py).
So:

- a paired speedup is ``typical(ratios)``; an unpaired one
  ``W x typical(serial/1) / typical(cell)``;
- a ratio to the reference implementation is ``typical(reference cell) / typical(cell)``,
  formed pass by pass where both cells ran in the same passes;
- a geometric mean over workloads is the product of their terms, each to the power 1/k;
- a ratio of two figures is the product of the one's terms and the other's inverse.

``estimate_all`` turns terms into a figure, its interval and its p-value, all from one
t statistic over passes (intervals.combine). A finding that states the same quantity as a
table cell builds the same terms, so it prints the same figure and interval; inverse terms
give exact reciprocals.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from harness.compare.intervals import CONFIDENCE, Sample, combine

Cell = tuple[str, str, str, int]  # impl, workload, model, workers
# seconds: a cell's round times; ratios: its per-value paired speedups; units: the serial
# unit times those were paired with (the speedup's baseline, shown as baseline_s).
# instructions: a serial cell's instructions per unit, one value per repeat of its count
# (run/counts.py), each repeat its own "pass" (repeats share a hash seed across cells).
Kind = Literal["seconds", "ratios", "units", "instructions"]
SampleKey = tuple[str, str, str, int, Kind]
Samples = Mapping[SampleKey, Sample]


@dataclass(frozen=True)
class Estimate:
    """A ratio, its confidence interval and the p-value of its being 1 (NaN when it can't
    be computed)."""

    value: float
    low: float
    high: float
    p: float = math.nan
    passes: int = 0  # the passes its interval rests on
    confidence: float = CONFIDENCE  # the interval's level


NO_ESTIMATE = Estimate(math.nan, math.nan, math.nan)


@dataclass(frozen=True)
class Terms:
    """``scale`` x the product of each sample's median raised to its power."""

    powers: tuple[tuple[SampleKey, float], ...] = ()  # sorted by key; no zero powers
    scale: float = 1.0

    @classmethod
    def of(cls, powers: Iterable[tuple[SampleKey, float]], scale: float = 1.0) -> Terms:
        merged: dict[SampleKey, float] = {}
        for key, power in powers:
            merged[key] = merged.get(key, 0.0) + power
        kept = tuple(sorted((k, p) for k, p in merged.items() if abs(p) > 1e-12))
        return cls(kept, scale)

    def __mul__(self, other: Terms) -> Terms:
        return Terms.of([*self.powers, *other.powers], self.scale * other.scale)

    def __pow__(self, exponent: float) -> Terms:
        return Terms.of([(k, p * exponent) for k, p in self.powers], self.scale**exponent)

    @property
    def cells(self) -> list[Cell]:
        """The cells whose samples this rests on, in key order."""
        return list(dict.fromkeys(key[:4] for key, _ in self.powers))


def seconds(cell: Cell) -> SampleKey:
    return (*cell, "seconds")


def ratios(cell: Cell) -> SampleKey:
    return (*cell, "ratios")


def instructions(cell: Cell) -> SampleKey:
    return (*cell, "instructions")


def units(cell: Cell) -> SampleKey:
    return (*cell, "units")


def ratio(numerator: Cell, denominator: Cell, scale: float = 1.0) -> Terms:
    """median(numerator's seconds) / median(denominator's): a throughput ratio."""
    return Terms.of([(seconds(numerator), 1.0), (seconds(denominator), -1.0)], scale)


def geomean(terms: Sequence[Terms]) -> Terms:
    """The geometric mean of several figures, as one product."""
    product = Terms()
    for one in terms:
        product = product * one ** (1 / len(terms))
    return product


Level = float | Callable[[int], float]  # a confidence, or one given a figure's last pass


def estimate_all(terms: Sequence[Terms], samples: Samples,
                 confidence: Level = CONFIDENCE) -> list[Estimate]:  # fmt: skip
    """Each terms' figure, its ``confidence`` interval and the p-value of its being 1.

    ``confidence`` may be a function of the last pass a figure rests on: a sequential run's
    level at the look that pass belongs to (decisions.Levels).

    NaN where a sample is missing; no interval where the samples have fewer than two
    passes (intervals.combine). The figure is ``scale`` x exp of the combination of the
    samples' log pass summaries, so inverse terms give exact reciprocals, intervals too.
    """
    out = [NO_ESTIMATE] * len(terms)
    for index, one in enumerate(terms):
        if not all(key in samples and len(samples[key]) > 0 for key, _ in one.powers):
            continue
        if not one.powers:
            out[index] = Estimate(one.scale, math.nan, math.nan)  # a baseline: 1, by definition
            continue
        found = combine([samples[k] for k, _ in one.powers], [p for _, p in one.powers])
        level = confidence(found.last) if callable(confidence) else confidence
        low, high = found.bounds(level)
        shift = math.log(one.scale)
        out[index] = Estimate(one.scale * math.exp(found.log), one.scale * math.exp(low),
                              one.scale * math.exp(high), found.p_value(-shift),
                              found.passes, level)  # fmt: skip
    return out


Direction = Literal["above", "below", "level", "unknown"]


def direction(estimate: Estimate) -> Direction:
    """Where the interval lies against 1: wholly above, wholly below, or holding it."""
    if math.isnan(estimate.value) or math.isnan(estimate.low) or math.isnan(estimate.high):
        return "unknown"
    if estimate.low > 1:
        return "above"
    return "below" if estimate.high < 1 else "level"
