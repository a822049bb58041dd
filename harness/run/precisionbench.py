"""``nox -s precision-bench``: the fixed full profile against the adaptive mode, in one run.

A benchmark that prints figures, not a test. The same cells are measured both ways into two
run folders, their passes interleaved (a fixed pass, then an adaptive one, until both are
done), so that the machine's drift hits both modes alike. Timings on a shared machine are
noisy, so the figures to quote are the ratios taken here, in one run: the time each mode
spent per cell (every benchmark process it started, calibration included), and the width
of each cell's figures as the report computes them (compare/precision.py).
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import pandas as pd

from harness import store
from harness.compare.cells import Cells, summarize
from harness.results import CELL, load_run
from harness.run.adaptive import Adaptive, column
from harness.run.matrix import Seen, attempt
from harness.run.plan import PROFILES, Bench, Profile
from harness.run.shards import load_costs

DEFAULT_SELECTION = ["--impl", "3.14", "--impl", "3.14t", "--workload", "nbody,hash_sha256",
                     "--model", "serial,threads,processes", "--workers", "1,2",
                     "--sparse"]  # fmt: skip


def _say(line: str) -> None:
    print(f"precision-bench: {line}", file=sys.stderr, flush=True)


def _times(run_dir: Path) -> dict[tuple[str, str, str, int], float]:
    """Seconds each cell's benchmark processes took, over the whole run."""
    sums = load_run(run_dir).outcomes.groupby(CELL, as_index=False)["elapsed_s"].sum()
    rows = sums[[*CELL, "elapsed_s"]].itertuples(index=False, name=None)
    return {(str(i), str(w), str(m), int(n)): float(v) for i, w, m, n, v in rows}


def format_levels(cells: Cells) -> str:
    """The levels a run's figures are stated at: 95% in a fixed run, each look's in an
    adaptive one (compare/decisions.py), so a range."""
    table = cells.table
    levels = pd.concat([table["speedup_level"], table["vs_ref_level"]]).dropna()
    if levels.empty:
        return "no figure"
    low, high = (f"{100 * float(x):.4g}%" for x in (levels.min(), levels.max()))
    return low if low == high else f"{low} to {high}"


def main(argv: Sequence[str] | None = None) -> int:
    from harness.cli import gather_impls, open_run, parse_request, plan_with, prepare_pythons
    from harness.options import build_parser

    parser = argparse.ArgumentParser(prog="precision-bench", description=__doc__)
    parser.add_argument("--reports", type=Path, default=store.reports_dir() / "precision-bench")
    own, rest = parser.parse_known_args(argv)
    args = build_parser().parse_args(["run", *(rest or DEFAULT_SELECTION),
                                      "--reports", str(own.reports)])  # fmt: skip
    request = parse_request(args)  # the adaptive profile, with --precision and --budget
    adaptive = request.profile
    # The fixed full profile, with the same warm-ups, so that only the effort differs.
    fixed = replace(
        PROFILES["full"], jit_warmups=adaptive.jit_warmups, timeout_s=adaptive.timeout_s
    )
    impls, pythons = prepare_pythons(gather_impls(args), None)
    benches = [b for b in plan_with(request, impls) if b.impl.available]
    fixed_dir = open_run(args, replace(request, profile=fixed), impls, benches)
    adaptive_dir = open_run(args, request, impls, benches)
    matrix = Adaptive(benches, pythons, adaptive_dir, adaptive, load_costs(None), _say)
    more, seen = True, Seen()
    for number in range(1, fixed.passes + 1):
        _fixed_pass(benches, pythons, fixed_dir, fixed, number, seen)
        more = more and matrix.step()
    while more and matrix.step():
        pass
    matrix.finish()
    print(format_table(benches, fixed_dir, adaptive_dir, adaptive.precision))
    return 0


def _fixed_pass(benches: list[Bench], pythons: dict[str, Path], run_dir: Path,
                profile: Profile, number: int,
                seen: Seen) -> None:  # fmt: skip
    """One pass of the fixed profile: every cell once, as run_matrix runs it."""
    for bench in benches:
        attempt(bench, pythons, run_dir, profile, number, seen)


def format_table(benches: list[Bench], fixed_dir: Path, adaptive_dir: Path,
                 target: float | None) -> str:  # fmt: skip
    """Per cell: seconds and precision each way, and the ratios; then the medians."""
    times = [_times(fixed_dir), _times(adaptive_dir)]
    cells = [summarize(load_run(d)) for d in (fixed_dir, adaptive_dir)]
    widths = [column(c, "precision") for c in cells]
    counts = [column(c, "processes") for c in cells]  # what an interval narrows with
    lines = [f"{'cell':<34} {'fixed s':>8} {'adapt s':>8} {'time':>6} "
             f"{'fixed ±':>8} {'adapt ±':>8} {'p fix':>6} {'p ad':>5}"]  # fmt: skip
    ratios, narrower, compared = [], 0, 0
    for bench in benches:
        cell = bench.cell
        tf, ta = times[0].get(cell, math.nan), times[1].get(cell, math.nan)
        wf, wa = widths[0].get(cell, math.nan), widths[1].get(cell, math.nan)
        ratios.append(ta / tf)
        if math.isfinite(wf) and math.isfinite(wa):  # the reference's baseline has no figure
            compared += 1
            narrower += wa <= wf
        lines.append(f"{bench.impl.id + ' ' + bench.name:<34} {tf:8.1f} {ta:8.1f} "
                     f"{ta / tf:5.2f}x {wf:8.2%} {wa:8.2%} {counts[0].get(cell, 0):6.0f} "
                     f"{counts[1].get(cell, 0):5.0f}")  # fmt: skip
    total = [sum(t.get(b.cell, 0.0) for b in benches) for t in times]
    fixed_w, adapt_w = (statistics.median(v for b in benches
                                          if math.isfinite(v := w.get(b.cell, math.nan)))
                        for w in widths)  # fmt: skip
    lines += [
        "",
        f"time per cell: fixed {total[0] / len(benches):.1f} s, adaptive "
        f"{total[1] / len(benches):.1f} s: adaptive/fixed {total[1] / total[0]:.2f} "
        f"(median over cells {statistics.median(ratios):.2f})",
        f"precision (half-width of a cell's widest figure, at its run's levels: fixed "
        f"{format_levels(cells[0])}, adaptive {format_levels(cells[1])}): "
        f"median fixed ±{fixed_w:.2%}, "
        f"adaptive ±{adapt_w:.2%} "
        + (f"against a ±{target:.0%} target" if target else "(no width asked: decisions only)")
        + "; adaptive as narrow or "
        f"narrower in {narrower} of {compared} cells with a figure",
        f"runs: {fixed_dir} (fixed), {adaptive_dir} (adaptive)",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
