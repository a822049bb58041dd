"""How often the printed 95% intervals hold the figure they estimate: measured, not assumed.

``nox -s coverage-bench`` takes real runs measured on this project's machines (the frozen
histories in tests/data/), cuts them into passes, each pass holding one whole process of
every cell it measured, and draws simulated runs from them: whole passes, with
replacement, so that a process keeps its values and a pass keeps the drift its cells
shared. Each simulated run goes through the whole pipeline the report uses
(results.assemble_run, cells.summarize, verdicts.compare_run), and each figure's interval
is checked against the figure's truth: the same pipeline's point estimate on the whole
pool of passes, which is what a run drawn from that pool estimates.

Three designs are drawn, each for three kinds of figure (a cell's speedup, its ratio to
the reference implementation, and the geometric means of the headline and of scaling):

- ``fixed``: every cell in each of P passes, as the quick (P = 3) and full profiles do;
- ``adaptive``: the pilot passes, then passes holding only the cells short of the goal
  the pilot fixed for them (as run/adaptive.py measures), until none is or the pass cap
  is reached: the stopping rule is part of the experiment;
- ``A/A``: an exact twin of the reference implementation, its processes drawn from
  other passes than the reference's: every ratio between them is truly 1, and the share
  of intervals leaving 1 out is the false-verdict rate;
- ``effect``: one implementation's round times made 10% slower: the truth moves, and the
  share of intervals that see the change is the power.

The values within a process are kept as measured, so the number of values per process is
what the frozen runs took (3 in quick runs; 2 to 30, by Kalibera and Jones, in the
adaptive ones), not what a simulated allocation would choose.
"""

from __future__ import annotations

import argparse
import functools
import json
import math
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyperf

from harness.compare.cells import Cells, summarize
from harness.compare.precision import needing
from harness.compare.verdicts import Comparison, compare_run
from harness.results import (
    CELL,
    OUTCOME_COLUMNS,
    PAIRED_COLUMNS,
    VALUE_COLUMNS,
    Run,
    assemble_run,
    records,
)

CellKey = tuple[str, str, str, int]
# One process of a cell: its round times and the serial units paired with them (or None).
Process = tuple[np.ndarray, np.ndarray | None]
Pass = dict[CellKey, Process]
DATA = Path(__file__).resolve().parents[2] / "tests" / "data"
# quick nightlies minutes apart; adaptive runs minutes apart; full runs 40 minutes apart
HISTORIES = (DATA / "history", DATA / "history-precise", DATA / "history-hours")
TWIN = "twin"  # the A/A twin of the reference implementation
EFFECT = 1.10  # the known effect: one implementation's round times 10% slower
# Cells with fewer processes in the pool are left out: drawn with replacement, a small pool
# repeats its processes within a simulated run, which narrows that run's intervals for a
# reason no real run has (a pool of 6 passes held its truth 69% of the time at 3).
MIN_POOL = 20
TARGET = 0.02  # the adaptive design's precision, the default profile's
MAX_PASSES = 30  # the adaptive design's cap on passes


@dataclass
class Pool:
    """The passes of one history's runs, and the manifest their simulated runs carry."""

    manifest: dict[str, Any]
    passes: list[Pass] = field(default_factory=list)

    @functools.cached_property
    def holding(self) -> dict[CellKey, list[int]]:
        """Each cell and the passes that hold a process of it."""
        found: dict[CellKey, list[int]] = {}
        for index, one in enumerate(self.passes):
            for cell in one:
                found.setdefault(cell, []).append(index)
        return found


