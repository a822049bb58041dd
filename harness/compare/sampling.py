"""Which cells a sequential run measures next: those its undecided figures rest on. Pure.

The adaptive profile (run/adaptive.py) measures until every figure the findings state is
decided (decisions.py) or its budget is spent. At each look (``decisions.is_look``) it
reads the run back as the report will (``cells.summarize``, ``verdicts.compare_run``), and
``choose`` picks the cells the passes up to the next look hold:

- Only cells that an undecided figure rests on, and only among the cells still measured:
  a cell left out at a look is never measured again. Every figure then rests on the passes
  from the first to the look at which one of its cells was left out, so its interval is
  the one the rule saw at that look, at the level that look spent (``decisions.Levels``;
  docs/statistics.md says why that holds whatever the rule chose).
- An undecided figure's cost to decide is the passes it still needs, to the look that
  would read it decided (``still_needed``: its spread as measured, the stricter levels of
  the later looks), times what a pass of its cells costs. The figures go cheapest first,
  each taken if the budget left still covers every taken figure's passes (a cell shared
  by several counts the most passes any of them needs, once): within a budget, that
  decides the most figures (``reachable``).
- The others come last: a figure the budget left can't bring to a decision, then those
  more passes won't decide (a quieter machine might). Each stays measured while what the
  budget leaves beyond the reachable figures' passes pays for its cells up to the next
  look; once it doesn't, it is left out for good. A projection read from a few passes
  is rough, and budget that would otherwise lie idle is spent on the nearest of them.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from harness.compare.decisions import DECIDED, Levels, first_look_at, looks
from harness.compare.estimate import Cell, Estimate
from harness.results import records


@dataclass(frozen=True)
class Undecided:
    """An undecided figure, as the choice sees it."""

    name: str  # its topic and subject, e.g. "overhead nbody"
    cells: tuple[Cell, ...]  # the cells it rests on
    passes: int  # the passes it rests on now
    needed: float  # passes in all that would decide it, at a look; NaN: more passes won't
    per_pass: float  # seconds a pass of its cells costs

    @property
    def cost(self) -> float:
        """Seconds to decide it; inf where more passes won't."""
        if not math.isfinite(self.needed):
            return math.inf
        return (self.needed - self.passes) * self.per_pass


@dataclass(frozen=True)
class Choice:
    """The cells the passes up to the next look hold, and why."""

    cells: tuple[Cell, ...]  # in the order a pass runs them: the cheapest to decide first
    decided: int  # figures decided now
    reachable: tuple[Undecided, ...]  # undecided figures the budget left can decide
    kept: tuple[Undecided, ...]  # other undecided figures, measured with budget to spare
    dropped: tuple[Undecided, ...]  # undecided figures no longer measured
    seconds: float  # what deciding the reachable figures is expected to take

    @property
    def undecided(self) -> int:
        return len(self.reachable) + len(self.kept) + len(self.dropped)

    @property
    def out_of_reach(self) -> tuple[Undecided, ...]:
        """Undecided figures the budget left can't bring to a decision, or more passes
        won't decide."""
        return self.kept + self.dropped


def next_look(after: int) -> int:
    """The first look after pass ``after``."""
    return next(at for at in looks() if at > after)


def still_needed(row: Mapping[str, Any], levels: Levels) -> float:
    """About how many passes in all would decide the figure of a ``Comparison.decisions``
    row, read at a look: NaN where more passes won't (a quieter machine might).

    Its spread is read off its interval, and each later pass count n is tried at the level
    an interval over n passes would be read at: in a sequential run the later looks spend
    less of the error rate, so their intervals are wider than today's.
    """
    passes = int(row["passes"])
    ratio, low, high = (float(row[k]) for k in ("ratio", "ci_low", "ci_high"))
    candidates = max(1, int(row["candidates"]))
    # the row's confidence is that of its candidates' intervals held together: one of them
    # is at 1 - (1 - confidence) / candidates
    now = 1 - (1 - float(row["confidence"])) / candidates
    if not math.isfinite(now):
        return math.nan

    found = levels.needed(Estimate(ratio, low, high, passes=passes, confidence=now), now)
    if found is None:
        return math.nan
    needed = max(found, passes + 1)
    return float(first_look_at(needed) if levels.sequential else needed)


def undecided(rows: pd.DataFrame, cost: Mapping[Cell, float], levels: Levels) -> list[Undecided]:
    """The undecided figures among ``Comparison.decisions`` rows, each with its cost."""
    found = []
    for row in records(rows[~rows["decision"].isin(DECIDED)]):
        cells = tuple(row["cells"])
        per_pass = sum(cost.get(c, math.inf) for c in cells)
        found.append(Undecided(f"{row['topic']} {row['subject']}", cells, int(row["passes"]),
                               still_needed(row, levels), per_pass))  # fmt: skip
    return found


def choose(rows: pd.DataFrame, cost: Mapping[Cell, float], left_s: float,
           measuring: Collection[Cell], after: int, levels: Levels) -> Choice:  # fmt: skip
    """The cells the passes after pass ``after`` (a look) hold, until the next look.

    ``rows``: ``Comparison.decisions()`` of the run as measured so far; ``cost``: what the
    next process of each cell is expected to take, in seconds; ``left_s``: what is left of
    the budget; ``measuring``: the cells the last pass held (no other cell is taken up).
    """
    figures = undecided(rows, cost, levels)
    # a figure resting on no measured cell (an instruction count) is not decided by passes
    live = [f for f in figures if f.cells and all(c in measuring and c in cost for c in f.cells)]
    dropped = [f for f in figures if f not in live]
    owed: dict[Cell, float] = {}
    reachable: list[Undecided] = []
    for figure in sorted((f for f in live if math.isfinite(f.cost)), key=_order):
        trial = dict(owed)
        for cell in figure.cells:
            trial[cell] = max(trial.get(cell, 0.0), figure.needed - figure.passes)
        if _seconds(trial, cost) <= left_s:
            owed = trial
            reachable.append(figure)
    seconds = _seconds(owed, cost)
    room = left_s - seconds
    step = next_look(after) - after  # the set is kept until the next look
    chosen = set(owed)
    kept: list[Undecided] = []
    for figure in sorted((f for f in live if f not in reachable), key=_order):
        extra = step * sum(cost[c] for c in set(figure.cells) - chosen)
        if extra <= room:
            room -= extra
            chosen.update(figure.cells)
            kept.append(figure)
        else:
            dropped.append(figure)
    rank: dict[Cell, int] = {}
    for index, figure in enumerate([*reachable, *kept]):
        for cell in figure.cells:
            rank.setdefault(cell, index)
    order = sorted(chosen, key=lambda c: (rank[c], cost[c], c))
    return Choice(tuple(order), len(rows) - len(figures), tuple(reachable), tuple(kept),
                  tuple(dropped), seconds)  # fmt: skip


def _order(figure: Undecided) -> tuple[float, float, str]:
    """Cheapest to decide first; among those more passes won't decide, the cheapest pass."""
    return (figure.cost, figure.per_pass, figure.name)


def _seconds(owed: Mapping[Cell, float], cost: Mapping[Cell, float]) -> float:
    return sum(cost[c] * n for c, n in owed.items())


def format_figures(figures: Sequence[Undecided], most: int = 3) -> str:
    """``figures`` by name, the first ``most`` of them."""
    names = ", ".join(f.name for f in figures[:most])
    more = f" and {len(figures) - most} more" if len(figures) > most else ""
    return f"{names}{more}"
