"""95% confidence intervals for medians and for ratios of medians. Pure; scipy does the maths.

Medians get the distribution-free order-statistic interval of ``scipy.stats.quantile_test``:
timings are skewed (a slow outlier, never a fast one), so no normal approximation, and no
random numbers. Ratios of medians (speedups, one implementation against another, geometric
means of several ratios) get a percentile bootstrap (``scipy.stats.bootstrap``) with a fixed
seed, so that a report rebuilt from the same files prints the same figures.

Values are resampled as if independent, as pyperf itself treats them; the spread between
pyperf's worker processes shows up as a wide interval, which the report then flags.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

CONFIDENCE = 0.95
# Any fixed seed will do: the same result files must give the same report, byte for byte.
SEED = 20260101
# Enough resamples that the ends of a 95% interval move by well under 1% between seeds.
N_RESAMPLES = 4999
# Resamples evaluated per cell at once; bounds memory to cells x BATCH x values floats.
BATCH = 1000
# Cells bootstrapped in one vectorised call; bounds memory on runs with thousands of cells.
CHUNK = 256


@dataclass(frozen=True)
class Estimate:
    """A ratio and its 95% confidence interval (NaN when it can't be computed)."""

    value: float
    low: float
    high: float

    @property
    def above_one(self) -> bool:
        return self.low > 1

    @property
    def below_one(self) -> bool:
        return self.high < 1

    @property
    def known(self) -> bool:
        return not (np.isnan(self.value) or np.isnan(self.low) or np.isnan(self.high))


NO_ESTIMATE = Estimate(float("nan"), float("nan"), float("nan"))


@functools.cache
def _median_ranks(n: int) -> tuple[int, int] | None:
    """Which order statistics bound the median of n values at 95%; None below 6 values."""
    result = stats.quantile_test(np.arange(n), q=0, p=0.5)
    ci: Any = result.confidence_interval(confidence_level=CONFIDENCE)
    if np.isnan(ci.low) or np.isnan(ci.high):
        return None
    return (int(ci.low), int(ci.high))


def median_cis(samples: Sequence[np.ndarray]) -> np.ndarray:
    """(median, CI low, CI high) for each sample, as an array of shape (len(samples), 3)."""
    out = np.full((len(samples), 3), np.nan)
    for (n,), indices in _by_size([(len(s),) for s in samples]).items():
        if n == 0:
            continue
        stacked = np.sort(np.stack([samples[i] for i in indices]), axis=-1)
        out[indices, 0] = np.median(stacked, axis=-1)
        ranks = _median_ranks(n)
        if ranks is not None:
            out[indices, 1] = stacked[:, ranks[0]]
            out[indices, 2] = stacked[:, ranks[1]]
    return out


def _median(values: np.ndarray) -> np.ndarray:
    """np.median over the last axis, by sorting: five times faster for a handful of values."""
    ordered = np.sort(values, axis=-1)
    half = ordered.shape[-1] // 2
    if ordered.shape[-1] % 2:
        result: np.ndarray = ordered[..., half]
    else:
        result = (ordered[..., half - 1] + ordered[..., half]) / 2
    return result


def _geomean_of_median_ratios(*samples: np.ndarray, axis: int = -1) -> np.ndarray:
    """Geometric mean over (numerator, denominator) pairs of median(num) / median(den)."""
    assert axis == -1, axis  # scipy's bootstrap always moves the sample axis last
    logs = [
        np.log(_median(num)) - np.log(_median(den))
        for num, den in zip(samples[0::2], samples[1::2], strict=True)
    ]
    result: np.ndarray = np.exp(np.mean(logs, axis=0))
    return result


def ratio_estimate(pairs: Sequence[tuple[np.ndarray, np.ndarray]], scale: float = 1.0) -> Estimate:
    """median(num) / median(den) x scale, or the geometric mean of several such ratios.

    Every sample is resampled independently in each bootstrap round, so the interval of a
    geometric mean carries the noise of every cell in it.
    """
    if not pairs or any(len(a) < 2 or len(b) < 2 for a, b in pairs):
        return NO_ESTIMATE
    data = tuple(sample for pair in pairs for sample in pair)
    value = float(_geomean_of_median_ratios(*data))
    result = stats.bootstrap(
        data, _geomean_of_median_ratios, n_resamples=N_RESAMPLES, batch=BATCH,
        vectorized=True, confidence_level=CONFIDENCE, method="percentile",
        rng=np.random.default_rng(SEED),
    )  # fmt: skip
    ci = result.confidence_interval
    return Estimate(value * scale, float(ci.low) * scale, float(ci.high) * scale)


def ratio_estimates(
    numerators: Sequence[np.ndarray], denominators: Sequence[np.ndarray]
) -> np.ndarray:
    """(ratio, CI low, CI high) of median(num[i]) / median(den[i]) for every i, shape (n, 3).

    Cells with the same numbers of values are bootstrapped together in one vectorised call;
    each gets exactly the interval ``ratio_estimate`` would give it alone.
    """
    out = np.full((len(numerators), 3), np.nan)
    sizes = [(len(a), len(b)) for a, b in zip(numerators, denominators, strict=True)]
    for (n_num, n_den), indices in _by_size(sizes).items():
        if n_num < 2 or n_den < 2:
            continue
        for start in range(0, len(indices), CHUNK):
            chunk = indices[start : start + CHUNK]
            num = np.stack([numerators[i] for i in chunk])
            den = np.stack([denominators[i] for i in chunk])
            result = stats.bootstrap(
                (num, den), _geomean_of_median_ratios, n_resamples=N_RESAMPLES,
                batch=BATCH, vectorized=True, axis=-1, confidence_level=CONFIDENCE,
                method="percentile", rng=np.random.default_rng(SEED),
            )  # fmt: skip
            out[chunk, 0] = _geomean_of_median_ratios(num, den)
            out[chunk, 1] = result.confidence_interval.low
            out[chunk, 2] = result.confidence_interval.high
    return out


def _by_size(sizes: Sequence[tuple[int, ...]]) -> dict[tuple[int, ...], list[int]]:
    groups: dict[tuple[int, ...], list[int]] = {}
    for index, size in enumerate(sizes):
        groups.setdefault(size, []).append(index)
    return groups
