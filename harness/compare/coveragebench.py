"""coverage-bench's command: draw the designs' simulated runs from the frozen histories
(coverage.py) and print how often their intervals hold the truth, and the A/A rates."""

from __future__ import annotations

import argparse
import math
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

from harness.compare.cells import Cells, summarize
from harness.compare.coverage import (
    AA,
    AA_ADAPTIVE,
    AA_DECISIONS,
    ADAPTIVE,
    BUDGET_PASSES,
    DESIGNS,
    HISTORIES,
    MAX_PASSES,
    QUICK,
    TWIN,
    CellKey,
    Pool,
    draw,
    figures,
    load_pool,
    simulate,
    truths,
    with_default_twin,
    with_effect,
    with_twin,
)
from harness.compare.decisions import FIRST_LOOK, decide, is_look
from harness.compare.estimate import Estimate
from harness.compare.sampling import choose
from harness.compare.tally import Stated, Tally, every_look
from harness.compare.verdicts import Comparison, compare_run
from harness.results import records


def fixed(pool: Pool, passes: int, runs: int, rng: np.random.Generator) -> Iterator[Cells]:
    for _ in range(runs):
        yield summarize(simulate(pool, [draw(pool, rng) for _ in range(passes)]))


def adaptive(pool: Pool, runs: int, rng: np.random.Generator,
             looks: list[list[Stated]] | None = None) -> Iterator[Cells]:  # fmt: skip
    """``runs`` sequential runs; ``looks`` gets each run's figures as stated at each look."""
    for _ in range(runs):
        seen: list[Stated] = []

        def at_look(cells: Cells, comparison: Comparison, seen: list[Stated] = seen) -> None:
            seen.append(figures(cells, comparison))

        cells = sequential(pool, rng, at_look)
        if looks is not None:
            looks.append(seen)
        yield cells


def sequential(pool: Pool, rng: np.random.Generator,
               at_look: Callable[[Cells, Comparison], object] | None = None) -> Cells:  # fmt: skip
    """One run measured as run/adaptive.py measures: the pilot passes of every cell; at each
    look the run read back (summarize, compare_run; ``at_look`` sees both) and the passes
    up to the next look given to the cells ``sampling.choose`` picks, each process costing
    the pool's (``Pool.cost``) against a budget of BUDGET_PASSES full passes; a benchmark
    that doesn't fit in what is left is skipped. Ends when no cell is chosen, none fits,
    or after MAX_PASSES passes; read as the report reads it (a last look)."""
    cost = pool.cost
    budget = BUDGET_PASSES * sum(cost.values())
    drawn = [draw(pool, rng) for _ in range(FIRST_LOOK)]
    keep: list[set[CellKey] | None] = [None] * FIRST_LOOK
    spent = FIRST_LOOK * sum(cost.values())
    order: list[CellKey] = sorted(cost)
    cells: Cells | None = None
    while len(drawn) < MAX_PASSES:
        after = len(drawn)
        if is_look(after):
            cells = summarize(simulate(pool, drawn, keep, "adaptive"))
            comparison = compare_run(cells)
            if at_look is not None:
                at_look(cells, comparison)
            measuring = set(order)
            found = choose(comparison.decisions(), {c: cost[c] for c in measuring},
                           budget - spent, measuring, after, cells.levels)  # fmt: skip
            order = list(found.cells)
        held = set()
        for cell in order:  # a pass: each benchmark that still fits, in the chosen order
            if spent + cost[cell] <= budget:
                held.add(cell)
                spent += cost[cell]
        if not held:
            break
        drawn.append(draw(pool, rng))
        keep.append(held)
        cells = None
    if cells is None:
        cells = summarize(simulate(pool, drawn, keep, "adaptive"))
        if at_look is not None:
            at_look(cells, compare_run(cells))
    return cells


NullKind = str  # "overhead", "break-even", "vs_ref"


