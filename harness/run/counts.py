"""Instructions per unit of each serial cell, counted under valgrind's cachegrind.

On a shared machine a unit's wall time moves by percents from one minute to the next; the
instructions it executes hardly move (issue 26). For each serial/1 cell, inside/counter.py
runs under ``valgrind --tool=cachegrind --cache-sim=no`` with the interpreter, flags and
environment the timed runs use: once for N units and once for N+k, each after the same
warm-up round, and each leaving without finalizing the interpreter. (I(N+k) - I(N)) / k
is the count per unit: start-up, imports and the warm-up, the same in both runs, cancel;
N (``first_units``) is large enough that what the first units do once cancels too. That
pair of runs is one repeat. A cell gets R of them, each under a hash seed of its own (the
same seed in both of its runs), as pyperf runs each process under its own, so the spread
over repeats is the count's real spread. Under one seed, a unit that computes gave the
same total to the instruction here; io_sleep's units, which wait, moved by up to 16
instructions a unit of 30 K (the allocator purges on a timer).

Before the valgrind runs, one run outside valgrind checks the cell (checksum, GIL state)
in a fraction of a second, writes the .pyc files of inside/ that both counted runs then
read alike, and times a unit: k is sized from its CPU time so the k units take seconds
under valgrind, and hold enough instructions that the odd collection is lost in them
(``units_for``). A unit that mostly waits gets as many units as 16 s of waiting hold
(MAX_WAIT_S), its repeats run side by side. A JIT (PyPy) compiles its hot loops during its
first units, and timed values come after its warm-ups: there N is k too, so the units
counted run compiled code. PyPy runs under valgrind at CPython's cost: a run of tiny.py
took 2.2 s counted against 0.06 s natively here, start-up included.

counts.jsonl gets one line per counted cell per repeat (one line for a cell not counted,
with why), written once when counting ends (store.write_atomic); results.load_counts
reads it back and ``summarize`` turns its lines into each cell's figure.

What a count is not: valgrind runs one thread at a time, so it says nothing of
parallelism; it counts instructions, not cycles, so cache misses, atomic operations'
cost and the clock's frequency are outside it. valgrind also presents a CPU of its own,
without some of the machine's extensions (3.19 has no AVX-512), so C code that picks its
path by CPU (OpenSSL's hashes, zlib) may take another path when counted than when timed.
"""

from __future__ import annotations

import json
import math
import statistics
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

import pandas as pd

from harness import store
from harness.provision.valgrind import Valgrind, probe_valgrind
from harness.results import records
from harness.run import cachegrind
from harness.run.plan import Bench, Profile

