"""How often the printed 95% intervals hold the figure they estimate: measured, not assumed.

``nox -s coverage-bench`` takes real runs measured on this project's machines (the frozen
histories in tests/data/), cuts them into passes, each pass holding one whole process of
every cell it measured, and draws simulated runs from them: whole passes, with
replacement, so that a process keeps its values and a pass keeps the drift its cells
shared. Each simulated run goes through the whole pipeline the report uses
(results.assemble_run, cells.summarize, verdicts.compare_run), and each figure's interval
is checked against the figure's truth: the same pipeline's point estimate on the whole
pool of passes, which is what a run drawn from that pool estimates.

The designs, each checked on three kinds of figure (a cell's speedup, its ratio to the
reference implementation, and the geometric means of the headline and of scaling):

- ``fixed``: every cell in each of P passes, as the quick (P = 3) and full profiles do;
- ``adaptive``: measured as run/adaptive.py measures: the pilot passes, then at each look
  the cells that undecided figures rest on, chosen by the very function the run calls
  (compare/sampling.py), within a budget, until every figure is decided: the stopping
  rule is part of the experiment, and the intervals are read at the levels its looks
  spent;
- ``A/A``: an exact twin of the reference implementation, its processes drawn from
  other passes than the reference's: every ratio between them is truly 1, and the share
  of intervals leaving 1 out is the false-verdict rate;
- ``A/A, decisions``: the free-threaded build replaced by a twin of the default build
  (the default build's processes from other passes), measured adaptively: the
  single-thread cost, each twin cell's ratio to the default build and the break-even
  against the default build's own threads are truly 1, and every "gains" or "loses"
  decided about them under the stopping rule is false (``Nulls``);
- ``effect``: one implementation's round times made 10% slower: the truth moves, and the
  share of intervals that see the change is the power.

The values within a process are kept as measured, so the number of values per process is
what the frozen runs took (3 in quick runs; 2 to 30, by Kalibera and Jones, in the
adaptive ones), not what a simulated allocation would choose.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyperf

from harness.compare.cells import Cells, summarize
from harness.compare.tally import Figure
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
# quick nightlies minutes apart; adaptive runs minutes apart; full runs 23 to 56 minutes apart
HISTORIES = (DATA / "history", DATA / "history-precise", DATA / "history-hours")
TWIN = "twin"  # the A/A twin of the reference implementation
EFFECT = 1.10  # the known effect: one implementation's round times 10% slower
# Cells with fewer processes in the pool are left out: drawn with replacement, a small pool
# repeats its processes within a simulated run, which narrows that run's intervals for a
# reason no real run has (a pool of 6 passes held its truth 69% of the time at 3).
MIN_POOL = 20
# The adaptive designs' budget, in full passes of every cell: about what the default 90
# minutes buy a quick selection on this project's 2-vCPU VMs (8-13 minutes for 3 passes).
BUDGET_PASSES = 20
MAX_PASSES = 40  # the adaptive designs' cap on passes, to bound the benchmark's own time
PROCESS_S = 1.0  # what starting and warming a process costs beside its values, roughly


@dataclass
class Pool:
    """The passes of one history's runs, and the manifest their simulated runs carry."""

    manifest: dict[str, Any]
    passes: list[Pass] = field(default_factory=list)
    # (an implementation, its A/A twin): each simulated pass draws the twin's processes
    # from a real pass of their own, apart from the implementation's (``draw``)
    twin: tuple[str, str] | None = None

    @functools.cached_property
    def cost(self) -> dict[CellKey, float]:
        """What a process of each cell costs, in seconds: the median over the pool of its
        values' and paired units' time, and PROCESS_S for its start."""
        found: dict[CellKey, list[float]] = {}
        for one in self.passes:
            for cell, (seconds, units) in one.items():
                spent = float(np.sum(seconds)) + (float(np.sum(units)) if units is not None else 0)
                found.setdefault(cell, []).append(spent)
        return {cell: PROCESS_S + float(np.median(spent)) for cell, spent in found.items()}

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
    """The pool with an A/A twin of the reference: the reference, measured at other
    moments, so every ratio between them is truly 1 (``twinned``)."""
    reference = summarize(simulate(pool, pool.passes[:2])).roles.reference
    manifest = dict(pool.manifest)
    record = next(i for i in manifest["impls"] if i["id"] == reference)
    manifest["impls"] = [*manifest["impls"], {**record, "id": TWIN, "family": TWIN}]
    manifest["plan"] = [*manifest["plan"], *([TWIN, *c[1:]] for c in manifest["plan"]
                                             if c[0] == reference)]  # fmt: skip
    return twinned(Pool(manifest, pool.passes), str(reference), TWIN, rng)


def with_default_twin(pool: Pool, rng: np.random.Generator) -> Pool:
    """The pool with the free-threaded build replaced by a twin of the default build
    (``twinned``): its single-thread cost, each of its cells' ratio to the default build
    and its threads against the default build's threads are truly 1. The manifest is
    unchanged, so the roles stay."""
    roles = summarize(simulate(pool, pool.passes[:2])).roles
    free_threaded, default = roles.free_threaded, roles.default
    if free_threaded is None or default is None:
        raise ValueError("the pool has no free-threaded build and default build to twin")
    passes = [{c: p for c, p in one.items() if c[0] != free_threaded} for one in pool.passes]
    return twinned(Pool(pool.manifest, passes), default, free_threaded, rng)


