"""``nox -s instructions-bench``: how steady and how dear the instruction counts are.

A benchmark that prints figures, not a test. It counts every serial cell of the quick
selection (the workloads tagged quick) on the cached CPython builds, 3.14, 3.14t and
3.14t+gil, each through its pyperf venv as a timed run starts it (run/counts.py), REPEATS
times each, and prints per cell the instructions per unit, their coefficient of variation
over the repeats (issue 26's target: 0.1% at most) and the seconds the count took; then
3.14t's count over 3.14's for each workload; then, steps injected into series drawn from
each cell's real repeats (history/countpower.py), the smallest step the history finds at
its night with 95% power and no false alarm. The repeats stay in
``reports/instructions-bench/<stamp>/counts.jsonl``, and ``--table DIR`` prints them again.
Counting burns a core for minutes: run it where nothing is being timed.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from harness import store
from harness.countsfile import load_counts
from harness.history.countpower import RUN_REPEATS, format_power, power
from harness.provision import cpython, impls, venvs
from harness.run.counts import Repeat, count_cells, repeats_of, summarize
from harness.run.plan import QUICK_TAG, plan
from harness.run.workloads import WorkloadError, load_workloads, select_workloads

REPEATS = 5  # issue 26: the coefficient of variation over at least 5 repeats of each cell
TARGET_CV = 0.001  # issue 26's acceptance: at most 0.1% over repeats
SERIES = 100  # simulated series per cell and step: a 95% share is then 95 of 100


def _say(line: str) -> None:
    print(f"instructions-bench: {line}", file=sys.stderr, flush=True)


def format_table(repeats: Sequence[Repeat]) -> str:
    """Per cell: instructions per unit, CV over repeats, N and k, seconds; then the ratios
    of 3.14t (any free-threaded id) to its default build's count, per workload."""
    counts = summarize(repeats)
    units = {(r.impl, r.workload): r.units for r in repeats if r.units}
    lines = [f"{'impl':<10} {'workload':<12} {'instructions/unit':>18} {'CV':>9} "
             f"{'repeats':>7} {'N':>3} {'k':>4} {'count s':>8}"]  # fmt: skip
    for c in counts:
        if c.status != "ok":
            lines.append(f"{c.impl:<10} {c.workload:<12} {c.status}: {c.detail}")
            continue
        n, more = units[(c.impl, c.workload)]
        cv = "-" if math.isnan(c.cv) else f"{c.cv:.4%}"
        lines.append(f"{c.impl:<10} {c.workload:<12} {c.per_unit:>18,.0f} {cv:>9} "
                     f"{c.repeats:>7} {n:>3} {more - n:>4} {c.elapsed_s:>8.1f}")  # fmt: skip
    counted = [c for c in counts if c.status == "ok"]
    met = sum(1 for c in counted if c.cv <= TARGET_CV)
    lines.append(f"CV at most {TARGET_CV:.1%}: {met} of {len(counted)} counted cells; "
                 f"counting took {sum(c.elapsed_s for c in counts):.0f} s in all")  # fmt: skip
    by_cell = {(c.impl, c.workload): c.per_unit for c in counted}
    ratios = [(w, i, by_cell[(i + "t", w)] / per) for (i, w), per in by_cell.items()
              if (i + "t", w) in by_cell]  # fmt: skip
    if ratios:
        lines.append("free-threaded build's instructions over the default build's:")
        lines += [f"  {w:<12} {i}t/{i} {ratio:.3f}x" for w, i, ratio in ratios]
    valgrind = sorted({c.valgrind for c in counts if c.valgrind})
    lines.append(f"counted by {', '.join(valgrind) or 'no valgrind'} (cachegrind, --cache-sim=no)")
    return "\n".join(lines)


def format_steps(repeats: Sequence[Repeat], series: int, seed: int) -> str:
    """The smallest step the history finds in each counted cell's series (countpower.py)."""
    rng = np.random.default_rng(seed)
    cells: dict[tuple[str, str], list[float]] = {}
    for r in repeats:
        if r.status == "ok":
            cells.setdefault((r.impl, r.workload), []).append(r.per_unit)
    found = [power(impl, workload, pool, series, rng)
             for (impl, workload), pool in cells.items() if len(pool) > RUN_REPEATS]  # fmt: skip
    return format_power(found, series)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="instructions-bench", description=__doc__)
    parser.add_argument("--repeats", type=int, default=REPEATS)
    parser.add_argument("--workload", default=QUICK_TAG, help="names, categories or tags, "
                        "comma-separated (default: the quick selection)")  # fmt: skip
    parser.add_argument("--reports", type=Path, default=store.reports_dir() / "instructions-bench")
    parser.add_argument("--table", type=Path, help="print an earlier count's table, counting "
                        "nothing")  # fmt: skip
    parser.add_argument("--series", type=int, default=SERIES,
                        help="simulated series per cell and step size")  # fmt: skip
    parser.add_argument("--seed", type=int, default=20261204)
    args = parser.parse_args(argv)
    if args.table is not None:
        repeats = repeats_of(load_counts(args.table))
        print(format_table(repeats))
        print(format_steps(repeats, args.series, args.seed))
        return 0
    built = cpython.find_builds()
    if built is None:
        _say("no cached CPython builds: build them first with 'nox -s compare -- --quick'")
        return 1
    try:
        workloads = select_workloads(load_workloads(), args.workload.split(","))
    except WorkloadError as exc:
        _say(str(exc))
        return 2
    rows = impls.cpython_impls(*built)
    pythons = {impl.id: venvs.ensure_venv(impl, _say) for impl in rows}  # the timed runs' own
    run_dir = store.new_run_dir(args.reports)
    _say(f"counting {len(workloads)} workloads on {', '.join(pythons)}, {args.repeats} repeats "
         f"each, into {run_dir}")  # fmt: skip
    benches = plan(rows, workloads, ["serial"], [1])
    if not count_cells(benches, pythons, run_dir, args.repeats, say=_say):
        return 1
    repeats = repeats_of(load_counts(run_dir))
    print(format_table(repeats))
    print(format_steps(repeats, args.series, args.seed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