# The spread over repeats needs some: 3 states a coefficient of variation, instructions-
# bench takes 5.
REPEATS = 3
MIN_REPEATS = 3
# N, the first run's units after the warm-up round: at least FIRST_UNITS, and at least a
# FIRST_SHARE of k. What the first units do once (fill caches, specialize code, take the
# allocator's pages) must be done in both runs by the time they end, for it to cancel.
# io_sleep on 3.14t, 5 hash seeds twice each, k = 194: with N = 1 or 5 the count per unit
# moved by 0.11% (CV) with the seed, the first run's type-cache misses and dict lookups
# differing by seed; with N = 13, 0.02%. So N is one unit where a unit computes (k is 1
# or a few), and 13 of io_sleep's, for 6% more counted units.
FIRST_UNITS = 1
FIRST_SHARE = 16
# Native CPU seconds the k extra units should take. cachegrind without its cache
# simulation ran an nbody unit 35x slower here (54 ms against ~1.9 s), so k units take
# ~2 s of CPU counted, and hold 10^8 instructions or more.
TARGET_CPU_S = 0.05
# Seconds the k units may wait (sleep, I/O), which take as long counted as not. A unit
# that mostly waits holds few instructions (io_sleep: about 30 K), so what isn't a unit
# weighs on its count. On 3.14t (cachegrind's per-function totals, k = 194) three things
# moved it by 0.1% to 0.3%, and each is now out of the count: a unit's own hasattr misses
# in the workload's dict, whose probes depend on the hash seed (inside/gbunits.runner
# looks them up once a run of units); the first run ending before the units' caches had
# settled (FIRST_SHARE); and the interpreter's finalization, where mimalloc's purges
# depend on when the last waits ended (inside/counter.py leaves by os._exit). More units
# had not quieted them: with 60 s of waiting (k about 700) the CV was still 0.07% to
# 0.13%, at four times the counting time.
MAX_WAIT_S = 16.0
MAX_MORE_UNITS = 1000  # k at most
# A unit whose native CPU time is under this share of its wall time mostly waits: its
# repeats run side by side, each a process that sleeps most of the time, so that a
# count takes one repeat's wall time rather than R of them.
WAITING = 0.5
# Native CPU seconds a waiting unit's k units may take: io_sleep's 194 take 0.07 s, a few
# seconds counted; a unit that waits less but computes more gets fewer.
MAX_WAITING_CPU_S = 0.5
# Tries of a repeat whose runs' start-ups collected garbage unlike (count_repeat). In one
# of four batches of 10 io_sleep counts side by side on 2 cores, 5 of 10 repeats of 3.14t
# had one run 5.2 M instructions short at start-up: one collection of 3.14t's cyclic
# collector (cachegrind's per-function totals), moving the count per unit by 26 K (of
# 30 K). Under 3 or 5 side by side, as counts run, none in 70 repeats.
START_UP_TRIES = 3
NOT_COUNTED = "not counted"
JVM_FAMILIES = ("jython", "graalpy")


@dataclass(frozen=True)
class Repeat:
    """One repeat of a cell's count: the runs of N and of N+k units; a line of counts.jsonl."""

    impl: str
    workload: str
    repeat: int  # 1..R; 0 on the one line of a cell that wasn't counted
    status: str  # "ok", NOT_COUNTED, or the failure's status word (harness.status)
    detail: str = ""
    hash_seed: int = 0  # PYTHONHASHSEED of both runs
    units: tuple[int, ...] = ()  # (N, N+k)
    instructions: tuple[int, ...] = ()  # of the run of N units, then of N+k
    valgrind: str = ""  # valgrind --version
    elapsed_s: float = 0.0  # wall seconds of both runs
    checksum: str = ""  # what the units returned, checked against CHECKSUM
    gil_enabled: int | None = None  # in force during the counted runs

    @property
    def per_unit(self) -> float:
        """Instructions per unit: the difference between the two runs over k."""
        if self.status != "ok" or len(self.units) != 2 or len(self.instructions) != 2:
            return math.nan
        return (self.instructions[1] - self.instructions[0]) / (self.units[1] - self.units[0])


@dataclass(frozen=True)
class Count:
    """A serial cell's instructions per unit over its repeats, or why it has none."""

    impl: str
    workload: str
    status: str  # "ok", NOT_COUNTED, or the failure's status word
    detail: str  # why there is no count; or, with one, repeats whose start-ups never agreed
    per_unit: float  # mean over the repeats; NaN without a count
    stdev: float  # sample standard deviation over the repeats; NaN under 2
    repeats: int  # repeats counted
    elapsed_s: float  # wall seconds of every counted run
    valgrind: str

    @property
    def cv(self) -> float:
        """The coefficient of variation over the repeats."""
        return self.stdev / self.per_unit if self.per_unit else math.nan


def not_counted(bench: Bench) -> str:
    """Why ``bench``'s serial cell gets no count; empty if it gets one."""
    impl = bench.impl
    if impl.family in JVM_FAMILIES:
        return (f"{impl.id} runs on a JVM, whose JIT compiler and garbage collector threads "
                "valgrind would count with the units, one thread at a time")  # fmt: skip
    if impl.family == "ironpython":
        return (f"{impl.id} runs on .NET, whose JIT compiler and garbage collector threads "
                "valgrind would count with the units, one thread at a time")  # fmt: skip
    if bench.workload.kind == "pyperf":
        return "a pyperf script times its own loops; gilbench can't run it for N units"
    return ""