def twinned(pool: Pool, impl: str, twin: str, rng: np.random.Generator) -> Pool:
    """The pool with ``twin`` holding ``impl``'s processes, measured at other moments.

    A simulated pass takes the twin's processes from a real pass drawn apart from the one
    its other cells come from (``draw``): the two draws are alike and independent, so
    every ratio of the twin to ``impl`` is symmetric about 1 and its truth is exactly 1,
    whatever the estimator. The pool's own passes give the twin ``impl``'s processes of the
    next pass in a random cycle (none beside itself): what ``truths`` reads for the
    twin's other figures.
    """
    owning = [i for i, p in enumerate(pool.passes) if any(c[0] == impl for c in p)]
    order = [owning[int(i)] for i in rng.permutation(len(owning))]
    source = {a: b for a, b in zip(order, order[1:] + order[:1], strict=True)}
    passes = []
    for index, one in enumerate(pool.passes):
        other = pool.passes[source[index]] if index in source else {}
        passes.append({**one, **{(twin, *c[1:]): p for c, p in other.items() if c[0] == impl}})
    return Pool(pool.manifest, passes, (impl, twin))


def with_effect(pool: Pool, impl: str, factor: float = EFFECT) -> Pool:
    """The pool with ``impl``'s round times ``factor`` times longer (its serial units too:
    the implementation is slower, its parallel speedups unchanged)."""
    passes = [{c: ((s * factor, u if u is None else u * factor) if c[0] == impl else (s, u))
               for c, (s, u) in one.items()} for one in pool.passes]  # fmt: skip
    return Pool(pool.manifest, passes)


def draw(pool: Pool, rng: np.random.Generator) -> Pass:
    """One simulated pass: a real pass drawn at random, and for each cell it lacks (an
    adaptive run's later passes hold only some cells) that cell's process in another real
    pass drawn at random, so that every cell is in every simulated pass. An A/A twin's
    processes come from a real pass of their own, drawn the same way."""
    chosen = _draw(pool, rng)
    if pool.twin is not None:
        impl, twin = pool.twin
        apart = _draw(pool, rng)
        chosen.update({(twin, *c[1:]): p for c, p in apart.items() if c[0] == impl})
    return chosen


def _draw(pool: Pool, rng: np.random.Generator) -> Pass:
    chosen = dict(pool.passes[int(rng.integers(len(pool.passes)))])
    for cell, holding in pool.holding.items():
        if cell not in chosen:
            chosen[cell] = pool.passes[int(rng.choice(holding))][cell]
    return chosen


def simulate(pool: Pool, passes: Sequence[Pass], keep: Sequence[set[CellKey] | None] = (),
             profile: str = "quick") -> Run:  # fmt: skip
    """A run made of ``passes`` (pass k of the run is the k-th); ``keep`` limits a pass to
    some cells (None: all of them). ``profile``: "adaptive" reads the intervals at the
    levels a sequential run's looks spent, any other at 95%."""
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
    return assemble_run(Path("/simulated"), {**pool.manifest, "profile": profile},
                        pd.DataFrame(outcomes, columns=OUTCOME_COLUMNS),
                        pd.DataFrame(values, columns=VALUE_COLUMNS),
                        pd.DataFrame(paired, columns=PAIRED_COLUMNS))  # fmt: skip


def figures(
    cells: Cells, comparison: Comparison
) -> dict[Figure, tuple[float, float, float, float]]:
    """Every interval the report prints of the three kinds: (figure, low, high, level), its
    level the one it is stated at (95% in a fixed run; a sequential run's look's, and one
    of several simultaneous intervals' share where a figure was picked among candidates)."""
    found: dict[Figure, tuple[float, float, float, float]] = {}
    for row in records(cells.table[cells.table["status"] == "ok"]):
        name = f"{row['impl']} {row['workload']}/{row['model']}/{row['workers']}"
        for kind in ("speedup", "vs_ref"):
            value = float(row[kind])
            low, high = float(row[f"{kind}_ci_low"]), float(row[f"{kind}_ci_high"])
            level = float(row[f"{kind}_level"])
            if not (math.isnan(value) or (row["model"] == "serial" and kind == "speedup")):
                found[(kind, name)] = (value, low, high, level)
    for row in records(comparison.scaling):
        if not math.isnan(row["ratio"]) and "," in str(row["workloads"]):
            found[("geomean", f"{row['impl']} {row['category']} scaling")] = _stated(row)
    overhead = records(comparison.overhead)
    if len(overhead) > 2 and not math.isnan(overhead[-1]["ratio"]):  # workloads, then the mean
        found[("geomean", "overhead")] = _stated(overhead[-1])
    for row in records(comparison.geomeans):
        if not math.isnan(row["ratio"]) and int(row["workloads"]) > 1:
            found[("headline", f"{row['impl']}")] = _stated(row)
    return found


def _stated(row: dict[str, Any]) -> tuple[float, float, float, float]:
    """A comparison row's figure and interval, at the level of the one interval it is: its
    ``confidence`` holds its ``candidates`` together (rows.py)."""
    share = (1 - float(row["confidence"])) / max(1, int(row["candidates"]))
    return float(row["ratio"]), float(row["ci_low"]), float(row["ci_high"]), 1 - share


def truths(pool: Pool) -> dict[Figure, float]:
    """Each figure's value on the whole pool: what the simulated runs estimate."""
    cells = summarize(simulate(pool, pool.passes))
    return {k: v[0] for k, v in figures(cells, compare_run(cells)).items()}


QUICK, ADAPTIVE, AA, AA_ADAPTIVE, AA_DECISIONS = (
    "fixed, 3 passes (quick)", "adaptive, decisions", "A/A twin, 3 passes",
    "A/A twin, adaptive", "A/A default twin, adaptive",
)  # fmt: skip
DESIGNS = (QUICK, "fixed, 10 passes", ADAPTIVE, AA, AA_ADAPTIVE, AA_DECISIONS,
           "10% slower, 3 passes")  # fmt: skip