def _frozen_processes(run_dir: Path) -> Iterator[tuple[int, CellKey, np.ndarray, str]]:
    """(pass, cell, round times, pairing token) for every process of a frozen history run.

    A run kept since gilbench 0.3 names each value's pass and process. An older one that
    kept its raw pyperf files gives one pyperf run per process; their order is
    the order of the cell's attempts that ended ok, whose outcome lines give the pass.
    Without them (older runs of a history), values.parquet holds each cell's values in the
    same order, three to a process in the quick runs, which is all that is read that way.
    """
    values = pd.read_parquet(run_dir / "values.parquet")
    if "pass" in values.columns:  # a history kept since gilbench 0.3: (pass, process) given
        for key, group in values.groupby([*CELL, "pass", "process"], sort=False):
            yield (int(str(key[4])), _key(key), group["seconds"].to_numpy(dtype=float),
                   str(group["pairing"].iloc[0]))  # fmt: skip
        return
    outcomes = pd.read_parquet(run_dir / "outcomes.parquet")
    ok = outcomes[outcomes["status"] == "ok"]
    passes = {_key(k): list(g["pass"]) for k, g in ok.groupby(CELL, sort=False)}
    raw = sorted((run_dir / "raw").glob("*.json"))
    if raw:
        for path in raw:
            for bench in pyperf.BenchmarkSuite.load(str(path)).get_benchmarks():
                runs = [r for r in bench.get_runs() if r.values]
                meta = runs[0].get_metadata()
                cell = (str(meta["gilbench_impl"]), *bench.get_name().split("/")[:2],
                        int(bench.get_name().split("/")[2]))  # fmt: skip
                for number, one in zip(passes[cell], runs, strict=True):
                    token = str(one.get_metadata().get("gilbench_pairing", ""))
                    yield int(number), cell, np.array(one.values, dtype=float), token
        return
    for key, group in values.groupby(CELL, sort=False):
        cell = _key(key)
        seconds = group["seconds"].to_numpy(dtype=float)
        if len(seconds) != 3 * len(passes[cell]):
            continue  # not three values a process: where one process ends is not known
        tokens = group["pairing"].astype(str).to_numpy()
        for index, number in enumerate(passes[cell]):
            part = slice(3 * index, 3 * index + 3)
            yield int(number), cell, seconds[part], str(tokens[part][0])


def _key(key: Any) -> CellKey:
    return (str(key[0]), str(key[1]), str(key[2]), int(key[3]))


def load_pool(history: Path) -> Pool:
    """Every pass of every run of ``history``, each a cell -> process mapping."""
    pool: Pool | None = None
    for run_dir in sorted((history / "runs").iterdir()):
        manifest = json.loads((run_dir / "manifest.json").read_text())
        paired = pd.read_parquet(run_dir / "paired.parquet")
        units = {str(t): g.sort_values("value")["seconds"].to_numpy(dtype=float)
                 for t, g in paired.groupby("pairing") if str(t)}  # fmt: skip
        found: dict[int, Pass] = {}
        for number, cell, seconds, token in _frozen_processes(run_dir):
            unit = units.get(token)
            found.setdefault(number, {})[cell] = (
                seconds,
                unit if unit is not None and len(unit) == len(seconds) else None,
            )
        if pool is None:
            pool = Pool(manifest)
        pool.passes.extend(found[n] for n in sorted(found))
    if pool is None:
        raise ValueError(f"{history} holds no runs")
    kept = {c for c, holding in pool.holding.items() if len(holding) >= MIN_POOL}
    passes = [{c: p for c, p in one.items() if c in kept} for one in pool.passes]
    return Pool(pool.manifest, [p for p in passes if p])


def with_twin(pool: Pool, rng: np.random.Generator) -> Pool:
    """The pool with an A/A twin of the reference: in each pass, the twin's processes are
    the reference's from another pass: the twin is the reference, measured at other
    moments, so every ratio between them is truly 1."""
    reference = summarize(simulate(pool, pool.passes[:2])).roles.reference
    manifest = dict(pool.manifest)
    record = next(i for i in manifest["impls"] if i["id"] == reference)
    manifest["impls"] = [*manifest["impls"], {**record, "id": TWIN, "family": TWIN}]
    manifest["plan"] = [*manifest["plan"], *([TWIN, *c[1:]] for c in manifest["plan"]
                                             if c[0] == reference)]  # fmt: skip
    owning = [i for i, p in enumerate(pool.passes) if any(c[0] == reference for c in p)]
    # each pass takes the reference's processes of the next pass in a random cycle: the
    # twin holds exactly the reference's processes, none of them beside itself
    order = [owning[int(i)] for i in rng.permutation(len(owning))]
    source = {a: b for a, b in zip(order, order[1:] + order[:1], strict=True)}
    passes = []
    for index, one in enumerate(pool.passes):
        other = pool.passes[source[index]] if index in source else {}
        twin = {(TWIN, *c[1:]): p for c, p in other.items() if c[0] == reference}
        passes.append({**one, **twin})
    return Pool(manifest, passes)


def with_effect(pool: Pool, impl: str, factor: float = EFFECT) -> Pool:
    """The pool with ``impl``'s round times ``factor`` times longer (its serial units too:
    the implementation is slower, its parallel speedups unchanged)."""
    passes = [{c: ((s * factor, u if u is None else u * factor) if c[0] == impl else (s, u))
               for c, (s, u) in one.items()} for one in pool.passes]  # fmt: skip
    return Pool(pool.manifest, passes)