def units_for(seconds: float, cpu_seconds: float) -> int:
    """k, from one unit's native wall and CPU seconds (1 to MAX_MORE_UNITS): the units
    whose CPU time is about TARGET_CPU_S, as long as their waiting stays within
    MAX_WAIT_S; for a unit that mostly waits (``WAITING``), as many as MAX_WAIT_S of
    waiting holds, their CPU time within MAX_WAITING_CPU_S."""
    wait = max(seconds - cpu_seconds, 0.0)
    by_wait = math.floor(MAX_WAIT_S / wait) if wait > 0 else MAX_MORE_UNITS
    if cpu_seconds <= 0:  # no CPU time measured: only the waiting bounds k
        return max(1, min(MAX_MORE_UNITS, by_wait))
    if cpu_seconds < WAITING * seconds:
        by_cpu = math.floor(MAX_WAITING_CPU_S / cpu_seconds)
    else:
        by_cpu = math.ceil(TARGET_CPU_S / cpu_seconds)
    return max(1, min(MAX_MORE_UNITS, by_cpu, by_wait))


def first_units(more: int) -> int:
    """N, the first run's units, for k = ``more``: at least FIRST_UNITS and k / FIRST_SHARE."""
    return max(FIRST_UNITS, math.ceil(more / FIRST_SHARE))


def count_repeat(bench: Bench, python: Path, valgrind: Valgrind, repeat: int, first: int,
                 more: int, log: Path) -> Repeat:  # fmt: skip
    """Repeat number ``repeat`` of ``bench``'s count: ``first`` units, then ``first + more``.

    The difference cancels start-up only if both runs' start-ups did the same work. Where
    the interpreter says how often its cyclic collector ran before the units, and the two
    runs disagree, the pair is counted again, up to START_UP_TRIES times; the last pair is
    kept, its detail saying so."""
    assert valgrind.path is not None
    env = cachegrind.bench_environ(bench, repeat)
    base = Repeat(bench.impl.id, bench.workload.name, repeat, "ok", hash_seed=repeat,
                  valgrind=valgrind.version)  # fmt: skip
    units = (first, first + more)
    elapsed = 0.0
    for attempt in range(1, START_UP_TRIES + 1):
        runs: list[tuple[cachegrind.Ran, int]] = []
        for n in units:
            runs.append(cachegrind.run_counted(bench, python, valgrind.path, n, env, log))
            elapsed += runs[-1][0].elapsed_s
            failed = runs[-1][0]
            if failed.status != "ok":
                return replace(base, status=failed.status, detail=failed.detail,
                               elapsed_s=elapsed)  # fmt: skip
        collected = [ran.said.get("collections") for ran, _ in runs]
        if None in collected or collected[0] == collected[1]:
            detail = "" if attempt == 1 else f"start-ups agreed on try {attempt}"
            break
        detail = (f"the runs' start-ups collected garbage {collected[0]} and {collected[1]} "
                  f"times, in each of {attempt} tries")  # fmt: skip
    (first_ran, first_total), (_, more_total) = runs
    return replace(base, units=units, instructions=(first_total, more_total), elapsed_s=elapsed,
                   checksum=str(first_ran.said.get("checksum", "")),
                   gil_enabled=first_ran.said.get("gil_enabled"), detail=detail)  # fmt: skip