def null_decisions(cells: Cells, comparison: Comparison, twin: str) -> list[tuple[str, str]]:
    """The decisions of a run of ``with_default_twin``'s pool about figures whose truth is 1:
    (kind, decision) for the free-threaded build's single-thread cost (each workload's, and
    their geometric mean), each of its cells' ratio to the default build, and each
    break-even stated against the default build's threads or claiming to gain on every
    model (threads among them)."""
    found = []
    for row in records(comparison.overhead):
        if not math.isnan(row["ratio"]):
            found.append(("overhead", str(row["decision"])))
    for row in records(comparison.break_even):
        if not math.isnan(row["ratio"]) and (row["rival"] == "threads" or row["each"]):
            found.append(("break-even", str(row["decision"])))
    margin = cells.levels.margin
    table = cells.table[(cells.table["impl"] == twin) & cells.table["vs_ref"].notna()]
    for row in records(table):
        estimate = Estimate(row["vs_ref"], row["vs_ref_ci_low"], row["vs_ref_ci_high"])
        found.append(("vs_ref", decide(estimate, margin)))
    return found


EVERY_LOOK = ", every look"  # a sequential design's figures checked at all their looks


def bench(pools: Sequence[Pool], runs: int, seed: int = 20261204,
          designs: Sequence[str] = DESIGNS, fixed_runs: int | None = None,
          jobs: int = 1) -> dict[str, Tally]:  # fmt: skip
    """Coverage of each of ``designs`` over every pool (``runs`` simulated runs of a
    sequential design, ``fixed_runs`` of a fixed one: ``runs`` if not given); for the
    default twin's, the decisions about figures whose truth is 1 as well. A sequential
    design also gives ``design + EVERY_LOOK``: its figures checked at every look. Each
    (pool, design) draws from a random stream of its own, spawned from ``seed``, so the
    figures don't depend on ``jobs``, the processes they are computed in."""
    tasks = [(pool, name, runs if name in SEQUENTIAL else fixed_runs or runs)
             for pool in pools for name in designs]  # fmt: skip
    streams = np.random.SeedSequence(seed).spawn(len(tasks))
    if jobs > 1:
        with ProcessPoolExecutor(jobs) as executor:
            done = list(executor.map(_design, tasks, streams))
    else:
        done = [_design(task, stream) for task, stream in zip(tasks, streams, strict=True)]
    tallies: dict[str, Tally] = {}
    for found in done:
        for name, tally in found.items():
            tallies.setdefault(name, Tally()).merge(tally)
    return tallies


SEQUENTIAL = frozenset({ADAPTIVE, AA_ADAPTIVE, AA_DECISIONS})


def _design(task: tuple[Pool, str, int], stream: np.random.SeedSequence) -> dict[str, Tally]:
    """One design's tallies on one pool (none if it has no free-threaded build to twin)."""
    pool, name, runs = task
    rng = np.random.default_rng(stream)
    roles = summarize(simulate(pool, pool.passes[:2])).roles
    others = sorted({c[0] for p in pool.passes for c in p} - {roles.reference})
    chosen: Pool | None
    only = TWIN if name in (AA, AA_ADAPTIVE) else None
    if name in (AA, AA_ADAPTIVE):
        chosen = with_twin(pool, rng)
    elif name == AA_DECISIONS:
        chosen = with_default_twin(pool, rng) if roles.free_threaded else None
    elif name.startswith("10%"):
        chosen = with_effect(pool, roles.free_threaded or others[0])
    else:
        chosen = pool
    if chosen is None:
        return {}
    truth = truths(chosen)
    if chosen.twin is not None:  # the twin's ratios to its original are exactly 1
        _, twin_id = chosen.twin
        truth.update({f: 1.0 for f in truth
                      if f[0] == "vs_ref" and f[1].startswith(f"{twin_id} ")})  # fmt: skip
        if twin_id == roles.free_threaded and ("geomean", "overhead") in truth:
            truth[("geomean", "overhead")] = 1.0
    tally = Tally()
    looks: list[list[Stated]] = []
    if name in SEQUENTIAL:
        drawn = adaptive(chosen, runs, rng, looks)
    else:
        drawn = fixed(chosen, FIXED_PASSES[name], runs, rng)
    for cells in drawn:
        comparison = compare_run(cells)
        tally.add(figures(cells, comparison), truth, only)
        tally.runs += 1
        if name == AA_DECISIONS and roles.free_threaded is not None:
            tally.add_nulls(null_decisions(cells, comparison, roles.free_threaded))
    if name not in SEQUENTIAL:
        return {name: tally}
    sequence = Tally(runs=len(looks))
    for seen in looks:
        sequence.add_held(every_look(seen, truth, only))
    return {name: tally, name + EVERY_LOOK: sequence}


