"""How precisely each cell's figures are known, against the precision a run asked for. Pure.

A cell's precision is the widest relative half-width among its own figures' intervals (at
95%, or in an adaptive run at its looks' levels): its speedup and its ratio to the
reference implementation, ``max(v - low, high - v) / v``.
A cell with neither (the reference implementation's serial baseline: 1 against itself,
twice) has no precision of its own; it is measured for as long as the figures resting on
it need, and its round time's interval is in the table beside the others'. The adaptive
matrix (run/adaptive.py) reads these very columns to decide which cells to measure again,
and the report shows them, so the figure a run stops on is the figure it prints.

A figure that misses the target needs more values from every cell it rests on: a ratio to
the reference needs the reference cell's too, an unpaired speedup its serial baseline's.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from harness.compare.estimate import Cell, Terms

# --precision's default: +-2% resolves the free-threaded build's 5-15% single-thread cost
# and a second worker's quarter of a core, with room to spare.
DEFAULT_PRECISION = 0.02
FIGURES = (("speedup", "speedup_ci_low", "speedup_ci_high"),
           ("vs_ref", "vs_ref_ci_low", "vs_ref_ci_high"))  # fmt: skip


def target_of(manifest: Mapping[str, Any]) -> float | None:
    """The precision the run was measured to, if it was measured adaptively."""
    record = manifest.get("precision")
    target = record.get("target") if isinstance(record, Mapping) else None
    return float(target) if target is not None else None


def half_width(value: float, low: float, high: float) -> float:
    """The interval's larger half, as a share of the estimate; inf when there is none."""
    if not all(math.isfinite(x) for x in (value, low, high)) or value <= 0:
        return math.inf
    return max(value - low, high - value) / value


def _figures(record: Mapping[str, Any], cell: Cell, speedup: Mapping[Cell, Terms],
             vs_ref: Mapping[Cell, Terms]) -> list[tuple[float, list[Cell]]]:  # fmt: skip
    """A measured cell's figures: (relative half-width, the cells the figure rests on)."""
    return [
        (half_width(record[v], record[lo], record[hi]), terms[cell].cells)
        for (v, lo, hi), terms in zip(FIGURES, (speedup, vs_ref), strict=True)
        if cell in terms and terms[cell].powers
    ]


def _measured(table: pd.DataFrame) -> list[tuple[int, Cell, dict[str, Any]]]:
    rows = []
    records = [{str(k): v for k, v in r.items()} for r in table.to_dict("records")]
    for index, record in zip(table.index, records, strict=True):
        if record["status"] == "ok" and record["n"]:
            cell = (record["impl"], record["workload"], record["model"], int(record["workers"]))
            rows.append((index, cell, record))
    return rows


def precision_column(table: pd.DataFrame, speedup: Mapping[Cell, Terms],
                     vs_ref: Mapping[Cell, Terms]) -> pd.Series:  # fmt: skip
    """Each cell's precision: its widest figure's relative half-width; NaN where it has no
    figure (unmeasured, or the reference's baseline)."""
    found = pd.Series(math.nan, index=table.index, dtype=float)
    for index, cell, record in _measured(table):
        widths = [w for w, _ in _figures(record, cell, speedup, vs_ref)]
        if widths:
            found[index] = max(widths)
    return found


def needing(table: pd.DataFrame, target: float, speedup: Mapping[Cell, Terms],
            vs_ref: Mapping[Cell, Terms]) -> dict[Cell, float]:  # fmt: skip
    """Cells that must be measured again, each with how far it is from the target (>1).

    A cell counts if one of its own figures misses ``target`` or if it is a term of
    another cell's figure that does; the distance (half-width / target) is the worst of
    those figures', so that the most uncertain go first.
    """
    need: dict[Cell, float] = {}
    for _, cell, record in _measured(table):
        for width, rests_on in _figures(record, cell, speedup, vs_ref):
            if width > target:
                for other in rests_on:
                    need[other] = max(need.get(other, 0.0), width / target)
    return need


def met_column(precision: pd.Series, target: float) -> pd.Series:
    """Whether each measured cell reached the target; NA where nothing was measured."""
    met = pd.Series(pd.NA, index=precision.index, dtype="boolean")
    measured = precision.notna()
    met[measured] = np.asarray(precision[measured] <= target + 1e-12)
    return met