def draw(pool: Pool, rng: np.random.Generator) -> Pass:
    """One simulated pass: a real pass drawn at random, and for each cell it lacks (an
    adaptive run's later passes hold only some cells) that cell's process in another real
    pass drawn at random, so that every cell is in every simulated pass."""
    chosen = dict(pool.passes[int(rng.integers(len(pool.passes)))])
    for cell, holding in pool.holding.items():
        if cell not in chosen:
            chosen[cell] = pool.passes[int(rng.choice(holding))][cell]
    return chosen


def simulate(pool: Pool, passes: Sequence[Pass], keep: Sequence[set[CellKey] | None] = ()) -> Run:
    """A run made of ``passes`` (pass k of the run is the k-th); ``keep`` limits a pass to
    some cells (None: all of them)."""
    values: list[dict[str, Any]] = []
    paired: list[dict[str, Any]] = []
    outcomes: list[dict[str, Any]] = []
    for number, drawn in enumerate(passes, start=1):
        cells = keep[number - 1] if number - 1 < len(keep) else None
        for cell, (seconds, unit) in drawn.items():
            if cells is not None and cell not in cells:
                continue
            token = f"p{number}" if unit is not None else ""
            base = dict(zip(CELL, cell, strict=True))
            outcomes.append({**base, "pass": number, "status": "ok", "detail": "",
                             "elapsed_s": 1.0})  # fmt: skip
            values.extend({**base, "gil_enabled": 1, "pass": number, "process": 0,
                           "value": i, "seconds": s, "cpu_count": 2, "cpus": 2,
                           "oversubscribed": False, "checksum": "1", "pairing": token}
                          for i, s in enumerate(seconds))  # fmt: skip
            if unit is not None:
                paired.extend({**base, "pairing": token, "value": i, "seconds": u}
                              for i, u in enumerate(unit))  # fmt: skip
    return assemble_run(Path("/simulated"), pool.manifest,
                        pd.DataFrame(outcomes, columns=OUTCOME_COLUMNS),
                        pd.DataFrame(values, columns=VALUE_COLUMNS),
                        pd.DataFrame(paired, columns=PAIRED_COLUMNS))  # fmt: skip


Figure = tuple[str, str]  # (kind, which): e.g. ("speedup", "3.14t nbody/threads/2")


def figures(cells: Cells, comparison: Comparison) -> dict[Figure, tuple[float, float, float]]:
    """Every interval the report prints of the three kinds: (figure, low, high)."""
    found: dict[Figure, tuple[float, float, float]] = {}
    for row in records(cells.table[cells.table["status"] == "ok"]):
        name = f"{row['impl']} {row['workload']}/{row['model']}/{row['workers']}"
        for kind in ("speedup", "vs_ref"):
            value = float(row[kind])
            low, high = float(row[f"{kind}_ci_low"]), float(row[f"{kind}_ci_high"])
            if not (math.isnan(value) or (row["model"] == "serial" and kind == "speedup")):
                found[(kind, name)] = (value, low, high)
    for row in records(comparison.scaling):
        if not math.isnan(row["ratio"]) and "," in str(row["workloads"]):
            found[("geomean", f"{row['impl']} {row['category']} scaling")] = (
                row["ratio"], row["ci_low"], row["ci_high"])  # fmt: skip
    overhead = records(comparison.overhead)
    if len(overhead) > 2 and not math.isnan(overhead[-1]["ratio"]):  # workloads, then the mean
        found[("geomean", "overhead")] = (overhead[-1]["ratio"], overhead[-1]["ci_low"],
                                          overhead[-1]["ci_high"])  # fmt: skip
    for row in records(comparison.geomeans):
        if not math.isnan(row["ratio"]) and int(row["workloads"]) > 1:
            found[("headline", f"{row['impl']}")] = (row["ratio"], row["ci_low"], row["ci_high"])
    return found


def truths(pool: Pool) -> dict[Figure, float]:
    """Each figure's value on the whole pool: what the simulated runs estimate."""
    cells = summarize(simulate(pool, pool.passes))
    return {k: v[0] for k, v in figures(cells, compare_run(cells)).items()}


@dataclass
class Tally:
    """Intervals checked and how many held the truth, per kind of figure."""

    held: dict[str, int] = field(default_factory=dict)
    checked: dict[str, int] = field(default_factory=dict)
    decided: dict[str, int] = field(default_factory=dict)  # intervals leaving 1 out

    def add(self, found: dict[Figure, tuple[float, float, float]], truth: dict[Figure, float],
            only: str | None = None) -> None:  # fmt: skip
        for figure, (_, low, high) in found.items():
            if figure not in truth or (only is not None and only not in figure[1]):
                continue
            if math.isnan(low) or math.isnan(high):
                continue
            kind = figure[0]
            self.checked[kind] = self.checked.get(kind, 0) + 1
            self.held[kind] = self.held.get(kind, 0) + int(low <= truth[figure] <= high)
            self.decided[kind] = self.decided.get(kind, 0) + int(low > 1 or high < 1)

    def coverage(self, kind: str) -> float:
        return self.held.get(kind, 0) / self.checked[kind] if self.checked.get(kind) else math.nan


