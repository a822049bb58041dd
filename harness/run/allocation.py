"""How a cell's next processes are allocated: values per process, and processes to go.

Kalibera and Jones ("Rigorous Benchmarking in Reasonable Time", ISMM 2013): with S_w^2 the
variance of a cell's (log) values within a process, S_b^2 the variance of its process means
beyond what S_w^2 explains, c_p what a process costs besides its values and c_v what one
value costs, the variance of a figure from P processes of n values is (S_b^2 + S_w^2 / n)
/ P, and the cheapest design for a given precision takes n = sqrt(c_p S_w^2 / (c_v S_b^2))
values a process. Where processes differ little, values are cheap and a process takes many;
where they differ much, few: only more processes then narrow the interval. The variance
components are read from the sample behind the cell's least precise figure, its values
grouped by the process (pass, run) that took them.

An interval's half-width is t(P - 1) s / sqrt(P) over P processes (compare/intervals.py),
so the processes a figure still needs follow from today's half-width and P.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy import stats

from harness.compare.cells import per_value
from harness.compare.estimate import Cell
from harness.compare.precision import half_width
from harness.results import CELL, records

if TYPE_CHECKING:
    from harness.run.adaptive import Assessment

# The pilot: every cell's first passes, after which each cell's goal is fixed (``goals``).
# Two processes are the least that tell the spread between processes; with three, the
# pilot's t quantile is 4.3 instead of 12.7, so a goal rests on a spread read from three.
MIN_PASSES = 3
FIRST_VALUES = 3  # values a process in the first passes, as the fixed profiles take
MIN_VALUES = 2  # fewer, and a process says nothing of the spread within one
MAX_VALUES = 30  # pyperf's default is 3: 30 makes a process long enough when S_b ~ 0
# A cell's processes at most, when projecting: a figure this imprecise is out of reach.
MAX_PROCESSES = 1000
MAX_PROCESS_VALUES_S = 10.0  # a process's values last at most this: interleaving stays fine
MIN_VALUE_S = 0.1  # pyperf calibrates loops so that a value lasts at least --min-time


@dataclass
class CellState:
    """What the loop knows of one cell: its passes' times and the values it takes next."""

    values: int = FIRST_VALUES
    passes: list[tuple[int, float]] = field(default_factory=list)  # (values, elapsed s)
    value_s: float = MIN_VALUE_S  # what one value costs, pairing included

    def process_s(self) -> float:
        """What a process costs besides its values, from the passes after the first."""
        later = self.passes[1:] or self.passes
        return max(0.05, statistics.median(e - n * self.value_s for n, e in later))

    def cost(self) -> float:
        """What the cell's next process is expected to take."""
        return self.process_s() + self.values * self.value_s


def kalibera_jones_values(groups: list[np.ndarray], process_s: float, value_s: float) -> int:
    """Values per process that give the most precision per second, from a cell's values
    grouped by process (logs of them); clamped to MIN_VALUES..MAX_VALUES."""
    groups = [g for g in groups if len(g) >= 2]
    if len(groups) < 2:
        return FIRST_VALUES
    within = float(np.mean([np.var(g, ddof=1) for g in groups]))
    means = np.array([np.mean(g) for g in groups])
    per = float(np.mean([len(g) for g in groups]))
    between = float(np.var(means, ddof=1)) - within / per
    if between <= within * 1e-6:
        best = float(MAX_VALUES)
    else:
        best = math.sqrt(process_s * within / (value_s * between))
    return int(min(MAX_VALUES, max(MIN_VALUES, math.ceil(best))))


def column(table: Any, name: str) -> dict[Cell, float]:
    """One column of a results table, by cell."""
    rows = table[[*CELL, name]].itertuples(index=False, name=None)
    return {(str(i), str(w), str(m), int(n)): float(v) for i, w, m, n, v in rows}


def served(row: Mapping[str, Any]) -> str:
    """Which of a cell's samples its least precise figure rests on: its per-value speedups
    (``ratios``) when its speedup is paired and the wider of its two figures, else its round
    times (``seconds``), which serve its ratio to the reference and unpaired speedups."""
    if not bool(row["paired"]):
        return "seconds"
    speedup = half_width(row["speedup"], row["speedup_ci_low"], row["speedup_ci_high"])
    vs_ref = half_width(row["vs_ref"], row["vs_ref_ci_low"], row["vs_ref_ci_high"])
    return "seconds" if math.isfinite(vs_ref) and vs_ref > speedup else "ratios"


