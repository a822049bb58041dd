"""Every statement gilbench makes is a decision taken from the interval of the figure it
states. Pure.

A figure is a ratio: a speedup against 1 thread, a time against the default build's, a
throughput against a rival's. Its decision against the threshold ``1`` is one of:

- ``gains``: the whole interval lies on the better side of 1;
- ``loses``: the whole interval lies on the worse side;
- ``equivalent``: the whole interval lies within the practical margin of 1,
  ``[1 / (1 + margin), 1 + margin]`` (5% by default, ``--margin``): two one-sided tests,
  each at the interval's own level, so the equivalence is decided at least as strictly as
  a difference is;
- ``undecided``: none of these; the figure and its interval are still shown, with what
  would decide it (``passes_to_decide``).

A sequential run (the adaptive profile) looks at its figures after some of its passes,
the pilot's last first, and stops measuring what is decided. Each look k spends a share of
the 5% error rate, ``alpha / (k (k + 1))`` (the shares sum to alpha: Bonferroni's
inequality over looks, an alpha-spending rule in the sense of Lan and DeMets), and a
figure's interval is taken at the level of the look its last pass belongs to
(``Levels``). Whatever the looks saw and whenever the run stopped, the chance that a
figure is ever read as a difference it doesn't have is then at most alpha. Looks are taken
at passes 3, 4, 5, 7, 9, 12, ... (``LOOKS``, each about a third past the one before), not
every pass: fewer looks spend less of the rate each. docs/statistics.md sets the method out.

Equivalence takes precedence: an interval within the margin that leaves 1 out reads
``equivalent``, since what it decides in practice is that the difference doesn't matter
(a lead of 0.2% ± 0.1% is not a reason to choose a model). So "gains" and "loses" are said
only where the interval reaches past the margin, and a run's "gains" against another's
"equivalent" is a real disagreement, which agreement-bench counts. The width of a cell's raw
time interval plays no part: it is information in the results table, never a gate.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy import stats

from harness.compare.estimate import Estimate
from harness.compare.intervals import CONFIDENCE

MARGIN = 0.05  # --margin's default: within 5% of each other, two figures are equivalent
# Beyond this many passes in all, more passes are no practical way to decide a figure:
# the answer is "a quieter machine" (or the figures are equivalent within a narrower margin
# than asked for and differ by less than the machine can resolve).
MAX_PASSES = 200
Word = Literal["gains", "loses", "equivalent", "undecided"]
WORDS: tuple[Word, ...] = ("gains", "loses", "equivalent", "undecided")
UNDECIDED: Word = "undecided"
DECIDED: frozenset[str] = frozenset({"gains", "loses", "equivalent"})


FIRST_LOOK = 3  # the pilot's passes: a sequential run first looks at its figures after them
LOOK_GROWTH = 4 / 3  # each look about a third more passes than the one before


def looks() -> Iterator[int]:
    """The passes after which a sequential run looks: 3, 4, 5, 7, 9, 12, 16, 21, ..."""
    at = FIRST_LOOK
    while True:
        yield at
        at = max(at + 1, round(at * LOOK_GROWTH))


@functools.cache  # the samplers' projections ask it for every pass count, many times
def look_of(last_pass: int) -> int:
    """The look (1, 2, ...) a figure whose last pass is ``last_pass`` is read at: the first
    look at or after it (a run cut off between looks is read at the next one's level,
    the stricter)."""
    for index, at in enumerate(looks(), start=1):
        if at >= last_pass:
            return index
    raise AssertionError("unreachable")  # pragma: no cover


def first_look_at(passes: float) -> int:
    """The first look at or after ``passes`` passes: where a figure is read decided."""
    return next(at for at in looks() if at >= passes)


def is_look(number: int) -> bool:
    """Whether a sequential run looks at its figures after pass ``number``."""
    return number >= FIRST_LOOK and number == next(at for at in looks() if at >= number)


@dataclass(frozen=True)
class Levels:
    """The level of every interval a run states: 95% in a fixed profile; in a sequential
    one, the share of the error rate spent at the look the figure was last read at."""

    alpha: float = 1 - CONFIDENCE
    sequential: bool = False
    margin: float = MARGIN

    def spent(self, last_pass: int) -> float:
        """The error rate spent on a figure whose last pass is ``last_pass``."""
        if not self.sequential:
            return self.alpha
        k = look_of(last_pass)
        return self.alpha / (k * (k + 1))

    def confidence(self, last_pass: int, share: float = 1.0) -> float:
        """The level of such a figure's interval; ``share``: of the rate, for one of several
        simultaneous intervals (a pick among candidates, Bonferroni)."""
        return 1 - self.spent(last_pass) * share

    def needed(self, estimate: Estimate, now: float) -> int | None:
        """About how many passes in all would decide ``estimate``, whose interval is at
        level ``now`` over ``estimate.passes`` passes (``passes_to_decide``; None: more
        passes won't). In a sequential run each later pass count n is tried at the level
        an interval over n passes would be read at, since the later looks spend less of
        the error rate, and the count is rounded up to the look that would read it."""
        passes = estimate.passes
        if not self.sequential:
            return passes_to_decide(estimate, passes, self.margin, now).needed

        def later(n: int) -> float:  # n passes are read at the first look after them
            return 1 - (1 - now) * self.spent(n) / self.spent(passes)

        found = passes_to_decide(estimate, passes, self.margin, now, later).needed
        return found if found is None or found <= passes else first_look_at(found)


def decide(estimate: Estimate, margin: float = MARGIN, higher_is_better: bool = True) -> Word:
    """The decision its interval supports about a figure against 1 (see the module)."""
    value, low, high = estimate.value, estimate.low, estimate.high
    if not all(math.isfinite(x) and x > 0 for x in (value, low, high)):
        return "undecided"
    if low >= 1 / (1 + margin) and high <= 1 + margin:
        return "equivalent"
    if low > 1:
        return "gains" if higher_is_better else "loses"
    if high < 1:
        return "loses" if higher_is_better else "gains"
    return "undecided"


@dataclass(frozen=True)
class Progress:
    """How far an undecided figure is from a decision: about how many passes in all
    would decide it if the machine stays as noisy (None: more passes won't; a quieter
    machine might)."""

    passes: int  # the passes its interval rests on now
    needed: int | None


def passes_to_decide(estimate: Estimate, passes: int, margin: float = MARGIN,
                     confidence: float = 0.95,
                     later: Callable[[int], float] | None = None) -> Progress:  # fmt: skip
    """About how many passes in all would make ``estimate`` a decision.

    The interval's half-width on the log scale is t(n - 1) x s / sqrt(n); with the spread
    s as measured, the fewest n for which it falls below the distance the figure is from a
    decision: from 1 (to tell a difference) or from the margin's nearer end (to tell an
    equivalence), whichever is larger. The estimate is assumed to stay where it is: a
    projection, not a promise. ``later``: the level an interval over n passes would be
    read at, where that is not ``confidence`` (a sequential run's later looks spend less).
    """
    value, low, high = estimate.value, estimate.low, estimate.high
    if passes < 2 or not all(math.isfinite(x) and x > 0 for x in (value, low, high)):
        return Progress(passes, None)
    centre = math.log(value)
    half = max(centre - math.log(low), math.log(high) - centre)
    bound = math.log1p(margin)
    distance = max(abs(centre), bound - abs(centre))
    if half <= distance:
        return Progress(passes, passes)  # decided already (or on its edge)
    spread = half * math.sqrt(passes) / _t(passes, confidence)
    counts = np.arange(passes + 1, MAX_PASSES + 1)  # every n in one call: t.ppf is dear
    levels = np.array([later(int(n)) if later else confidence for n in counts])
    widths = stats.t.ppf(0.5 + levels / 2, np.maximum(1, counts - 1)) * spread / np.sqrt(counts)
    fits = np.flatnonzero(widths <= distance)
    return Progress(passes, int(counts[fits[0]]) if len(fits) else None)


def _t(n: int, confidence: float) -> float:
    return float(stats.t.ppf(0.5 + confidence / 2, max(1, n - 1)))
