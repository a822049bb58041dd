"""A comparison table's rows: each figure estimated, decided and given what would decide
it (RATIO_COLUMNS); shared by verdicts.py and picks.py. Pure."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import pandas as pd

from harness.compare.cells import Cells
from harness.compare.decisions import UNDECIDED, decide
from harness.compare.estimate import Cell, Estimate, Terms

# A comparison row's figure: the cells behind it with a wide raw interval (information, not
# a gate), the figure and its interval at ``confidence``, the candidates it was picked
# among, its decision (decisions.py), the passes it rests on and about how many in all
# would decide it (NaN: more passes won't, a quieter machine might), and the cells it
# rests on (what the adaptive profile measures again while it is undecided).
RATIO_COLUMNS = ["wide", "ratio", "ci_low", "ci_high", "confidence", "candidates", "decision",
                 "passes", "needed", "cells"]  # fmt: skip


def _table(cells: Cells, rows: Sequence[dict[str, Any]], terms: Sequence[Terms | None],
           columns: list[str], candidates: Sequence[int] = (),
           higher_is_better: bool = True) -> pd.DataFrame:  # fmt: skip
    """``rows`` with each one's terms estimated into a figure and decided (RATIO_COLUMNS).

    ``candidates``: per row, how many figures it was chosen among (1: none); its interval
    is then simultaneous over them (``adjusted``). ``higher_is_better``: whether a figure
    above 1 gains (a speedup, a throughput ratio) or loses (a time ratio).
    """
    counts = list(candidates) or [1] * len(rows)
    out = [{**row, **_undecided(count)} for row, count in zip(rows, counts, strict=True)]
    for i, one in enumerate(terms):
        if one is None:
            continue
        (estimate,) = cells.estimate([one], adjusted(counts[i]))
        out[i].update(_decided(cells, one, estimate, higher_is_better, counts[i]))
    return pd.DataFrame(out, columns=[*columns, *RATIO_COLUMNS])


def _undecided(count: int) -> dict[str, Any]:
    return {"wide": "", "ratio": math.nan, "ci_low": math.nan, "ci_high": math.nan,
            "confidence": math.nan, "candidates": count, "decision": UNDECIDED, "passes": 0,
            "needed": math.nan, "cells": ()}  # fmt: skip


def _decided(cells: Cells, terms: Terms, estimate: Estimate, higher_is_better: bool = True,
             count: int = 1) -> dict[str, Any]:  # fmt: skip
    """A figure's columns: its interval, its decision, and what would decide it.

    ``confidence`` is the level of the ``count`` simultaneous intervals held together (95%
    in a fixed profile), the one the figure's interval is one of."""
    margin = cells.levels.margin
    word = decide(estimate, margin, higher_is_better)
    needed = cells.levels.needed(estimate, estimate.confidence)
    return {"wide": cells.wide(terms), "ratio": estimate.value, "ci_low": estimate.low,
            "ci_high": estimate.high, "confidence": 1 - (1 - estimate.confidence) * count,
            "decision": word,
            "passes": estimate.passes,
            "needed": math.nan if needed is None else needed,
            "cells": tuple(terms.cells)}  # fmt: skip


def adjusted(candidates: int) -> float:
    """The share of the error rate each of ``candidates`` intervals gets so that they hold
    all their figures at once (Bonferroni): the one picked from them then holds its own,
    whichever it is, so a figure chosen by its estimate keeps an honest interval."""
    return 1 / max(1, candidates)


def _fastest(cells: Cells, candidates: list[Cell]) -> Cell:
    """The candidate with the highest speedup (throughput where there is none)."""
    speedup, throughput = cells.figures["speedup"], cells.figures["throughput"]
    return max(candidates, key=lambda c: (not math.isnan(speedup[c]),
                                          speedup[c] if not math.isnan(speedup[c]) else 0.0,
                                          throughput[c]))  # fmt: skip


def _categories(table: pd.DataFrame) -> dict[str, list[str]]:
    workloads = table.drop_duplicates("workload")
    return {str(c): list(g["workload"]) for c, g in workloads.groupby("category", sort=False)}


def _impls(cells: Cells) -> list[str]:
    return [str(i) for i in cells.table["impl"].drop_duplicates()]
