"""coverage-bench's command: draw the designs' simulated runs from the frozen histories
(coverage.py) and print how often their intervals hold the truth, and the A/A rates."""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Iterator, Sequence
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
    Tally,
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
from harness.compare.verdicts import Comparison, compare_run
from harness.results import records


def fixed(pool: Pool, passes: int, runs: int, rng: np.random.Generator) -> Iterator[Cells]:
    for _ in range(runs):
        yield summarize(simulate(pool, [draw(pool, rng) for _ in range(passes)]))


def adaptive(pool: Pool, runs: int, rng: np.random.Generator) -> Iterator[Cells]:
    for _ in range(runs):
        yield sequential(pool, rng)


def sequential(pool: Pool, rng: np.random.Generator) -> Cells:
    """One run measured as run/adaptive.py measures: the pilot passes of every cell; at each
    look the run read back (summarize, compare_run) and the passes up to the next look
    given to the cells ``sampling.choose`` picks, each process costing the pool's
    (``Pool.cost``) against a budget of BUDGET_PASSES full passes; a benchmark that doesn't
    fit in what is left is skipped. Ends when no cell is chosen, none fits, or after
    MAX_PASSES passes; read as the report reads it."""
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
            rows = compare_run(cells).decisions()
            measuring = set(order)
            found = choose(rows, {c: cost[c] for c in measuring}, budget - spent, measuring,
                           after, cells.levels)  # fmt: skip
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
    return cells if cells is not None else summarize(simulate(pool, drawn, keep, "adaptive"))


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


def bench(pools: Sequence[Pool], runs: int, seed: int = 20261204,
          designs: Sequence[str] = DESIGNS) -> dict[str, Tally]:  # fmt: skip
    """Coverage of each of ``designs`` over every pool; for the default twin's, the
    decisions about figures whose truth is 1 as well."""
    rng = np.random.default_rng(seed)
    tallies: dict[str, Tally] = {}
    for pool in pools:
        roles = summarize(simulate(pool, pool.passes[:2])).roles
        others = sorted({c[0] for p in pool.passes for c in p} - {roles.reference})
        twin = with_twin(pool, rng)
        default_twin = with_default_twin(pool, rng) if roles.free_threaded else None
        every: dict[str, tuple[Pool | None, int, str | None]] = {  # passes 0: adaptive
            QUICK: (pool, 3, None),
            "fixed, 10 passes": (pool, 10, None),
            ADAPTIVE: (pool, 0, None),
            AA: (twin, 3, TWIN),
            AA_ADAPTIVE: (twin, 0, TWIN),
            AA_DECISIONS: (default_twin, 0, None),
            "10% slower, 3 passes": (with_effect(pool, roles.free_threaded or others[0]), 3, None),
        }
        for name in designs:
            chosen, passes, only = every[name]
            if chosen is None:
                continue  # no free-threaded build to replace by a twin
            truth = truths(chosen)
            if chosen.twin is not None:  # the twin's ratios to its original are exactly 1
                _, twin_id = chosen.twin
                truth.update({f: 1.0 for f in truth
                              if f[0] == "vs_ref" and f[1].startswith(f"{twin_id} ")})  # fmt: skip
                if twin_id == roles.free_threaded and ("geomean", "overhead") in truth:
                    truth[("geomean", "overhead")] = 1.0
            tally = tallies.setdefault(name, Tally())
            drawn = fixed(chosen, passes, runs, rng) if passes else adaptive(chosen, runs, rng)
            for cells in drawn:
                comparison = compare_run(cells)
                tally.add(figures(cells, comparison), truth, only)
                tally.runs += 1
                if name == AA_DECISIONS and roles.free_threaded is not None:
                    tally.add_nulls(null_decisions(cells, comparison, roles.free_threaded))
    return tallies


def format_tallies(tallies: dict[str, Tally]) -> str:
    kinds = ("speedup", "vs_ref", "geomean", "headline")
    lines = [f"{'design':28} " + " ".join(f"{k:>28}" for k in kinds)]
    for name, tally in tallies.items():
        cells = [f"{tally.coverage(k):6.1%} ({tally.level(k):6.2%}) of {tally.checked[k]:5d}"
                 if tally.checked.get(k) else "-" for k in kinds]  # fmt: skip
        lines.append(f"{name:28} " + " ".join(f"{c:>28}" for c in cells))
    return "\n".join(lines)


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
    parser.add_argument("--runs", type=int, default=200, help="simulated runs per design and pool")
    parser.add_argument("--history", type=Path, action="append",
                        help="a history of real runs (default: the frozen ones)")  # fmt: skip
    args = parser.parse_args(argv)
    pools = [load_pool(h) for h in (args.history or HISTORIES)]
    for history, pool in zip(args.history or HISTORIES, pools, strict=True):
        cells = {c for p in pool.passes for c in p}
        print(f"{history}: {len(pool.passes)} passes, {len(cells)} cells")
    tallies = bench(pools, args.runs)
    print(
        "Share of the intervals that held the figure's truth (the mean level they were "
        "stated at; of how many):"
    )
    print(format_tallies(tallies))
    for name, tally in tallies.items():
        if tally.nulls:
            print(format_nulls(name, tally))
        elif name.startswith("A/A"):
            print(f"{name}: {tally.decided.get('vs_ref', 0)} of {tally.checked.get('vs_ref', 0)}"
                  " twin-against-reference ratios left out 1 (false verdicts)")  # fmt: skip
        if name.startswith("10%"):
            seen = tally.decided.get("vs_ref", 0)
            print(f"{name}: {seen} of {tally.checked.get('vs_ref', 0)} ratios to the "
                  "reference left out 1")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
