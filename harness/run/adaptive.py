"""Measure each cell until its figures are known to the precision asked, within a budget.

The matrix still runs in interleaved passes, one process per cell a pass, so that the
machine's drift hits every cell alike, and pairing is untouched. What changes is which
cells a pass holds and how many values each of their processes takes:

- The first ``MIN_PASSES`` passes measure every cell: two processes are the least from
  which the variance between processes can be told from the variance within one. They go
  in ``spread`` order, fewest workers first and the implementations taken in turn, and a
  cell's first pass starts only if its second fits in the budget too: a budget too short
  for the whole matrix leaves out its most-worker cells on every implementation, never
  one implementation whole, and no cell is left with a single process.
- After each later pass the run is read back and summarized exactly as the report will
  be (compare/cells.py), and a pass holds only the cells that a figure missing the target
  rests on (compare/precision.py) and that the budget can still bring to it, the
  cheapest to bring there first: within a budget, that brings the most cells to it.
- Values per process follow Kalibera and Jones ("Rigorous Benchmarking in Reasonable
  Time", ISMM 2013): with S_w^2 the variance of a cell's (log) values within a process,
  S_b^2 the variance of its process means beyond what S_w^2 explains, c_p what a process
  costs besides its values and c_v what one value costs, the cheapest design for a given
  precision takes sqrt(c_p S_w^2 / (c_v S_b^2)) values a process. Where processes differ
  little, values are cheap and a process takes many; where they differ much, few, and
  each value is then nearly a process of its own, as the per-value interval assumes.
- A benchmark is started only if its estimated time fits in what is left of the budget.
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from harness.compare.cells import Cells, per_value, summarize
from harness.compare.estimate import Cell
from harness.compare.precision import needing
from harness.results import CELL, Run, load_run
from harness.run.bench import Outcome
from harness.run.cpuspeed import Sampler
from harness.run.matrix import Seen, Stop, attempt, budget_spent
from harness.run.plan import Bench, Profile
from harness.run.shards import Costs

MIN_PASSES = 2
FIRST_VALUES = 3  # values a process in the first passes, as the fixed profiles take
MIN_VALUES = 2  # fewer, and a process says nothing of the spread within one
MAX_VALUES = 30
MAX_PROCESS_VALUES_S = 10.0  # a process's values last at most this: interleaving stays fine
STATUS_EVERY_S = 30.0  # a progress line at least this often
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


def column(cells: Cells, name: str) -> dict[Cell, float]:
    """One column of the results table, by cell."""
    rows = cells.table[[*CELL, name]].itertuples(index=False, name=None)
    return {(str(i), str(w), str(m), int(n)): float(v) for i, w, m, n, v in rows}


def replan(states: Mapping[Cell, CellState], found: Assessment) -> None:
    """Each cell's values per process and value cost, from what it has measured so far."""
    medians = column(found.cells, "median_s")
    for key, group in per_value(found.run).groupby(CELL, sort=False):
        cell: Cell = (str(key[0]), str(key[1]), str(key[2]), int(str(key[3])))
        state = states.get(cell)
        if state is None or not state.passes or not math.isfinite(medians.get(cell, math.nan)):
            continue
        paired = bool(group["paired"].any())
        state.value_s = max(MIN_VALUE_S, medians[cell]) * (2 if paired else 1)
        logs = [np.log(g["sample"].to_numpy(dtype=float)) for _, g in group.groupby("process")]
        values = kalibera_jones_values(logs, state.process_s(), state.value_s)
        state.values = max(MIN_VALUES, min(values, int(MAX_PROCESS_VALUES_S / state.value_s)))


def to_target(state: CellState, far: float, count: int) -> float:
    """Seconds to bring a cell at ``far`` times the target to it: a half-width shrinks as
    1/sqrt(values), so it needs far^2 times the ``count`` values it has."""
    return math.ceil(count * (far**2 - 1) / state.values) * state.cost()


def projection(states: Mapping[Cell, CellState], need: Mapping[Cell, float], left_s: float,
               counts: Mapping[Cell, int]) -> tuple[float, list[Cell]]:  # fmt: skip
    """Seconds to bring every cell in ``need`` to the target, and those the budget leaves out.

    The cells go in the loop's order, the cheapest to bring to the target first: within a
    budget, that brings the most cells to it. Those whose turn comes after the budget is
    spent are left out.
    """
    total, left_out = 0.0, []
    cost = {c: to_target(states[c], need[c], counts.get(c, 0)) for c in need}
    for cell in sorted(need, key=lambda c: cost[c]):
        total += cost[cell]
        if total > left_s:
            left_out.append(cell)
    return total, left_out


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
        self.reserved = 0.0  # the second passes owed to cells whose first has run
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
            self.reserved = sum(self.costs.of(b)[1] for b in self.measured
                                if len(self.states[b.cell].passes) == 1)  # fmt: skip
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
        """The next pass's benchmarks: the cells short of the target that the budget can
        still bring to it, the cheapest first (all of them, cheapest first, if none can).
        The projection is made again each pass, so a cell left out comes back once the
        others, done early, leave it room."""
        if self.number <= MIN_PASSES:
            return self.measured
        found = assess(self.run_dir, self.target)
        replan(self.states, found)
        self.precise, self.figured = found.precise, found.measured
        counts = {c: int(n) for c, n in column(found.cells, "n").items()}
        left = self.deadline - self.clock()
        more, left_out = projection(self.states, found.need, left, counts)
        if self.number == MIN_PASSES + 1:
            self.say(plan_line(more, left, left_out, self.target))
        cost = {c: to_target(self.states[c], far, counts.get(c, 0))
                for c, far in found.need.items() if c in self.states}  # fmt: skip
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
            owed = later if self.number == 1 else 0.0
            if self.number == MIN_PASSES and len(state.passes) == 1:
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
