"""The one estimator behind every figure gilbench shows, and the one rule for what it means.

Every ratio in the report is a ``Terms``: a constant times a product of sample medians, each
raised to a power. A sample is one cell's values (``seconds``: the time of one round) or,
where the cell paired each value with serial units timed right after it, the cell's
per-value speedups (``ratios``: W x unit / round). So:

- a paired speedup is ``median(ratios)``; an unpaired one ``W x median(serial/1) / median(cell)``;
- a ratio to the reference implementation is ``median(reference cell) / median(cell)``;
- a geometric mean over workloads is the product of their terms, each to the power 1/k;
- a ratio of two figures is the product of the one's terms and the other's inverse.

``estimate`` turns terms into a figure and its 95% interval. A finding that states the same
quantity as a table cell builds the same terms, so it prints the same figure: the point is
the product of the sample medians, whatever the quantity is called, and the interval is
drawn in one canonical orientation, so that inverse terms give exact reciprocals.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from harness.compare.intervals import median_cis, product_cis

Cell = tuple[str, str, str, int]  # impl, workload, model, workers
# seconds: a cell's round times; ratios: its per-value paired speedups; units: the serial
# unit times those were paired with (the speedup's baseline, shown as baseline_s).
Kind = Literal["seconds", "ratios", "units"]
SampleKey = tuple[str, str, str, int, Kind]
Samples = Mapping[SampleKey, np.ndarray]
NO_CLEAR_DIFFERENCE = "no clear difference"
TOO_NOISY = "too noisy"


@dataclass(frozen=True)
class Estimate:
    """A ratio and its 95% confidence interval (NaN when it can't be computed)."""

    value: float
    low: float
    high: float


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


def estimate_all(terms: Sequence[Terms], samples: Samples) -> list[Estimate]:
    """Each terms' figure and 95% interval; NaN where a sample is missing or too small.

    The figure is the product of the sample medians. Terms of a single sample to the power
    +-1 (a paired speedup) get the median's order-statistic interval; all others a
    bootstrap of the product, every sample resampled independently with a fixed seed.
    The bootstrap always runs on the orientation whose first power is positive, and terms
    of the other orientation are the inverse of its result.
    """
    out = [NO_ESTIMATE] * len(terms)
    flipped = [bool(t.powers) and t.powers[0][1] < 0 for t in terms]
    boot: dict[tuple[float, ...], list[int]] = {}
    singles: list[int] = []
    for index, one in enumerate(terms):
        if not all(key in samples and len(samples[key]) > 0 for key, _ in one.powers):
            continue
        value = one.scale * math.prod(float(np.median(samples[k])) ** p for k, p in one.powers)
        out[index] = Estimate(value, math.nan, math.nan)
        if len(one.powers) == 1 and abs(one.powers[0][1]) == 1:
            singles.append(index)
        elif one.powers:
            powers = tuple(-p if flipped[index] else p for _, p in one.powers)
            boot.setdefault(powers, []).append(index)
    if singles:
        cis = median_cis([samples[terms[i].powers[0][0]] for i in singles])
        for index, (_, low, high) in zip(singles, cis, strict=True):
            out[index] = _oriented(out[index], terms[index].scale, low, high, flipped[index])
    for powers, indices in boot.items():
        items = [[samples[k] for k, _ in terms[i].powers] for i in indices]
        for index, (low, high) in zip(indices, product_cis(items, powers), strict=True):
            out[index] = _oriented(out[index], terms[index].scale, low, high, flipped[index])
    return out


def _oriented(point: Estimate, scale: float, low: float, high: float, flipped: bool) -> Estimate:
    """The interval of the canonical orientation, turned back to the terms' own."""
    if flipped:
        low, high = 1 / high, 1 / low
    return Estimate(point.value, low * scale, high * scale)


Direction = Literal["above", "below", "level", "unknown"]


def direction(estimate: Estimate) -> Direction:
    """Where the interval lies against 1: wholly above, wholly below, or holding it."""
    if math.isnan(estimate.value) or math.isnan(estimate.low) or math.isnan(estimate.high):
        return "unknown"
    if estimate.low > 1:
        return "above"
    return "below" if estimate.high < 1 else "level"


def verdict(estimate: Estimate, noisy: bool, above: str, below: str) -> str:
    """What a ratio supports, in words: ``above``, ``below``, "no clear difference"; or
    "too noisy" when a cell behind it is flagged; "" when there is no figure."""
    if noisy:
        return TOO_NOISY
    words = {"above": above, "below": below, "level": NO_CLEAR_DIFFERENCE}
    return words.get(direction(estimate), "")
