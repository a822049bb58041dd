"""Measure until every figure the findings state is decided, within a budget.

The matrix still runs in interleaved passes, one process per cell a pass, so that the
machine's drift hits every cell alike, and pairing is untouched. What changes is which
cells a pass holds and how many values each of their processes takes:

- The first ``MIN_PASSES`` passes, the pilot, measure every cell. They go in ``spread``
  order, fewest workers first and the implementations taken in turn, and a cell's first
  pass starts only if its whole pilot fits in the budget too: a budget too short for the
  whole matrix leaves out its most-worker cells on every implementation, never one
  implementation whole, and no cell is left with a single process.
- At each look (compare/decisions.py: after passes 3, 4, 5, 7, 9, 12, 16, ...) the run is
  read back and compared exactly as the report will be (``summarize``, ``compare_run``),
  and the passes up to the next look hold the cells that undecided figures rest on, the
  cheapest to decide first, as many as the budget left can decide, then the others while
  budget is to spare (compare/sampling.py chooses; nothing here does statistics). A cell
  left out at a look is never measured again, so each figure's interval is the one the
  stopping rule saw, at the level its look spent. The run ends when every figure is
  decided, or no cell is left to measure, or the budget is spent.
- With ``--precision P`` the cells also keep going until their figures' intervals are
  within +-P: each cell's goal, its processes in all, is fixed once after the pilot
  (run/allocation.py: a two-stage design), and the cells short of it that the budget can
  bring there are kept at each look as well.
- Values per process follow Kalibera and Jones, from the variance components of the
  figure the cell serves (run/allocation.py).
- A benchmark is started only if its estimated time fits in what is left of the budget.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pandas as pd

from harness.compare.cells import Cells, summarize
from harness.compare.decisions import DECIDED, is_look
from harness.compare.estimate import Cell
from harness.compare.precision import needing
from harness.compare.sampling import choose
from harness.compare.verdicts import compare_run
from harness.results import Run, load_run
from harness.run import allocation
from harness.run.allocation import (
    FIRST_VALUES,
    MAX_VALUES,
    MIN_PASSES,
    MIN_VALUES,
    CellState,
    goals,
    kalibera_jones_values,
    projection,
    replan,
)
from harness.run.bench import Outcome
from harness.run.cpuspeed import Sampler
from harness.run.matrix import Seen, Stop, attempt, budget_spent
from harness.run.plan import Bench, Profile
from harness.run.shards import Costs

__all__ = ["FIRST_VALUES", "MAX_VALUES", "MIN_PASSES", "MIN_VALUES", "Adaptive", "CellState",
           "kalibera_jones_values", "projection", "run_adaptive", "spread"]  # fmt: skip
from harness.run.adaptiveplan import first_plan, format_decided, format_precision, plan_line, spread

STATUS_EVERY_S = 30.0  # a progress line at least this often


@dataclass(frozen=True)
class Assessment:
    """The run as the report would read it now: its figures' decisions and, with a
    precision target, which cells need more for it and how many met it."""

    run: Run
    cells: Cells
    decisions: pd.DataFrame  # Comparison.decisions(), each figure's cells as measured
    need: Mapping[Cell, float] = field(default_factory=dict)  # cell -> half-width / target
    measured: int = 0  # cells with a figure of their own (speedup, ratio to the reference)
    precise: int = 0

    @property
    def decided(self) -> int:
        return int(self.decisions["decision"].isin(DECIDED).sum())

    @property
    def undecided(self) -> int:
        return len(self.decisions) - self.decided


def _measured_as(cell: Cell) -> Cell:
    """The cell that is measured for ``cell``: a pyperf script's benchmarks (bm_x:name)
    are measured as its one cell, bm_x."""
    impl, workload, model, workers = cell
    return (impl, workload.split(":", 1)[0], model, workers)


def assess(run_dir: Path, target: float | None) -> Assessment:
    """Read the run back, summarize and compare it as the report will."""
    run = load_run(run_dir)
    cells = summarize(run)
    decisions = compare_run(cells).decisions()
    measured_as = [tuple(dict.fromkeys(_measured_as(c) for c in found))
                   for found in decisions["cells"]]  # fmt: skip
    decisions["cells"] = pd.Series(measured_as, index=decisions.index, dtype=object)
    table = cells.table
    measured = int(table["precision"].notna().sum())  # the cells with a figure of their own
    precise = int(table["precise"].fillna(False).astype(bool).sum())
    need: dict[Cell, float] = {}
    if target is not None:
        for cell, far in needing(table, target, cells.speedup, cells.vs_ref).items():
            found = _measured_as(cell)
            need[found] = max(need.get(found, 0.0), far)
    return Assessment(run, cells, decisions, need, measured, precise)


def column(cells: Cells, name: str) -> dict[Cell, float]:
    """One column of the results table, by cell."""
    return allocation.column(cells.table, name)


Progress = Callable[[str], None]


class Adaptive:
    """The adaptive matrix, one pass a ``step``: the precision benchmark interleaves its
    passes with a fixed profile's; ``run_adaptive`` steps it to the end."""

    def __init__(self, benches: list[Bench], pythons: Mapping[str, Path], run_dir: Path,
                 profile: Profile, costs: Costs, say: Progress, sampler: Sampler | None = None,
                 clock: Callable[[], float] = time.monotonic,
                 earlier: Sequence[Mapping[str, Any]] = ()) -> None:  # fmt: skip
        """``earlier``: the outcome lines of the run being resumed; their cells and passes
        are kept, and the time they took comes off the budget."""
        assert profile.budget_s is not None
        self.pythons, self.run_dir, self.profile, self.costs = pythons, run_dir, profile, costs
        self.say, self.sampler, self.clock = say, sampler, clock
        self.target, self.budget = profile.precision, profile.budget_s
        self.started = clock()
        self.deadline = self.started + self.budget
        self.measured = spread([b for b in benches if b.impl.available])
        self.reserved = 0.0  # the pilot passes owed to cells whose first has run
        self.goals: dict[Cell, int] | None = None  # processes in all, fixed after the pilot
        self.states = {b.cell: CellState() for b in self.measured}
        self.last: dict[Cell, Outcome] = {}
        self.seen = Seen()
        self.number, self.shown = 0, clock()
        self.chosen: list[Cell] | None = None  # the cells of the passes up to the next look
        self.decided: int | None = None  # figures decided at the last look (None: none yet)
        self.undecided = 0
        self.precise, self.figured = 0, len(self.measured)  # with a precision target
        self.done: set[tuple[Cell, int]] = set()
        if earlier:
            self.restore(earlier)
            return
        say(first_plan(self.measured, costs, self.budget, self.target))

    def restore(self, earlier: Sequence[Mapping[str, Any]]) -> None:
        """Take up a resumed run: its attempts are kept, and the pass it was cut off in
        goes on from the first cell that has no outcome line in it."""
        from harness.run.progress import format_duration

        spent, last = 0.0, 0
        for line in earlier:
            cell: Cell = (str(line["impl"]), str(line["workload"]), str(line["model"]),
                          int(line["workers"]))  # fmt: skip
            number = int(line["pass"])
            if cell not in self.states or number < 1:
                continue  # a cell the budget never reached (pass 0) may be reached now
            elapsed = float(line.get("elapsed_s", 0.0))
            outcome = Outcome(line["status"], str(line.get("detail", "")), elapsed)
            if outcome.status == "ok":
                values = int(line.get("values", FIRST_VALUES))
                self.states[cell].passes.append((values, elapsed))
            self.last[cell] = outcome
            self.done.add((cell, number))
            spent, last = spent + elapsed, max(last, number)
        self.number = max(0, last - 1)
        self.deadline -= spent
        if self.number < MIN_PASSES:
            self.reserved = sum(self.costs.of(b)[1] * (MIN_PASSES - len(self.states[b.cell].passes))
                                for b in self.measured
                                if 1 <= len(self.states[b.cell].passes) < MIN_PASSES)  # fmt: skip
        self.say(f"pass {self.number + 1} goes on; the attempts kept took "
                 f"{format_duration(spent)} of the budget")  # fmt: skip

    def status(self, done: int, total: int) -> str:
        """The progress line: the pass, the figures decided and undecided, the time left."""
        from harness.run.progress import format_duration

        left = format_duration(max(0.0, self.deadline - self.clock()))
        if self.decided is None:
            figures = f"figures read after pass {MIN_PASSES}"
        else:
            figures = (f"{self.decided} of {self.decided + self.undecided} figures decided, "
                       f"{self.undecided} undecided")  # fmt: skip
        if self.target is not None and self.decided is not None:
            figures += f"; {self.precise} of {self.figured} cells at ±{self.target:.0%}"
        return (f"pass {self.number}: {done}/{total} benchmarks; {figures}; {left} of "
                f"{format_duration(self.budget)} left")  # fmt: skip

    def pending(self) -> list[Bench]:
        """The next pass's benchmarks: every cell in the pilot; after it, the cells the
        last look chose (``look``), kept until the next look. A run resumed between looks
        goes on with the cells its last pass held."""
        if self.number <= MIN_PASSES:
            return self.measured
        after = self.number - 1
        if self.chosen is None or is_look(after):
            found = assess(self.run_dir, self.target)
            replan(self.states, found)
            self.decided, self.undecided = found.decided, found.undecided
            self.precise, self.figured = found.precise, found.measured
            if self.chosen is None and not is_look(after):
                held = [b.cell for b in self.measured if (b.cell, after) in self.done]
                self.chosen = sorted(held, key=lambda c: self.states[c].cost())
            else:
                self.chosen = self.look(found, after)
        by_cell = {b.cell: b for b in self.measured}
        return [by_cell[c] for c in self.chosen]

    def look(self, found: Assessment, after: int) -> list[Cell]:
        """The cells of the passes up to the next look: those undecided figures rest on
        (compare/sampling.py), then, with a precision target, the cells short of their
        goal that the budget can bring there, cheapest first."""
        first = self.chosen is None
        held = set(self.chosen) if self.chosen is not None else set(self.states)
        measuring = {c for c in held if self.states[c].passes
                     and (c not in self.last or self.last[c].status == "ok")}  # fmt: skip
        cost = {c: self.states[c].cost() for c in measuring}
        left = self.deadline - self.clock()
        choice = choose(found.decisions, cost, left, measuring, after, found.cells.levels)
        cells = list(choice.cells)
        precise = ""
        if self.target is not None:
            short, more = self.short_of_goal(found, measuring, left)
            cells += [c for c in short if c not in choice.cells]
            precise = format_precision(more, short, self.target)
        if first:
            self.say(plan_line(choice, left, after) + precise)
        return cells

    def short_of_goal(self, found: Assessment, measuring: set[Cell],
                      left: float) -> tuple[list[Cell], float]:  # fmt: skip
        """The cells short of their precision goal (fixed once, after the pilot:
        ``allocation.goals``) that the budget can bring there, cheapest first (all of them
        if none can), and the seconds they would take in all."""
        counts = {c: int(n) for c, n in column(found.cells, "processes").items()}
        if self.goals is None:
            self.goals = goals(found.need, counts)
        owed = {c: g - counts.get(c, 0) for c, g in self.goals.items()
                if c in measuring and g > counts.get(c, 0)}  # fmt: skip
        more, left_out = projection(self.states, owed, left)
        cost = {c: n * self.states[c].cost() for c, n in owed.items()}
        hopeful = [c for c in owed if c not in left_out] or list(owed)
        return sorted(hopeful, key=lambda c: cost[c]), more

    def step(self) -> bool:
        """Run one pass; False once there is nothing left to measure or no time to."""
        if self.number >= self.profile.passes:
            return False
        self.number += 1
        order, ran = self.pending(), 0
        for index, bench in enumerate(order, start=1):
            if Stop.requested:
                break
            if (bench.cell, self.number) in self.done:
                ran += 1
                continue
            done = self.last.get(bench.cell)
            if done is not None and done.status != "ok":
                continue
            state = self.states[bench.cell]
            if not state.passes and self.number > 1:
                continue  # a cell starts in the first pass, with its second in the budget
            first, later = self.costs.of(bench)
            owed = later * (MIN_PASSES - 1) if self.number == 1 else 0.0
            if 1 < self.number <= MIN_PASSES and len(state.passes) == self.number - 1:
                self.reserved -= later
            estimate = first if not state.passes else state.cost()
            if self.clock() + estimate + owed + self.reserved > self.deadline:
                continue
            self.last[bench.cell] = self.run_one(bench, state)
            self.reserved += owed if state.passes else 0.0
            ran += 1
            if self.clock() - self.shown >= STATUS_EVERY_S:
                self.shown = self.clock()
                self.say(self.status(index, len(order)))
        return ran > 0

    def run_one(self, bench: Bench, state: CellState) -> Outcome:
        args = ("--processes", "1", "--values", str(state.values))
        outcome = attempt(bench, self.pythons, self.run_dir,
                          replace(self.profile, pyperf_args=args), self.number, self.seen,
                          self.sampler, state.values)  # fmt: skip
        if outcome.status == "ok":
            state.passes.append((state.values, outcome.elapsed_s))
        return outcome

    def finish(self) -> list[Outcome]:
        """Say where the run ended; record the cells the budget never reached."""
        from harness.run.progress import format_duration

        if self.sampler is not None:
            self.sampler.take()
        final = assess(self.run_dir, self.target)
        precise = ""
        if self.target is not None:
            precise = (f"; {final.precise} of {final.measured} cells with a figure at "
                       f"±{self.target:.0%}")  # fmt: skip
        self.say(f"{format_decided(final.decided, final.undecided)}{precise}, in "
                 f"{format_duration(self.clock() - self.started)} of a "
                 f"{format_duration(self.budget)} budget")  # fmt: skip
        for bench in self.measured:
            if bench.cell not in self.last and not Stop.requested:
                self.last[bench.cell] = budget_spent(self.run_dir, bench, self.profile)
        return [self.last[b.cell] for b in self.measured if b.cell in self.last]


def run_adaptive(benches: list[Bench], pythons: Mapping[str, Path], run_dir: Path,
                 profile: Profile, costs: Costs, say: Progress, sampler: Sampler | None = None,
                 earlier: Sequence[Mapping[str, Any]] = ()) -> list[Outcome]:  # fmt: skip
    """Passes until every figure is decided (and, with ``profile.precision``, every cell
    is at it) or ``profile.budget_s`` is spent.

    Like run_matrix, a cell that fails is recorded and not tried again; a model an
    implementation lacks is recorded once per workload. A cell the budget never reached
    is recorded ``missing`` with that reason. Returns each cell's last outcome.
    """
    matrix = Adaptive(benches, pythons, run_dir, profile, costs, say, sampler, earlier=earlier)
    while matrix.step():
        pass
    return matrix.finish()
