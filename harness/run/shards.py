"""Split the matrix into shards for many machines, and estimate what each shard costs.

A shard holds whole workloads: every cell of a workload (each implementation, model and
worker count) is measured by one machine in one run. Every ratio the report states is
taken within one workload (a speedup against the same implementation's serial cell, one
implementation against another at the same model and workers), so no ratio ever mixes
two machines, and interleaving within a shard works as it does in a single run.

Workloads go to shards by their number of cells, largest first, each to the shard with
the fewest cells so far (ties by name): a function of the selection alone, so the plan
job and every measure job of a nightly agree on it without talking to each other.
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from harness import store
from harness.run.plan import Bench, Profile

# Seconds a benchmark takes in one pass, (first pass, any later pass), by family, when no
# earlier run says better. Medians of the frozen quick run (tests/data/runs/quick: a 2-vCPU
# VM, 2026-12-01). The first pass is dearer: pyperf calibrates the loops, and a JIT's
# warm-ups where the profile doesn't fix them (the full profile: much dearer on PyPy and
# Jython; measure one and pass it with --costs).
# GraalPy's: seconds per JVM a pass starts (see OWN_RUNTIME), the medians of its cells in a
# quick nightly of nbody and io_sleep on this VM, 2026-12-04 (docs/measurements.md,
# "GraalPy in the nightly"); its later passes were no cheaper than its first.
DEFAULT_COSTS = {"cpython": (2.6, 2.4), "pypy": (6.6, 5.6), "jython": (13.2, 8.2),
                 "graalpy": (22.2, 25.5)}  # fmt: skip
JVM_LIKE = (13.2, 8.2)  # IronPython starts a runtime of its own, as Jython does
# Families each of whose processes starts a runtime of its own: GraalPy's JVM takes 7-8 s
# to start with its JIT on, then warms that JIT up again, so a model whose workers are
# processes (SPAWNING) pays that once per worker too, each pass: a GraalPy cell of
# processes at 4 workers costs about 5 of its serial cells.
OWN_RUNTIME = ("graalpy", "jython", "ironpython")
SPAWNING = ("processes", "processes-shm", "processpool", "processpool-chunked")
# A shard that measures GraalPy provisions it first: 26 jars from Maven (16 s here) and
# the launcher's first JVM start with the JIT (8 s), with room for a slower mirror.
GRAALPY_SETUP_S = 60.0
# Setting up a fresh machine: two CPython builds (5m43s and 6m24s on the slowest 2-vCPU VM
# seen), apt for PyPy and Jython, a venv each. A restored build cache saves most of it.
SETUP_S = 14 * 60.0
# GitHub-hosted runners end a job after 360 minutes; leave room for uploads.
JOB_LIMIT_S = 350 * 60.0


class ShardError(Exception):
    """A shard that can't be had from the selection; the message says what can."""


def parse_shard(text: str) -> tuple[int, int]:
    """``2/5`` -> (2, 5); anything else is a ShardError that says what is wanted."""
    try:
        index, total = (int(part) for part in text.split("/"))
    except ValueError:
        raise ShardError(f"--shard takes K/N, e.g. 2/5, not {text!r}") from None
    if not 1 <= index <= total:
        raise ShardError(f"--shard {text}: K must be between 1 and N")
    return index, total


def assign(benches: Sequence[Bench], shards: int) -> dict[str, int]:
    """Workload -> shard (1..n), balancing the cells each shard measures."""
    cells: dict[str, int] = {}
    for bench in benches:
        cells[bench.workload.name] = cells.get(bench.workload.name, 0) + 1
    return assign_workloads(cells, shards)


def assign_workloads(cells: Mapping[str, int], shards: int) -> dict[str, int]:
    """Workload -> shard (1..n), given each workload's number of cells."""
    if shards > len(cells):
        raise ShardError(
            f"{shards} shards for {len(cells)} workloads: a shard holds whole workloads, "
            f"so choose --shards {len(cells)} or fewer"
        )
    load = [0] * shards
    owner: dict[str, int] = {}
    for workload in sorted(cells, key=lambda w: (-cells[w], w)):
        index = min(range(shards), key=lambda k: (load[k], k))
        owner[workload] = index + 1
        load[index] += cells[workload]
    return owner


