"""Change points in a history's series: binary segmentation whose every split is a
permutation test, so that the false discovery rate it states is one it controls.

Per series (metric, implementation, workload, model, workers, on one machine class: the
runs that class measured, whichever nights those were) and per segment (for a mean, a
stretch of runs over one set of workloads; nothing is ever compared across two), on the
log of the figures:

- A split of a stretch of runs is a **candidate** when it passes two gates (``Rules``):
  it persists, each of the first ``persist`` (2) runs after it on its own at least
  ``min_change`` (5%) away from the level before, the same way as the change; and the
  intervals the last run before it and the first run after it stated (95%, or in an
  adaptive run a look's level) don't overlap, so the level moved between two neighbouring
  runs, by their own measure, not by slow drift.
- The **statistic** of a stretch is its strongest candidate's cost reduction, binary
  segmentation's (ruptures' Binseg, L2 cost): n_before x n_after / (n_before + n_after) x
  (mean after - mean before)^2, the runs after being all those to the stretch's end, the
  runs before the last 4, 8, 16, ... (2 x ``persist``, then twice as many each time) or all
  of them, whichever is strongest: a regression fixed later shows as its fix against the
  regressed runs alone, and a blip of ``persist`` runs is never read as a level. 0 when no
  split is a candidate.
- Its **p-value** is a Monte Carlo permutation test of that whole search: the runs (each
  figure with its interval) are shuffled, the best candidate is sought again, and p is the
  share of shuffles whose statistic is at least the observed one, (1 + hits) / (1 +
  drawn), as E-divisive's test (Matteson and James 2014; Hunter, Apache Otava). Shuffles
  stop early once ``EXCEEDANCES`` of them reach the statistic, p = hits / drawn (Besag and
  Clifford 1991): a stretch with no change costs a few dozen shuffles, not thousands. The
  shuffles are drawn from a generator seeded by the series' name and the stretch, never by
  the figures, so a history always gives the same p-values and the site rebuilds byte for
  byte.
- Each series segment is one hypothesis, "no change anywhere in it", tested on the whole
  segment. Benjamini-Hochberg over every segment of ``2 x persist`` runs or more (those
  with no candidate count, with p = 1) keeps the expected share of segments reported to
  have changed that didn't at most ``alpha``.
- Within a segment that passes, each side of the split is tested in the same way, and
  split again while its p-value is at most alpha x R / m (R segments passed of m):
  E-divisive's recursion, at the level Benjamini and Bogomolov (2014) give the families
  BH selected. A change found so has q = max(its segment's q, p x m / R).
- A change is then measured between its neighbouring changes, and reported only if its
  size, the geometric mean after over the geometric mean before, is at least
  ``min_change`` away from 1, and it still persists there. These last checks only drop
  reports; the rate below is that of the segments BH passed, before them.

A change that passes all of this is a decision (decision.py): a regression or an
improvement, by which way its metric is better (series.HIGHER_IS_BETTER). Any other move
is undecided: nothing here reports it, and nothing downstream words it as a change.

What the rate rests on. The permutation test is exact when a segment's runs are
exchangeable, every order equally likely, which is what "no change" is taken to mean.
Nightly series can drift (a machine warming, a noisy neighbour for a week): runs close in
time are then more alike than far ones, the permutation null is wrong, and a drift can be
rejected as a change. The interval gate, a step between two neighbouring runs, is the
guard against that, not a proof. BH controls the rate when the segments' p-values are
independent or positively dependent (PRDS, Benjamini and Yekutieli 2001); series measured
on the same nights share the machine's noise, so that too is an assumption. Changes past
a segment's first are found conditionally on the splits above them, as in E-divisive, so
their level is approximate. And the rate holds each night on its own: a history read
every night is tested again every night.

A change's size interval (Student's t, pooled variance, on the logs) is computed as if
its place had been fixed in advance; it isn't corrected for the search, so it is narrower
than it should be, most for changes just past the gates.

Exchangeability also bounds what a few runs can show: with k runs after a change among
n, the shuffles that put those k runs at either end of the stretch reach its statistic,
so p is about 2 / C(n, k) at least: 0.9% for 2 runs of 22, 0.1% for 3 of 23. Where 10
series of 100 change at once BH passes p <= 0.5%, so a change is found on its third run,
not its second (detection.py measures it).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from harness.history.decision import DEFAULT_RULES, Change, Rules, kind_of
from harness.history.series import HIGHER_IS_BETTER, KEY, SERIES, segments

# Shuffles stop once this many reach the observed statistic: Besag and Clifford's h, for
# which p = h / drawn is within about a third of the exact p where p is large.
EXCEEDANCES = 10
# The fewest shuffles drawn for a significant stretch: p can then go down to 1 / 1000.
PERMUTATIONS = 999
# More shuffles where the family is large: the smallest p-value, 1 / (drawn + 1), stays a
# RESOLUTION-th of BH's first threshold alpha / m, so a lone change can pass among m
# series even when one shuffle reaches it (each shuffle costs: 4 is twice as slow).
RESOLUTION = 2
FIRST_BATCH = 128  # shuffles in the first batch; each batch after doubles
BATCH_ELEMENTS = 1 << 20  # a batch's shuffles x runs, to bound its memory (8 MB a table)
TIE = 1e-9  # relative: a shuffle whose statistic differs only by rounding reaches it


@dataclass(frozen=True)
class _Segment:
    """One series segment's runs: the logs of the figures, and the intervals (NaN where
    unknown, which no interval is apart from)."""

    rows: pd.DataFrame
    y: np.ndarray
    low: np.ndarray
    high: np.ndarray
    name: str  # the series, its machine and its first run: what seeds its shuffles

    @classmethod
    def of(cls, rows: pd.DataFrame) -> _Segment:
        values = rows["value"].to_numpy(dtype=float)
        low, high = rows["ci_low"].to_numpy(dtype=float), rows["ci_high"].to_numpy(dtype=float)
        known = np.isfinite(low) & np.isfinite(high)
        first = rows.iloc[0]
        name = "|".join(str(first[c]) for c in [*KEY, "fingerprint", "run"])
        with np.errstate(divide="ignore", invalid="ignore"):  # a figure <= 0: not tested
            y = np.log(values)
        return cls(rows, y, np.where(known, low, np.nan), np.where(known, high, np.nan), name)


@dataclass(frozen=True)
class _Split:
    at: int  # the first run after the split, in the segment
    p: float


def find_changes(points: pd.DataFrame, rules: Rules = DEFAULT_RULES) -> list[Change]:
    """Every change point that holds up, newest first."""
    if points.empty:
        return []
    ordered = segments(points)
    family = [
        _Segment.of(rows)
        for _, rows in ordered.groupby([*SERIES, "segment"], sort=False)
        if len(rows) >= _shortest(rules)
    ]
    if not family:
        return []
    permutations = _shuffles(len(family), rules.alpha)
    first = [_test(segment, 0, len(segment.y), rules, permutations) for segment in family]
    q_values = stats.false_discovery_control(np.array([s.p for s in first]), method="bh")
    passed = int((q_values <= rules.alpha).sum())
    level = rules.alpha * passed / len(family)  # Benjamini and Bogomolov's, within
    changes = []
    for segment, split, q in zip(family, first, q_values, strict=True):
        if q > rules.alpha:
            continue
        found = {split.at: (split.p, float(q))}
        for child in _recurse(segment, split.at, level, rules, permutations):
            found[child.at] = (child.p, max(float(q), min(1.0, child.p * len(family) / passed)))
        bounds = [0, *sorted(found), len(segment.y)]
        for low, at, high in zip(bounds, bounds[1:], bounds[2:], strict=False):
            change = _judge(segment, low, at, high, *found[at], rules)
            if change is not None:
                changes.append(change)
    return sorted(changes, key=lambda c: (c.after_run, c.series), reverse=True)


def _shuffles(family: int, alpha: float) -> int:
    """The most shuffles a stretch's test draws, for a family of ``family`` segments: 999,
    or more where 1 / 1000 would not reach BH's first threshold with room to spare."""
    needed = math.ceil(RESOLUTION * family / alpha / 1000) * 1000
    return max(PERMUTATIONS + 1, needed) - 1