def replan(states: Mapping[Cell, CellState], found: Assessment) -> None:
    """Each cell's values per process and value cost, from what it has measured so far.

    The variance components are those of the sample behind the cell's least precise figure
    (``served``), from its values grouped by the process (pass, run) they came from.
    """
    medians = column(found.cells.table, "median_s")
    rows = {(str(r["impl"]), str(r["workload"]), str(r["model"]), int(r["workers"])): r
            for r in records(found.cells.table)}  # fmt: skip
    for key, group in per_value(found.run).groupby(CELL, sort=False):
        cell: Cell = (str(key[0]), str(key[1]), str(key[2]), int(str(key[3])))
        state = states.get(cell)
        if state is None or not state.passes or not math.isfinite(medians.get(cell, math.nan)):
            continue
        paired = bool(group["paired"].any())
        state.value_s = max(MIN_VALUE_S, medians[cell]) * (2 if paired else 1)
        kind = served(rows[cell]) if paired and cell in rows else "seconds"
        chosen = group[group["paired"]] if kind == "ratios" else group
        figure = chosen["sample"] if kind == "ratios" else chosen["seconds"]
        logs = [np.log(figure[g.index].to_numpy(dtype=float))
                for _, g in chosen.groupby(["pass", "process"])]  # fmt: skip
        values = kalibera_jones_values(logs, state.process_s(), state.value_s)
        state.values = max(MIN_VALUES, min(values, int(MAX_PROCESS_VALUES_S / state.value_s)))


def processes_to_target(far: float, processes: int) -> int:
    """Processes a figure needs in all to reach the target, from ``processes`` that give
    ``far`` times the target's half-width: the half-width is t(P - 1) s / sqrt(P), so s is
    read off today's and P raised until the half-width fits (capped at MAX_PROCESSES)."""
    if processes < 2 or not math.isfinite(far):
        return processes + MIN_PASSES
    spread = far * math.sqrt(processes) / _t(processes)

    def fits(total: int) -> bool:
        return _t(total) * spread / math.sqrt(total) <= 1

    if not fits(MAX_PROCESSES):
        return MAX_PROCESSES
    low, high = processes, MAX_PROCESSES  # t(P - 1) / sqrt(P) falls as P grows: bisect
    while low < high:
        middle = (low + high) // 2
        low, high = (low, middle) if fits(middle) else (middle + 1, high)
    return low


def _t(processes: int) -> float:
    """The 95% two-sided t quantile with processes - 1 degrees of freedom."""
    return float(stats.t.ppf(0.975, processes - 1))


def goals(need: Mapping[Cell, float], counts: Mapping[Cell, int]) -> dict[Cell, int]:
    """Each measured cell's processes in all, fixed once after the pilot passes (a
    two-stage design, as Stein's): one more than it has where its figures already meet the
    target, else what its pilot half-width says the target needs.

    Deciding once, instead of stopping a cell the first pass its interval happens to look
    narrow (optional stopping, under which an interval holds its truth less often than its
    level says), keeps the intervals honest, and so does the one more process: no figure is
    stated on the very processes whose spread decided that it could stop. coverage-bench
    has no design with a precision target, so how often these intervals hold is not
    measured here (docs/statistics.md).
    """
    return {c: max(n + 1, processes_to_target(need[c], n) if c in need else 0)
            for c, n in counts.items() if n >= 1}  # fmt: skip


def projection(states: Mapping[Cell, CellState], owed: Mapping[Cell, int],
               left_s: float) -> tuple[float, list[Cell]]:  # fmt: skip
    """Seconds to give every cell the processes it is ``owed``, and those the budget leaves
    out.

    The cells go in the loop's order, the cheapest to finish first: within a budget, that
    brings the most cells to their goal. Those whose turn comes after the budget is spent
    are left out.
    """
    total, left_out = 0.0, []
    cost = {c: owed[c] * states[c].cost() for c in owed}
    for cell in sorted(owed, key=lambda c: cost[c]):
        total += cost[cell]
        if total > left_s:
            left_out.append(cell)
    return total, left_out