FIXED_PASSES = {QUICK: 3, "fixed, 10 passes": 10, AA: 3, "10% slower, 3 passes": 3}


def format_tallies(tallies: dict[str, Tally]) -> str:
    """One line a design: each kind's coverage, +- half its 95% interval over simulated
    runs, the mean level its intervals were stated at, and of how many."""
    kinds = ("speedup", "vs_ref", "geomean", "headline")
    lines = [f"{'design':38} " + " ".join(f"{k:>34}" for k in kinds)]
    for name, tally in tallies.items():
        cells = [_coverage(tally, k) if tally.checked.get(k) else "-" for k in kinds]
        lines.append(f"{name:38} " + " ".join(f"{c:>34}" for c in cells))
    return "\n".join(lines)


def _coverage(tally: Tally, kind: str) -> str:
    share, margin, level = tally.coverage(kind), tally.margin(kind), tally.level(kind)
    return f"{share:6.1%} ±{margin:4.1%} ({level:6.2%}) of {tally.checked[kind]:5d}"


def format_nulls(name: str, tally: Tally) -> str:
    """The false decisions among figures whose truth is 1, in all and by kind."""
    kinds = ", ".join(f"{k} {tally.false.get(k, 0)} of {n}" for k, n in tally.nulls.items())
    total, equivalent = sum(tally.nulls.values()), sum(tally.equivalent.values())
    return (f"{name}: {sum(tally.false.values())} of {total} figures whose truth is 1 read as "
            f"gains or loses ({tally.false_rate():.2%}; {kinds}); {equivalent} read as "
            f"equivalent; {tally.runs} simulated runs, {tally.runs_false} with a false "
            "decision")  # fmt: skip


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="coverage-bench", description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=200,
                        help="simulated runs per sequential design and pool")  # fmt: skip
    parser.add_argument("--fixed-runs", type=int, default=1000,
                        help="simulated runs per fixed design and pool (each cheaper)")  # fmt: skip
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                        help="processes to compute in (figures don't depend on it)")  # fmt: skip
    parser.add_argument("--history", type=Path, action="append",
                        help="a history of real runs (default: the frozen ones)")  # fmt: skip
    args = parser.parse_args(argv)
    pools = [load_pool(h) for h in (args.history or HISTORIES)]
    for history, pool in zip(args.history or HISTORIES, pools, strict=True):
        cells = {c for p in pool.passes for c in p}
        print(f"{history}: {len(pool.passes)} passes, {len(cells)} cells")
    tallies = bench(pools, args.runs, fixed_runs=args.fixed_runs, jobs=args.jobs)
    print(
        "Share of the intervals that held the figure's truth, +- half its 95% interval over "
        f"simulated runs (the mean level they were stated at; of how many). '{EVERY_LOOK[2:]}': "
        "a figure held if each interval stated for it at each look did (95% nominal):"
    )
    print(format_tallies(tallies))
    for name, tally in tallies.items():
        if tally.nulls:
            print(format_nulls(name, tally))
        elif name.startswith((AA, AA_ADAPTIVE)):  # "left 1 out": at the last look or any
            print(f"{name}: {tally.decided.get('vs_ref', 0)} of {tally.checked.get('vs_ref', 0)}"
                  " twin-against-reference ratios left out 1 (false verdicts)")  # fmt: skip
        if name.startswith("10%"):
            seen = tally.decided.get("vs_ref", 0)
            print(f"{name}: {seen} of {tally.checked.get('vs_ref', 0)} ratios to the "
                  "reference left out 1")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