def fixed(pool: Pool, passes: int, runs: int, rng: np.random.Generator) -> Iterator[Cells]:
    for _ in range(runs):
        yield summarize(simulate(pool, [draw(pool, rng) for _ in range(passes)]))


def adaptive(pool: Pool, runs: int, rng: np.random.Generator,
             target: float = TARGET) -> Iterator[Cells]:  # fmt: skip
    """Runs measured as run/adaptive.py measures them: the pilot passes of every cell, then
    each cell's goal fixed from them (allocation.goals), then passes of the cells short of
    their goal until none is or MAX_PASSES is reached."""
    from harness.run.allocation import MIN_PASSES, goals

    for _ in range(runs):
        drawn = [draw(pool, rng) for _ in range(MIN_PASSES)]
        keep: list[set[CellKey] | None] = [None] * MIN_PASSES
        cells = summarize(simulate(pool, drawn, keep))
        counts = {c: MIN_PASSES for c in cells.flags}
        goal = goals(needing(cells.table, target, cells.speedup, cells.vs_ref), counts)
        while len(drawn) < MAX_PASSES:
            short = {c for c, g in goal.items() if counts.get(c, 0) < g}
            if not short:
                break
            drawn.append(draw(pool, rng))
            keep.append(short)
            counts.update({c: counts.get(c, 0) + 1 for c in short})
        yield summarize(simulate(pool, drawn, keep))


QUICK, ADAPTIVE, AA, AA_ADAPTIVE = ("fixed, 3 passes (quick)", "adaptive to ±2%",
                                   "A/A twin, 3 passes", "A/A twin, adaptive")  # fmt: skip
DESIGNS = (QUICK, "fixed, 10 passes", ADAPTIVE, AA, AA_ADAPTIVE, "10% slower, 3 passes")


def bench(pools: Sequence[Pool], runs: int, seed: int = 20261204,
          designs: Sequence[str] = DESIGNS) -> dict[str, Tally]:  # fmt: skip
    """Coverage of each of ``designs`` over every pool."""
    rng = np.random.default_rng(seed)
    tallies: dict[str, Tally] = {}
    for pool in pools:
        twin = with_twin(pool, rng)
        roles = summarize(simulate(pool, pool.passes[:2])).roles
        others = sorted({c[0] for p in pool.passes for c in p} - {roles.reference})
        slower = with_effect(pool, roles.free_threaded or others[0])
        every: dict[str, tuple[Pool, int, str | None]] = {  # passes 0: adaptive
            QUICK: (pool, 3, None),
            "fixed, 10 passes": (pool, 10, None),
            ADAPTIVE: (pool, 0, None),
            AA: (twin, 3, TWIN),
            AA_ADAPTIVE: (twin, 0, TWIN),
            "10% slower, 3 passes": (slower, 3, None),
        }
        for name in designs:
            chosen, passes, only = every[name]
            truth = truths(chosen)
            tally = tallies.setdefault(name, Tally())
            drawn = fixed(chosen, passes, runs, rng) if passes else adaptive(chosen, runs, rng)
            for cells in drawn:
                tally.add(figures(cells, compare_run(cells)), truth, only)
    return tallies


def format_tallies(tallies: dict[str, Tally]) -> str:
    kinds = ("speedup", "vs_ref", "geomean", "headline")
    lines = [f"{'design':28} " + " ".join(f"{k:>20}" for k in kinds)]
    for name, tally in tallies.items():
        cells = [f"{tally.coverage(k):7.1%} of {tally.checked.get(k, 0):5d}" if tally.checked.get(k)
                 else f"{'-':>20}" for k in kinds]  # fmt: skip
        lines.append(f"{name:28} " + " ".join(f"{c:>20}" for c in cells))
    return "\n".join(lines)


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
    print("Share of nominal 95% intervals that held the figure's truth (of how many):")
    print(format_tallies(tallies))
    for name, tally in tallies.items():
        if name.startswith("A/A"):
            print(f"{name}: {tally.decided.get('vs_ref', 0)} of {tally.checked.get('vs_ref', 0)}"
                  " twin-against-reference ratios left out 1 (false verdicts)")  # fmt: skip
        if name.startswith("10%"):
            seen = tally.decided.get("vs_ref", 0)
            print(f"{name}: {seen} of {tally.checked.get('vs_ref', 0)} ratios to the "
                  "reference left out 1")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