def _shortest(rules: Rules) -> int:
    """The fewest runs a stretch can be split in: ``persist`` either side."""
    return 2 * rules.persist


def _recurse(
    segment: _Segment, at: int, level: float, rules: Rules, permutations: int
) -> list[_Split]:
    """The splits found within each side of the split at ``at``, and within theirs."""
    found, stack = [], [(0, at), (at, len(segment.y))]
    while stack:
        low, high = stack.pop()
        if high - low < _shortest(rules):
            continue
        split = _test(segment, low, high, rules, permutations)
        if split.p <= level:
            found.append(split)
            stack += [(low, split.at), (split.at, high)]
    return found


def _test(segment: _Segment, low: int, high: int, rules: Rules, permutations: int) -> _Split:
    """The strongest candidate of runs ``[low, high)``, and its permutation p-value."""
    y, lo, hi = segment.y[low:high], segment.low[low:high], segment.high[low:high]
    if not np.all(np.isfinite(y)):
        return _Split(low, 1.0)
    strength = _strengths(y[None, :], lo[None, :], hi[None, :], rules)[0]
    best = int(np.argmax(strength))
    observed = float(strength[best])
    at = low + rules.persist + best
    if observed <= 0:
        return _Split(at, 1.0)  # no candidate: every shuffle is as strong
    seed = hashlib.sha256(f"{segment.name}|{low}|{high}".encode()).digest()
    rng = np.random.default_rng(int.from_bytes(seed[:16], "little"))
    n, drawn, hits, batch = len(y), 0, 0, FIRST_BATCH
    while drawn < permutations:
        size = min(batch, permutations - drawn, max(1, BATCH_ELEMENTS // n))
        order = rng.permuted(np.broadcast_to(np.arange(n), (size, n)), axis=1)
        reached = _strengths(y[order], lo[order], hi[order], rules).max(axis=1) >= observed * (
            1 - TIE
        )
        if hits + int(reached.sum()) >= EXCEEDANCES:  # Besag and Clifford's early stop
            last = int(np.flatnonzero(reached)[EXCEEDANCES - hits - 1])
            return _Split(at, EXCEEDANCES / (drawn + last + 1))
        hits, drawn, batch = hits + int(reached.sum()), drawn + size, batch * 2
    return _Split(at, (hits + 1) / (permutations + 1))


def _strengths(y: np.ndarray, low: np.ndarray, high: np.ndarray, rules: Rules) -> np.ndarray:
    """Per row of runs (logs of the figures, and their intervals) and per split with
    ``persist`` runs or more each side: the strength of the split's best candidate, else
    0. Column j is the split before run ``persist + j``.

    The runs after a split are all those to the end of the row; the runs before it, as
    many just before it as one of ``_reaches`` says, or all of them. A candidate's strength
    is binary segmentation's cost reduction over those runs, n_before x n_after /
    (n_before + n_after) x (mean after - mean before)^2."""
    n, size = y.shape[1], rules.persist
    at = np.arange(size, n - size + 1)  # runs before each split
    sums = np.concatenate([np.zeros((len(y), 1)), np.cumsum(y, axis=1)], axis=1)
    after_n = n - at
    after = (sums[:, -1:] - sums[:, at]) / after_n
    # each of the first runs after, on its own: the lowest of them risen enough, or the
    # highest fallen enough
    firsts = np.stack([y[:, at + offset] for offset in range(size)])
    rise = firsts.min(axis=0) - math.log1p(rules.min_change)
    fall = firsts.max(axis=0) - math.log1p(-rules.min_change)
    apart = (high[:, at - 1] < low[:, at]) | (high[:, at] < low[:, at - 1])
    best = np.zeros((len(y), len(at)))
    for reach in _reaches(n, size):
        # only the splits with more than ``reach`` runs before: the others read them all,
        # as they do when reach is n
        cut = slice(max(0, reach - at[0] + 1) if reach < n else 0, None)
        before_n = np.minimum(at[cut], reach)
        before = (sums[:, at[cut]] - sums[:, at[cut] - before_n]) / before_n
        shift = after[:, cut] - before
        held = np.where(shift > 0, rise[:, cut] >= before, fall[:, cut] <= before)
        strength = before_n * after_n[cut] / (before_n + after_n[cut]) * shift**2
        np.maximum(best[:, cut], np.where(held, strength, 0.0), out=best[:, cut])
    return np.where(apart, best, 0.0)


def _reaches(n: int, size: int) -> list[int]:
    """How many runs just before a split its level is read from: 2 x ``size`` (so that a
    blip of ``size`` runs is never read as a level), twice as many each time after, and
    n, which stands for all of them."""
    found, reach = [], 2 * size
    while reach < n:
        found.append(reach)
        reach *= 2
    return [*found, n]


def _pooled(before: np.ndarray, after: np.ndarray) -> tuple[float, float, int]:
    """Student's two-sample terms on the logs: the shift in mean, its standard error with
    pooled variance, and the degrees of freedom."""
    na, nb = len(after), len(before)
    dof = na + nb - 2
    pooled = ((na - 1) * after.var(ddof=1) + (nb - 1) * before.var(ddof=1)) / dof
    return float(after.mean() - before.mean()), math.sqrt(pooled * (1 / na + 1 / nb)), dof


def _judge(
    segment: _Segment, low: int, at: int, high: int, p: float, q: float, rules: Rules
) -> Change | None:
    """The change at run ``at``, measured against its neighbours ``low`` and ``high``, if it
    passes the gates there too; else None."""
    before, after = segment.y[low:at], segment.y[at:high]
    shift = float(after.mean() - before.mean())
    first = segment.y[at : at + rules.persist] - before.mean()
    rise, fall = math.log1p(rules.min_change), math.log1p(-rules.min_change)
    held = (first >= rise).all() if shift > 0 else (first <= fall).all()
    sized = shift >= rise or shift <= fall
    lo, hi = segment.low, segment.high
    if not (sized and held and (hi[at - 1] < lo[at] or hi[at] < lo[at - 1])):
        return None
    ci_low, ci_high = _ratio_interval(before, after)
    row = segment.rows.iloc[at]
    better = HIGHER_IS_BETTER.get(str(row["metric"]), True)
    runs = segment.rows["run"].tolist()
    return Change(
        metric=str(row["metric"]),
        impl=str(row["impl"]),
        workload=str(row["workload"]),
        model=str(row["model"]),
        workers=int(row["workers"]),
        machine_class=str(row["machine_class"]),
        fingerprint=str(row["fingerprint"]),
        before_run=str(runs[at - 1]),
        after_run=str(runs[at]),
        runs_before=len(before),
        runs_after=len(after),
        before=math.exp(before.mean()),
        after=math.exp(after.mean()),
        ratio=math.exp(shift),
        ci_low=ci_low,
        ci_high=ci_high,
        p_value=p,
        q_value=q,
        kind=kind_of(shift > 0, better),
    )


def _ratio_interval(before: np.ndarray, after: np.ndarray) -> tuple[float, float]:
    """95% interval of after/before: Student's t with pooled variance, on the logs."""
    shift, error, dof = _pooled(before, after)
    half = float(stats.t.ppf(0.975, dof)) * error
    return math.exp(shift - half), math.exp(shift + half)


def new_changes(found: Sequence[Change], earlier: Sequence[Change]) -> list[Change]:
    """The changes ``found`` with the newest run that weren't found without it."""
    seen = {(c.series, c.machine_class, c.after_run) for c in earlier}
    return [c for c in found if (c.series, c.machine_class, c.after_run) not in seen]
