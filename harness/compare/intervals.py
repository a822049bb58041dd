"""95% confidence intervals for medians and for products of medians. Pure; scipy does the maths.

Medians get the distribution-free order-statistic interval of ``scipy.stats.quantile_test``:
timings are skewed (a slow outlier, never a fast one), so no normal approximation, and no
random numbers. A product of medians raised to powers (a ratio of two cells, a geometric
mean over workloads) gets a percentile bootstrap (``scipy.stats.bootstrap``) with a fixed
seed, so that a report rebuilt from the same files prints the same figures.

Values are resampled as if independent, as pyperf itself treats them; the spread between
pyperf's worker processes shows up as a wide interval, which the report then flags.
"""

from __future__ import annotations

import functools
from collections.abc import Hashable, Sequence
from typing import Any, TypeVar

import numpy as np
from scipy import stats

CONFIDENCE = 0.95
K = TypeVar("K", bound=Hashable)
# Any fixed seed will do: the same result files must give the same report, byte for byte.
SEED = 20260101
# Enough resamples that the ends of a 95% interval move by well under 1% between seeds.
N_RESAMPLES = 4999
# Resamples evaluated per product at once; bounds memory to products x BATCH x values floats.
BATCH = 1000
# Products bootstrapped in one vectorised call; bounds memory on runs with thousands of cells.
CHUNK = 256


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
    for n, indices in _by_key([len(s) for s in samples]).items():
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


def _product_of_medians(*samples: np.ndarray, powers: tuple[float, ...], axis: int = -1) -> Any:
    """The product of each sample's median raised to its power."""
    assert axis == -1, axis  # scipy's bootstrap always moves the sample axis last
    logs = [power * np.log(_median(s)) for s, power in zip(samples, powers, strict=True)]
    return np.exp(np.sum(logs, axis=0))


def product_cis(items: Sequence[Sequence[np.ndarray]], powers: tuple[float, ...]) -> np.ndarray:
    """(CI low, CI high) of prod(median(s_j) ** powers[j]) for each item, shape (len(items), 2).

    Every item has one sample per power; each sample is resampled independently in each
    round. Items whose samples have the same sizes are bootstrapped together in one
    vectorised call, and each gets exactly the interval it would get alone: scipy draws
    the same resampling indices whatever the number of items stacked.
    """
    out = np.full((len(items), 2), np.nan)
    statistic = functools.partial(_product_of_medians, powers=powers)
    for sizes, indices in _by_key([tuple(len(s) for s in item) for item in items]).items():
        if min(sizes, default=0) < 2:
            continue
        for start in range(0, len(indices), CHUNK):
            chunk = indices[start : start + CHUNK]
            data = tuple(np.stack([items[i][j] for i in chunk]) for j in range(len(powers)))
            result = stats.bootstrap(
                data, statistic, n_resamples=N_RESAMPLES, batch=BATCH, vectorized=True,
                axis=-1, confidence_level=CONFIDENCE, method="percentile",
                rng=np.random.default_rng(SEED),
            )  # fmt: skip
            out[chunk, 0] = result.confidence_interval.low
            out[chunk, 1] = result.confidence_interval.high
    return out


def _by_key(keys: Sequence[K]) -> dict[K, list[int]]:
    groups: dict[K, list[int]] = {}
    for index, key in enumerate(keys):
        groups.setdefault(key, []).append(index)
    return groups