def count_cell(bench: Bench, python: Path, valgrind: Valgrind, repeats: int, log: Path,
               first: int = FIRST_UNITS, more: int | None = None) -> list[Repeat]:  # fmt: skip
    """Every repeat of one serial cell's count, ending at the first failure; or the one
    line saying why it isn't counted. ``more`` (k) is sized by a native run when None."""
    reason = not_counted(bench)
    if reason:
        return [Repeat(bench.impl.id, bench.workload.name, 0, NOT_COUNTED, reason)]
    log.parent.mkdir(parents=True, exist_ok=True)
    env = cachegrind.bench_environ(bench, 1)
    native = cachegrind.run_counter(cachegrind.counter_args(bench, python, first), env, log,
                                    cachegrind.NATIVE_TIMEOUT_S)  # fmt: skip
    if native.status != "ok":  # fails in a second what would fail counted in a minute
        return [Repeat(bench.impl.id, bench.workload.name, 1, native.status, native.detail,
                       valgrind=valgrind.version)]  # fmt: skip
    said = native.said
    if more is None:
        more = units_for(float(said.get("seconds", 0.0)) / max(first, 1),
                         float(said.get("cpu_seconds", 0.0)) / max(first, 1))  # fmt: skip
    first = max(first, first_units(more))
    if bench.impl.jit:  # its window starts after k units, past the first compilations
        first = max(first, more)
    if float(said.get("cpu_seconds", 0.0)) < WAITING * float(said.get("seconds", 0.0)):

        def one(number: int) -> Repeat:
            return count_repeat(bench, python, valgrind, number, first, more, log)

        with ThreadPoolExecutor(repeats) as pool:  # waiting units: side by side
            done = list(pool.map(one, range(1, repeats + 1)))
    else:
        done = []
        for number in range(1, repeats + 1):
            done.append(count_repeat(bench, python, valgrind, number, first, more, log))
            if done[-1].status != "ok":
                break
    failed = next((i for i, r in enumerate(done) if r.status != "ok"), len(done))
    return done[: failed + 1]  # a cell's count ends at its first failure


def count_cells(
    benches: Sequence[Bench],
    pythons: Mapping[str, Path],
    run_dir: Path,
    repeats: int = REPEATS,
    *,
    valgrind: Valgrind | None = None,
    install: bool | None = None,
    say: Callable[[str], None] = print,
    stopped: Callable[[], bool] = lambda: False,
) -> list[Count]:
    """Count the instructions per unit of every serial/1 cell among ``benches`` whose
    implementation has an interpreter in ``pythons`` (the timed runs' own); write the
    repeats to the run's counts.jsonl, once; return each cell's Count.

    valgrind comes from ``probe_valgrind(install)`` unless given. Without it nothing is
    counted or written, and ``say`` gets one line that says what to do. Once ``stopped()``
    (Ctrl-C), nothing more is counted and nothing written: a resumed run counts again.
    """
    if repeats < MIN_REPEATS:
        raise ValueError(f"repeats={repeats!r}: a count's spread needs at least {MIN_REPEATS}")
    path = store.counts_path(run_dir)
    if path.exists():
        raise store.StoreError(f"{path} already holds this run's counts, which are written "
                               "once; count into another run")  # fmt: skip
    serial = [b for b in benches
              if (b.model, b.workers) == ("serial", 1) and b.impl.id in pythons]  # fmt: skip
    if not serial:
        return []
    valgrind = valgrind or probe_valgrind(install, say)
    if not valgrind.available:
        say(f"instructions not counted: {valgrind.unavailable}")
        return []
    lines: list[Repeat] = []
    for bench in serial:
        if stopped():
            say("instructions: counting stopped; nothing written (--resume counts them)")
            return []
        log = store.count_log_path(run_dir, bench.impl.id, bench.workload.name)
        cell = count_cell(bench, pythons[bench.impl.id], valgrind, repeats, log)
        lines.extend(cell)
        say(format_count(summarize(cell)[0]))
    write_counts(run_dir, lines)
    return summarize(lines)


def count_first(run_dir: Path, benches: Sequence[Bench], pythons: Mapping[str, Path],
                profile: Profile, say: Callable[[str], None],
                stopped: Callable[[], bool] = lambda: False) -> Profile:  # fmt: skip
    """A run's counting step, before its timed passes when ``profile.count``: every serial
    cell of ``benches`` counted once (a resumed run that has its counts counts nothing).
    The profile the passes then get: a budget less the seconds the count took, so that a
    nightly's job still ends within its limit."""
    if not profile.count or store.counts_path(run_dir).exists():
        return profile
    started = time.monotonic()
    count_cells(benches, pythons, run_dir, say=say, stopped=stopped)
    spent = time.monotonic() - started
    if profile.budget_s is None:
        say(f"instructions counted in {spent:.0f} s")
        return profile
    say(f"instructions counted in {spent:.0f} s, taken from the budget")
    return replace(profile, budget_s=max(profile.budget_s - spent, 0.0))


