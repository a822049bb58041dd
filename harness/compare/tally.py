"""How many of a design's intervals held their truth (coverage.py, coveragebench.py): the
tallies, the checks of one simulated run's figures, and a sequential run's every look."""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np

from harness.compare.intervals import CONFIDENCE

Figure = tuple[str, str]  # (kind, which): e.g. ("speedup", "3.14t nbody/threads/2")


@dataclass
class Tally:
    """Intervals checked and how many held the truth, per kind of figure."""

    held: dict[str, int] = field(default_factory=dict)
    checked: dict[str, int] = field(default_factory=dict)
    decided: dict[str, int] = field(default_factory=dict)  # intervals leaving 1 out

    stated: dict[str, float] = field(default_factory=dict)  # the levels checked, summed

    # each simulated run's (held, checked) by kind: its intervals are correlated (they
    # share its passes), so the coverage's uncertainty is taken over runs (``margin``)
    by_run: dict[str, list[tuple[int, int]]] = field(default_factory=dict)

    def add(self, found: dict[Figure, tuple[float, float, float, float]],
            truth: dict[Figure, float], only: str | None = None) -> None:  # fmt: skip
        """Check one simulated run's intervals against their truths."""
        self.add_held(
            {
                figure: (low <= truth[figure] <= high, level, low > 1 or high < 1)
                for figure, (_, low, high, level) in checkable(found, truth, only)
            }
        )

    def add_held(self, found: dict[Figure, tuple[bool, float, bool]]) -> None:
        """One simulated run's figures: (held its truth, the level stated, left 1 out)."""
        run: dict[str, list[int]] = {}
        for (kind, _), (ok, level, decided) in found.items():
            self.checked[kind] = self.checked.get(kind, 0) + 1
            self.stated[kind] = self.stated.get(kind, 0.0) + level
            self.held[kind] = self.held.get(kind, 0) + int(ok)
            self.decided[kind] = self.decided.get(kind, 0) + int(decided)
            counts = run.setdefault(kind, [0, 0])
            counts[0] += int(ok)
            counts[1] += 1
        for kind, (held, checked) in run.items():
            self.by_run.setdefault(kind, []).append((held, checked))

    def margin(self, kind: str) -> float:
        """Half the width of a 95% interval for ``coverage(kind)``: the ratio estimator's
        standard error over simulated runs (the cluster), which holds however the
        intervals within a run are correlated."""
        found = np.array(self.by_run.get(kind, []), dtype=float).reshape(-1, 2)
        runs = len(found)
        if runs < 2:
            return math.nan
        share = found[:, 0].sum() / found[:, 1].sum()
        residuals = found[:, 0] - share * found[:, 1]
        spread = math.sqrt(float(np.sum(residuals**2)) / (runs * (runs - 1)))
        return 1.96 * spread / float(found[:, 1].mean())

    def merge(self, other: Tally) -> None:
        """Add ``other``'s counts (the same design on another pool, or another worker)."""
        counted = ("held", "checked", "decided", "nulls", "false", "equivalent")
        for mine, theirs in ((getattr(self, n), getattr(other, n)) for n in counted):
            for kind, count in theirs.items():
                mine[kind] = mine.get(kind, 0) + count
        for kind, level in other.stated.items():
            self.stated[kind] = self.stated.get(kind, 0.0) + level
        for kind, runs in other.by_run.items():
            self.by_run.setdefault(kind, []).extend(runs)
        self.runs += other.runs
        self.runs_false += other.runs_false

    runs: int = 0
    # the A/A designs' figures whose truth is 1 (null_decisions), by kind; of them, those
    # read as a difference (gains or loses: each a false decision) and as equivalent
    nulls: dict[str, int] = field(default_factory=dict)
    false: dict[str, int] = field(default_factory=dict)
    equivalent: dict[str, int] = field(default_factory=dict)
    runs_false: int = 0  # simulated runs with at least one false decision

    def coverage(self, kind: str) -> float:
        return self.held.get(kind, 0) / self.checked[kind] if self.checked.get(kind) else math.nan

    def level(self, kind: str) -> float:
        """The mean level the intervals checked were stated at: 95% in a fixed design, more
        in a sequential one, whose looks each spend a share of the error rate."""
        return (
            self.stated.get(kind, 0.0) / self.checked[kind] if self.checked.get(kind) else math.nan
        )

    def add_nulls(self, found: Sequence[tuple[str, str]]) -> None:
        for kind, word in found:
            self.nulls[kind] = self.nulls.get(kind, 0) + 1
            self.false[kind] = self.false.get(kind, 0) + int(word in DIFFERENCE)
            self.equivalent[kind] = self.equivalent.get(kind, 0) + int(word == "equivalent")
        self.runs_false += any(word in DIFFERENCE for _, word in found)

    def false_rate(self) -> float:
        """The share of figures whose truth is 1 that were read as gains or loses."""
        total = sum(self.nulls.values())
        return sum(self.false.values()) / total if total else math.nan


DIFFERENCE: frozenset[str] = frozenset({"gains", "loses"})


Stated = dict[Figure, tuple[float, float, float, float]]  # figure: (value, low, high, level)


def checkable(
    found: Stated, truth: dict[Figure, float], only: str | None = None
) -> Iterator[tuple[Figure, tuple[float, float, float, float]]]:
    """The figures of ``found`` with a truth and an interval (``only``: whose name holds it)."""
    for figure, stated in found.items():
        if figure not in truth or (only is not None and only not in figure[1]):
            continue
        if not (math.isnan(stated[1]) or math.isnan(stated[2])):
            yield figure, stated


def every_look(
    looks: Sequence[Stated], truth: dict[Figure, float], only: str | None = None
) -> dict[Figure, tuple[bool, float, bool]]:
    """A sequential run's figures, each checked at every look that stated it: held if
    every interval stated for it held its truth, the event whose chance the alpha-spending
    rule bounds by 1 - CONFIDENCE (decisions.py), so its nominal level is CONFIDENCE, 95%;
    left 1 out if any did."""
    found: dict[Figure, tuple[bool, float, bool]] = {}
    for look in looks:
        for figure, (_, low, high, _) in checkable(look, truth, only):
            held, _, decided = found.get(figure, (True, CONFIDENCE, False))
            found[figure] = (held and low <= truth[figure] <= high, CONFIDENCE,
                             decided or low > 1 or high < 1)  # fmt: skip
    return found