def shard(benches: Sequence[Bench], index: int, owner: Mapping[str, int]) -> list[Bench]:
    """The benchmarks of shard ``index`` under the assignment ``owner``, in the plan's order."""
    return [b for b in benches if owner[b.workload.name] == index]


@dataclass(frozen=True)
class Costs:
    """Seconds per benchmark pass, (first pass, later passes), by implementation."""

    by_impl: Mapping[str, tuple[float, float]]
    source: str  # where the figures come from, for the plan's reader

    def of(self, bench: Bench) -> tuple[float, float]:
        """Seconds of ``bench``'s first pass and of a later one: its implementation's
        figures, once per runtime the pass starts (runtimes)."""
        if bench.impl.id in self.by_impl:
            first, later = self.by_impl[bench.impl.id]
        else:
            first, later = DEFAULT_COSTS.get(bench.impl.family, JVM_LIKE)
        starts = runtimes(bench)
        return first * starts, later * starts


def runtimes(bench: Bench) -> int:
    """The runtimes one pass of ``bench`` starts: its own process's, and on a family of
    OWN_RUNTIME one per worker of a SPAWNING model."""
    if bench.impl.family in OWN_RUNTIME and bench.model in SPAWNING:
        return 1 + bench.workers
    return 1


def load_costs(run_dir: Path | None) -> Costs:
    """Per-implementation medians of a finished run's benchmark times; else the defaults."""
    if run_dir is None or not store.outcomes_path(run_dir).is_file():
        return Costs({}, "defaults: the medians of a quick run on a 2-vCPU VM")
    times: dict[tuple[str, bool], list[float]] = {}
    for line in store.outcomes_path(run_dir).read_text().splitlines():
        try:
            record = json.loads(line)
            if record["status"] == "ok":
                key = (str(record["impl"]), int(record["pass"]) == 1)
                times.setdefault(key, []).append(float(record["elapsed_s"]))
        except (ValueError, KeyError, TypeError):
            continue  # a torn line costs nothing here; the report names it
    impls = {impl for impl, _ in times}
    by_impl = {
        impl: (
            statistics.median(times.get((impl, True)) or times[(impl, False)]),
            statistics.median(times.get((impl, False)) or times[(impl, True)]),
        )
        for impl in impls
    }
    return Costs(by_impl, f"measured: {store.outcomes_path(run_dir)}")


def estimate_s(benches: Iterable[Bench], profile: Profile, costs: Costs) -> float:
    """Seconds to measure ``benches`` (available ones) over every pass of ``profile``; a
    budget caps it (the adaptive profile's passes go on until it is spent, if need be)."""
    total = 0.0
    for bench in benches:
        if bench.impl.available:
            first, later = costs.of(bench)
            total += first + later * (profile.passes - 1)
    return min(total, profile.budget_s or total)


def plan_shards(
    benches: Sequence[Bench], shards: int, profile: Profile, costs: Costs,
    limit_s: float = JOB_LIMIT_S,
) -> dict[str, object]:  # fmt: skip
    """What ``compare --plan --shards N --json`` prints: the shards, their cells and times."""
    owner = assign(benches, shards)
    rows = []
    for index in range(1, shards + 1):
        mine = shard(benches, index, owner)
        measure = estimate_s(mine, profile, costs)
        setup = SETUP_S + (GRAALPY_SETUP_S if any(b.impl.family == "graalpy" and b.impl.available
                                                  for b in mine) else 0.0)  # fmt: skip
        rows.append({
            "shard": f"{index}/{shards}", "index": index, "of": shards,
            "name": f"shard-{index}-of-{shards}",
            "workloads": sorted({b.workload.name for b in mine}),
            "cells": len(mine), "measured_cells": sum(b.impl.available for b in mine),
            "estimate_s": round(measure), "with_setup_s": round(measure + setup),
            "over_limit": measure + setup > limit_s,
        })  # fmt: skip
    over = [r["shard"] for r in rows if r["over_limit"]]
    note = (
        f"shards {', '.join(map(str, over))} may outlast a job's {limit_s / 60:.0f} minutes: "
        "ask for more shards, or fewer passes" if over else ""
    )  # fmt: skip
    return {
        "shards": rows, "cells": len(benches), "profile": profile.name,
        "passes": profile.passes, "costs": costs.source, "setup_s": SETUP_S,
        "limit_s": limit_s, "note": note,
    }  # fmt: skip