def write_counts(run_dir: Path, repeats: Sequence[Repeat]) -> None:
    """counts.jsonl, whole, in one step (store.write_atomic): a reader finds all or none."""
    text = "".join(json.dumps(record(r), sort_keys=True) + "\n" for r in repeats)
    store.write_atomic(store.counts_path(run_dir), text)


def record(repeat: Repeat) -> dict[str, object]:
    """A repeat as its line of counts.jsonl (results.load_counts reads it back)."""
    return {
        "version": store.COUNTS_VERSION,
        "impl": repeat.impl,
        "workload": repeat.workload,
        "model": "serial",
        "workers": 1,
        "repeat": repeat.repeat,
        "status": repeat.status,
        "detail": repeat.detail,
        "hash_seed": repeat.hash_seed,
        "units": list(repeat.units),
        "instructions": list(repeat.instructions),
        "valgrind": repeat.valgrind,
        "elapsed_s": round(repeat.elapsed_s, 3),
        "checksum": repeat.checksum,
        "gil_enabled": repeat.gil_enabled,
    }


def repeats_of(counts: pd.DataFrame) -> list[Repeat]:
    """results.load_counts' table (Run.counts) back as repeats, for ``summarize``."""
    done = []
    for row in records(counts):
        counted = not pd.isna(row["units"])
        units = (int(row["units"]), int(row["more_units"])) if counted else ()
        totals = (int(row["instructions"]), int(row["more_instructions"])) if counted else ()
        gil = None if pd.isna(row["gil_enabled"]) else int(row["gil_enabled"])
        done.append(Repeat(str(row["impl"]), str(row["workload"]), int(row["repeat"]),
                           str(row["status"]), str(row["detail"]), int(row["hash_seed"]),
                           units, totals, str(row["valgrind"]), float(row["elapsed_s"]),
                           str(row["checksum"]), gil))  # fmt: skip
    return done


def summarize(repeats: Sequence[Repeat]) -> list[Count]:
    """Each cell's Count from its repeats, cells in the order they first appear. A cell
    with a failed repeat has no count: the failure is its status."""
    cells: dict[tuple[str, str], list[Repeat]] = {}
    for repeat in repeats:
        cells.setdefault((repeat.impl, repeat.workload), []).append(repeat)
    counts = []
    for (impl, workload), done in cells.items():
        failed = [r for r in done if r.status != "ok"]
        values = [r.per_unit for r in done if r.status == "ok"]
        valgrind = next((r.valgrind for r in done if r.valgrind), "")
        elapsed = sum(r.elapsed_s for r in done)
        if failed or not values:
            why = failed[0] if failed else done[0]
            counts.append(Count(impl, workload, why.status, why.detail, math.nan, math.nan,
                                len(values), elapsed, valgrind))  # fmt: skip
            continue
        spread = statistics.stdev(values) if len(values) > 1 else math.nan
        note = next((r.detail for r in done if "in each of" in r.detail), "")  # count_repeat
        counts.append(Count(impl, workload, "ok", note, statistics.fmean(values), spread,
                            len(values), elapsed, valgrind))  # fmt: skip
    return counts


def format_count(count: Count) -> str:
    """One line: a cell's instructions per unit, their spread and cost, or why none."""
    head = f"instructions {count.impl} {count.workload}"
    if count.status != "ok":
        return f"{head}: {count.status}: {count.detail}"
    return (f"{head}: {count.per_unit / 1e6:,.3f} M a unit, CV {count.cv:.4%} over "
            f"{count.repeats} repeats, counted in {count.elapsed_s:.1f} s"
            + (f"; {count.detail}" if count.detail else ""))  # fmt: skip
