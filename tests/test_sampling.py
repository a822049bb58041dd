"""Sampling aimed at decisions: which cells a sequential run measures at each look."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
import pytest

from harness.compare.decisions import Levels, is_look, passes_to_decide
from harness.compare.estimate import Cell, Estimate
from harness.compare.sampling import choose, next_look, still_needed
from harness.compare.verdicts import RATIO_COLUMNS

SEQUENTIAL = Levels(sequential=True)
A, B, C, D = (("3.14", "nbody", m, 2) for m in ("threads", "processes", "asyncio", "serial"))


def _row(subject: str, cells: tuple[Cell, ...], low: float, high: float, passes: int = 3,
         decision: str = "undecided", ratio: float | None = None) -> dict[str, Any]:  # fmt: skip
    """A Comparison.decisions row with its interval at the first look's level."""
    value = ratio if ratio is not None else math.sqrt(low * high)
    return {"topic": "scaling", "subject": subject, "claim": "", "wide": "", "ratio": value,
            "ci_low": low, "ci_high": high, "confidence": SEQUENTIAL.confidence(passes),
            "candidates": 1, "decision": decision, "passes": passes, "needed": math.nan,
            "cells": cells}  # fmt: skip


def _rows(*rows: dict[str, Any]) -> pd.DataFrame:
    return pd.DataFrame(list(rows), columns=["topic", "subject", "claim", *RATIO_COLUMNS])


def test_an_undecided_figures_cells_are_chosen_and_a_decided_figures_are_not() -> None:
    """Only the cells an undecided figure rests on are measured again."""
    rows = _rows(_row("near", (A, B), 0.97, 1.12), _row("done", (C,), 1.5, 1.9, decision="gains"))
    found = choose(rows, {A: 1.0, B: 1.0, C: 1.0}, 3600.0, {A, B, C}, 3, SEQUENTIAL)
    assert set(found.cells) == {A, B}
    assert (found.decided, found.undecided) == (1, 1)
    assert [f.name for f in found.reachable] == ["scaling near"]


def test_the_cheapest_figure_to_decide_goes_first() -> None:
    """A figure close to a decision, on a cheap cell, leads the pass; a far one follows."""
    rows = _rows(_row("far", (A,), 0.90, 1.12), _row("near", (B,), 0.99, 1.10))
    found = choose(rows, {A: 1.0, B: 1.0}, 3600.0, {A, B}, 3, SEQUENTIAL)
    assert [f.name for f in found.reachable] == ["scaling near", "scaling far"]
    assert found.reachable[0].cost < found.reachable[1].cost
    assert found.cells == (B, A)


def test_the_budget_takes_only_the_figures_it_can_decide() -> None:
    """With a budget that decides the cheaper figure alone, the dearer one is not reachable:
    it is kept while the budget beyond the cheaper one pays for its cells up to the next
    look, and left out once it doesn't."""
    rows = _rows(_row("far", (A,), 0.90, 1.12), _row("near", (B,), 0.99, 1.10))
    cost = {A: 10.0, B: 10.0}
    every = choose(rows, cost, 1e9, {A, B}, 3, SEQUENTIAL)
    near, far = every.reachable
    budget = near.cost + 10.0 * (next_look(3) - 3)  # near's passes, and A's to the next look
    assert budget < near.cost + far.cost
    found = choose(rows, cost, budget, {A, B}, 3, SEQUENTIAL)
    assert [f.name for f in found.reachable] == ["scaling near"]
    assert found.seconds == pytest.approx(near.cost) and found.seconds <= budget
    assert [f.name for f in found.kept] == ["scaling far"] and found.cells == (B, A)
    tight = choose(rows, cost, near.cost, {A, B}, 3, SEQUENTIAL)
    assert [f.name for f in tight.dropped] == ["scaling far"] and tight.cells == (B,)


def test_a_cell_shared_by_two_figures_is_counted_once() -> None:
    """Two figures on one cell cost the most passes either needs, not their sum."""
    rows = _rows(_row("one", (A,), 0.99, 1.10), _row("two", (A,), 0.99, 1.10))
    one = choose(rows.iloc[:1], {A: 10.0}, 1e9, {A}, 3, SEQUENTIAL)
    both = choose(rows, {A: 10.0}, one.seconds, {A}, 3, SEQUENTIAL)
    assert len(both.reachable) == 2 and both.seconds == pytest.approx(one.seconds)


def test_a_cell_left_out_at_a_look_is_not_taken_up_again() -> None:
    """A figure resting on a cell no longer measured stays undecided and unmeasured."""
    rows = _rows(_row("gone", (A, B), 0.97, 1.12), _row("kept", (C,), 0.97, 1.12))
    found = choose(rows, {A: 1.0, B: 1.0, C: 1.0}, 3600.0, {A, C}, 5, SEQUENTIAL)
    assert found.cells == (C,)
    assert [f.name for f in found.dropped] == ["scaling gone"]


def test_a_figure_no_pass_measures_is_not_measured() -> None:
    """A figure resting on no measured cell (an instruction count) counts as undecided and
    sends nothing back."""
    rows = _rows(_row("counted", (), 0.97, 1.12))
    found = choose(rows, {A: 1.0}, 3600.0, {A}, 3, SEQUENTIAL)
    assert found.cells == () and found.undecided == 1


def test_a_figure_more_passes_wont_decide_comes_last() -> None:
    """A figure whose interval lies across the margin's edge, far wider than passes can
    narrow, is measured only with budget to spare after the decidable ones."""
    rows = _rows(_row("edge", (A,), 0.40, 2.6, ratio=1.05), _row("near", (B,), 0.99, 1.10))
    found = choose(rows, {A: 1.0, B: 1.0}, 3600.0, {A, B}, 3, SEQUENTIAL)
    (edge,) = found.kept
    assert math.isnan(edge.needed) and math.isinf(edge.cost)
    assert found.cells == (B, A)
    none = choose(rows, {A: 1.0, B: 1.0}, found.seconds, {A, B}, 3, SEQUENTIAL)
    assert none.cells == (B,) and [f.name for f in none.dropped] == ["scaling edge"]


def test_a_sequential_figure_needs_more_passes_than_a_fixed_reading_would_say() -> None:
    """Later looks spend less of the error rate, so their intervals are wider: the passes
    projected are more than at today's level, and land on a look."""
    row = _row("near", (A,), 0.97, 1.12, passes=5)
    estimate = Estimate(row["ratio"], row["ci_low"], row["ci_high"])
    today = passes_to_decide(estimate, 5, SEQUENTIAL.margin, row["confidence"]).needed
    sequential = still_needed(row, SEQUENTIAL)
    assert today is not None and 5 < today < sequential and is_look(int(sequential))


def test_the_reports_passes_to_decide_are_the_samplers_projection() -> None:
    """The tables' "about N passes" (Levels.needed) read later looks at their own, wider
    levels, as the sampler does: the same count, on a look, above the fixed reading."""
    row = _row("near", (A,), 0.97, 1.12, passes=5)
    estimate = Estimate(row["ratio"], row["ci_low"], row["ci_high"], passes=5,
                        confidence=row["confidence"])  # fmt: skip
    needed = SEQUENTIAL.needed(estimate, row["confidence"])
    fixed = Levels().needed(estimate, row["confidence"])
    assert needed == still_needed(row, SEQUENTIAL)
    assert needed is not None and fixed is not None and is_look(needed) and needed > fixed
