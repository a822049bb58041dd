"""Two runs compared cell by cell, as ``pyperf compare_to`` compares two files. Pure.

A cell measured in both runs gets the ratio of its throughput in run B to run A (above 1:
B does more work a second), with its 95% interval and its decision against 1 at the
margin (decisions.py): gains, loses, equivalent or undecided. Each figure is the cell's
typical round time in each run (estimate.py's estimator: the trimmed geometric mean of its
process medians), and the two runs' passes are independent samples, so the interval is
Yuen's trimmed Welch interval over the two runs' pass summaries (intervals.py), never
paired by pass number: pass 3 of one run has nothing in common with pass 3 of another.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from harness.compare.cells import Cells
from harness.compare.decisions import MARGIN, decide
from harness.compare.estimate import Cell, Estimate, seconds
from harness.compare.intervals import CONFIDENCE, Sample, combine
from harness.results import CELL

DIFF_COLUMNS = [*CELL, "a_s", "b_s", "ratio", "ci_low", "ci_high", "decision", "passes_a",
                "passes_b"]  # fmt: skip


@dataclass(frozen=True)
class Diff:
    """Run B against run A: a row per cell measured in both (DIFF_COLUMNS), and the cells
    measured in one run only."""

    table: pd.DataFrame
    only_a: tuple[Cell, ...]
    only_b: tuple[Cell, ...]
    margin: float = MARGIN

    def counts(self) -> dict[str, int]:
        """How many cells of the table each decision has."""
        words = self.table["decision"]
        return {w: int((words == w).sum()) for w in ("gains", "loses", "equivalent", "undecided")}


def _measured(cells: Cells) -> list[Cell]:
    """The cells with values, in the results table's order."""
    return [c for c in cells.flags if seconds(c) in cells.samples]


def _apart(sample: Sample, after: int) -> Sample:
    """``sample`` with its passes numbered after ``after``: no pass shared with the other run's."""
    return replace(sample, passes=sample.passes + after + 1)


def compare_runs(a: Cells, b: Cells, margin: float = MARGIN) -> Diff:
    """Each cell both runs measured: B's throughput over A's, its interval and decision."""
    in_a, in_b = _measured(a), _measured(b)
    both = [c for c in in_a if c in set(in_b)]
    medians = {
        name: dict(zip(map(_key, cells.table[CELL].itertuples(index=False, name=None)),
                       cells.table["median_s"], strict=True))
        for name, cells in (("a", a), ("b", b))
    }  # fmt: skip
    rows = []
    for cell in both:
        first, second = a.samples[seconds(cell)], b.samples[seconds(cell)]
        after = int(np.max(first.passes)) if len(first) else 0
        found = combine([first, _apart(second, after)], [1.0, -1.0])
        low, high = found.bounds(CONFIDENCE)
        estimate = Estimate(math.exp(found.log), math.exp(low), math.exp(high))
        rows.append({
            "impl": cell[0], "workload": cell[1], "model": cell[2], "workers": cell[3],
            "a_s": float(medians["a"][cell]), "b_s": float(medians["b"][cell]),
            "ratio": estimate.value, "ci_low": estimate.low, "ci_high": estimate.high,
            "decision": decide(estimate, margin),
            "passes_a": len(first.by_pass[0]), "passes_b": len(second.by_pass[0]),
        })  # fmt: skip
    only_b = set(in_b) - set(in_a)
    return Diff(pd.DataFrame(rows, columns=DIFF_COLUMNS),
                tuple(c for c in in_a if c not in set(in_b)),
                tuple(c for c in in_b if c in only_b), margin)  # fmt: skip


def _key(row: tuple[object, ...]) -> Cell:
    return (str(row[0]), str(row[1]), str(row[2]), int(str(row[3])))
