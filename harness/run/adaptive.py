"""Measure each cell until its figures are known to the precision asked, within a budget.

The matrix still runs in interleaved passes, one process per cell a pass, so that the
machine's drift hits every cell alike, and pairing is untouched. What changes is which
cells a pass holds and how many values each of their processes takes:

- The first ``MIN_PASSES`` passes, the pilot, measure every cell: three processes read the
  spread between processes, from which each cell's goal, its processes in all, is fixed
  once (run/allocation.py: a two-stage design, which keeps the intervals honest). They go
  in ``spread`` order, fewest workers first and the implementations taken in turn, and a
  cell's first pass starts only if its whole pilot fits in the budget too: a budget too
  short for the whole matrix leaves out its most-worker cells on every implementation,
  never one implementation whole, and no cell is left with a single process.
- After the pilot the run is read back and summarized exactly as the report will be
  (compare/cells.py); the cells that a figure missing the target rests on
  (compare/precision.py) get their goal, and each later pass holds the cells short of it
  that the budget can still bring there, the cheapest first: within a budget, that
  brings the most cells to their goal.
- Values per process follow Kalibera and Jones, from the variance components of the
  figure the cell serves, and the processes still to go from today's half-width
  (run/allocation.py).
- A benchmark is started only if its estimated time fits in what is left of the budget.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from harness.compare.cells import Cells, summarize
from harness.compare.estimate import Cell
from harness.compare.precision import needing
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
STATUS_EVERY_S = 30.0  # a progress line at least this often


@dataclass(frozen=True)
class Assessment:
    """The run as the report would read it now: which cells need more, and how many met."""

    run: Run
    cells: Cells
    need: Mapping[Cell, float]  # cell -> half-width / target, > 1
    measured: int  # cells with a figure of their own (speedup, ratio to the reference)
    precise: int


def assess(run_dir: Path, target: float) -> Assessment:
    run = load_run(run_dir)
    cells = summarize(run)
    table = cells.table
    measured = int(table["precision"].notna().sum())  # the cells with a figure of their own
    precise = int(table["precise"].fillna(False).astype(bool).sum())
    need: dict[Cell, float] = {}
    for (impl, workload, model, workers), far in needing(
        table, target, cells.speedup, cells.vs_ref
    ).items():
        # a pyperf script's benchmarks (bm_x:name) are measured as its one cell, bm_x
        cell = (impl, workload.split(":", 1)[0], model, workers)
        need[cell] = max(need.get(cell, 0.0), far)
    return Assessment(run, cells, need, measured, precise)


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
        assert profile.precision is not None and profile.budget_s is not None
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
        self.number, self.precise, self.shown = 0, 0, clock()
        self.figured = len(self.measured)
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
        """The progress line: the pass, the cells at precision, the time left."""
        from harness.run.progress import format_duration

        left = format_duration(max(0.0, self.deadline - self.clock()))
        return (f"pass {self.number}: {done}/{total} benchmarks; {self.precise} of "
                f"{self.figured} cells at ±{self.target:.0%}; {left} of "
                f"{format_duration(self.budget)} left")  # fmt: skip

    def pending(self) -> list[Bench]:
        """The next pass's benchmarks: the cells short of their goal (fixed once, after
        the pilot passes: ``allocation.goals``) that the budget can still bring to it, the
        cheapest first (all of them, cheapest first, if none can). The projection is made
        again each pass, so a cell left out comes back once the others, done early, leave
        it room. A resumed run past its pilot fixes the goals from what it has measured."""
        if self.number <= MIN_PASSES:
            return self.measured
        found = assess(self.run_dir, self.target)
        replan(self.states, found)
        self.precise, self.figured = found.precise, found.measured
        counts = {c: int(n) for c, n in column(found.cells, "processes").items()}
        first = self.goals is None
        if self.goals is None:
            self.goals = goals(found.need, counts)
        owed = {c: g - counts.get(c, 0) for c, g in self.goals.items()
                if c in self.states and g > counts.get(c, 0)}  # fmt: skip
        left = self.deadline - self.clock()
        more, left_out = projection(self.states, owed, left)
        if first:
            self.say(plan_line(more, left, left_out, self.target))
        cost = {c: n * self.states[c].cost() for c, n in owed.items()}
        hopeful = [b for b in self.measured if b.cell in cost and b.cell not in left_out]
        chosen = hopeful or [b for b in self.measured if b.cell in cost]
        return sorted(chosen, key=lambda b: cost[b.cell])

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
        self.say(f"{final.precise} of {final.measured} cells with a figure at ±{self.target:.0%}, "
                 f"in {format_duration(self.clock() - self.started)} of a "
                 f"{format_duration(self.budget)} budget")  # fmt: skip
        for bench in self.measured:
            if bench.cell not in self.last and not Stop.requested:
                self.last[bench.cell] = budget_spent(self.run_dir, bench, self.profile)
        return [self.last[b.cell] for b in self.measured if b.cell in self.last]


def run_adaptive(benches: list[Bench], pythons: Mapping[str, Path], run_dir: Path,
                 profile: Profile, costs: Costs, say: Progress, sampler: Sampler | None = None,
                 earlier: Sequence[Mapping[str, Any]] = ()) -> list[Outcome]:  # fmt: skip
    """Passes until every cell is at ``profile.precision`` or ``profile.budget_s`` is spent.

    Like run_matrix, a cell that fails is recorded and not tried again; a model an
    implementation lacks is recorded once per workload. A cell the budget never reached
    is recorded ``missing`` with that reason. Returns each cell's last outcome.
    """
    matrix = Adaptive(benches, pythons, run_dir, profile, costs, say, sampler, earlier=earlier)
    while matrix.step():
        pass
    return matrix.finish()


def spread(benches: list[Bench]) -> list[Bench]:
    """The first passes' order: serial at 1 worker everywhere (the baseline every figure
    rests on), then each worker count in turn, the implementations taken in turn within
    it, so that a budget's cut falls across the matrix's most-worker cells."""
    impls = list(dict.fromkeys(b.impl.id for b in benches))
    workloads = list(dict.fromkeys(b.workload.name for b in benches))
    models = list(dict.fromkeys(b.model for b in benches))
    return sorted(benches, key=lambda b: (b.workers, b.model != "serial", workloads.index(
        b.workload.name), models.index(b.model), impls.index(b.impl.id)))  # fmt: skip


def first_plan(measured: list[Bench], costs: Costs, budget: float, target: float) -> str:
    """The plan before anything is measured: the cells, what their first passes cost,
    and the cells that a budget too short for them leaves out."""
    from harness.run.progress import format_duration

    cost = [costs.of(b)[0] + (MIN_PASSES - 1) * costs.of(b)[1] for b in measured]
    first = sum(cost)
    head = (f"{len(measured)} cells to measure to ±{target:.0%} within "
            f"{format_duration(budget)}; their first {MIN_PASSES} passes take about "
            f"{format_duration(first)} ({costs.source})")  # fmt: skip
    if first <= budget:
        return head + "; then the cells not yet precise are measured again, cheapest first"
    spent, fits = 0.0, 0
    for seconds in cost:
        if spent + seconds > budget:
            break
        spent, fits = spent + seconds, fits + 1
    cut = measured[fits:]
    counts = sorted({b.workers for b in cut})
    where = ", ".join(map(str, counts))
    return (f"{head}: the budget covers about {fits} of them, so about {len(cut)} cells "
            f"at {where} worker{'s' if counts != [1] else ''} will not be measured, on "
            f"every implementation alike; give more --budget, or select fewer cells")  # fmt: skip


def plan_line(more_s: float, left_s: float, left_out: list[Cell], target: float) -> str:
    """What the variance measured so far says of the rest of the run."""
    from harness.run.progress import format_duration

    head = f"estimated {format_duration(more_s)} more to bring every cell to ±{target:.0%}"
    if not left_out:
        return f"{head}; the budget's {format_duration(left_s)} left should cover it"
    names = ", ".join(f"{i} {w}/{m}/{n}" for i, w, m, n in left_out[:4])
    more = f" and {len(left_out) - 4} more" if len(left_out) > 4 else ""
    return (f"{head}; the {format_duration(left_s)} left will leave {len(left_out)} "
            f"imprecise: {names}{more}")  # fmt: skip
