"""Run the benchmark matrix in interleaved passes, one outcome line per benchmark attempt.

Every benchmark runs in its own process tree with a timeout (run/bench.py). Whatever
happens to it, one line goes to ``outcomes.jsonl`` before the next starts: a crash, a hang
or a wrong checksum is recorded and the run goes on, and what was measured before stays.
"""

from __future__ import annotations

import errno
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from harness import store
from harness.run.bench import Outcome, run_bench, unsupported
from harness.run.cpuspeed import Sampler
from harness.run.plan import Bench, Profile
from harness.run.shards import runtimes

Cell = tuple[str, str, str, int]


# A cell still running HANG_FACTOR times longer than its earlier attempts (or, before it
# has any, its workload's serial cell, times its workers) lead one to expect is hung and
# killed, though never before HANG_FLOOR_S: legitimate attempts here vary by 2-3x at most
# (a JIT's warm-up, a pool's start, the host's bursts), and 60 s covers a process pool's
# start on a JVM. So a deadlock costs about ten attempts' time, not the profile's timeout.
HANG_FACTOR = 10.0
NO_SPACE = "No space left on device"  # strerror(ENOSPC), as a runner that hit it prints it
HANG_FLOOR_S = 60.0


@dataclass
class Seen:
    """What a matrix's attempts so far say of the next ones."""

    lacking: dict[tuple[str, str], Outcome] = field(default_factory=dict)  # (impl, model)
    took: dict[Cell, tuple[float, int]] = field(default_factory=dict)  # (elapsed s, values)
    hung: dict[tuple[str, str], str] = field(default_factory=dict)  # (impl, workload) -> why

    def bound(self, bench: Bench, profile: Profile, values: int) -> tuple[float, float]:
        """(the seconds after which ``bench`` counts as hung, the time expected of it).

        The profile's timeout holds for each runtime the benchmark starts (shards.runtimes):
        a GraalPy cell of processes at 2 workers starts three JVMs, each warming its JIT,
        and took 50-110 s of the quick profile's 120 on 2 cores (docs/measurements.md)."""
        impl, workload, _, workers = bench.cell
        cap = profile.timeout_s * runtimes(bench)
        own = self.took.get(bench.cell)
        serial = self.took.get((impl, workload, "serial", 1))
        if own is not None:
            expected = own[0] * max(1.0, values / own[1])
        elif serial is not None:
            expected = serial[0] * max(workers, runtimes(bench)) * max(1.0, values / serial[1])
        else:
            return cap, math.nan
        return min(cap, max(HANG_FLOOR_S, HANG_FACTOR * expected)), expected


class Stop:
    """Asked to stop after the benchmark that is running (Ctrl-C; see run/resume.py)."""

    requested = False


def record(run_dir: Path, bench: Bench, outcome: Outcome, attempt: int = 1,
           values: int | None = None) -> None:  # fmt: skip
    """Append one outcome line, which vouches for the attempt's raw piece; earlier lines
    are never rewritten. ``values``: what each process took (the adaptive profile)."""
    impl, workload, model, workers = bench.cell
    line: dict[str, object] = {
        "impl": impl, "workload": workload, "model": model, "workers": workers,
        "pass": attempt, "status": outcome.status, "detail": outcome.detail,
        "elapsed_s": round(outcome.elapsed_s, 3),
    }  # fmt: skip
    if values is not None:
        line["values"] = values
    store.append_line(store.outcomes_path(run_dir), line)


def run_matrix(
    benches: list[Bench],
    pythons: Mapping[str, Path],
    run_dir: Path,
    profile: Profile,
    on_done: Callable[[Bench, Outcome | None], None] = lambda b, o: None,
    sampler: Sampler | None = None,
    done: Mapping[tuple[Cell, int], Outcome] | None = None,
) -> list[Outcome]:
    """Run every available benchmark once per pass, recording each outcome when it is known.

    A benchmark that fails is recorded and not tried again in later passes; the values
    of its earlier passes stay in the raw file. ``on_done`` gets None for a skipped try.
    ``sampler`` samples the CPUs' speed between benchmarks when due, and once at the end.
    A model that an implementation lacks altogether (``Outcome.model_wide``) is recorded as
    unsupported for its other workloads without starting the interpreter again. With a
    ``budget_s``, a benchmark whose last pass wouldn't fit in what is left isn't started.
    Benchmarks of unavailable implementations are left out: the report shows them as such.
    ``done``: (cell, pass) -> outcome of the attempts a resumed run already recorded; they
    are kept, not measured again. Returns each reached benchmark's last outcome, in
    ``benches`` order (a run stopped by Ctrl-C leaves some unreached, and unrecorded).
    """
    done = done or {}
    measured = [b for b in benches if b.impl.available]
    deadline = time.monotonic() + (profile.budget_s or math.inf)
    took: dict[tuple[str, str], float] = {}  # a benchmark's last pass: what its next costs
    last: dict[tuple[str, str], Outcome] = {}
    seen = Seen()
    for number in range(1, profile.passes + 1):
        for bench in measured:
            key = (bench.impl.id, bench.name)
            if (bench.cell, number) in done:
                last[key] = done[(bench.cell, number)]
                continue
            if Stop.requested:
                break
            over = time.monotonic() + took.get(key, 0.0) > deadline
            if (key in last and last[key].status != "ok") or over:
                on_done(bench, None)
                continue
            outcome = attempt(bench, pythons, run_dir, profile, number, seen, sampler)
            took[key] = outcome.elapsed_s
            last[key] = outcome
            on_done(bench, outcome)
    if sampler is not None:
        sampler.take()
    for bench in measured:
        if (bench.impl.id, bench.name) not in last and not Stop.requested:
            last[(bench.impl.id, bench.name)] = budget_spent(run_dir, bench, profile)
    return [last[(b.impl.id, b.name)] for b in measured if (b.impl.id, b.name) in last]


def attempt(bench: Bench, pythons: Mapping[str, Path], run_dir: Path, profile: Profile,
            number: int, seen: Seen, sampler: Sampler | None = None,
            values: int | None = None) -> Outcome:  # fmt: skip
    """One try of ``bench`` in pass ``number``, recorded: run, or known not to run.

    ``seen`` is filled here: a model the implementation lacks altogether spares the
    interpreter's start for its other cells; a workload that timed out serially on an
    implementation isn't started in its other cells there (a hang costs one timeout); and
    each cell is killed once it runs far past what its earlier attempts took.
    """
    impl, workload, model, workers = bench.cell
    outcome = unsupported(bench) or seen.lacking.get((impl, model))
    if outcome is None and (impl, workload) in seen.hung and (model, workers) != ("serial", 1):
        outcome = Outcome("timeout", f"not started: {seen.hung[(impl, workload)]}", 0.0)
    if outcome is None:
        if sampler is not None:
            sampler.maybe()
        limit, expected = seen.bound(bench, profile, values or 1)
        store.ensure_space(run_dir)
        try:
            outcome = run_bench(bench, pythons[impl], run_dir,
                                replace(profile, timeout_s=limit), number)  # fmt: skip
        except OSError as exc:  # its log could not be written
            if exc.errno == errno.ENOSPC:
                raise store.disk_full(run_dir, store.MIN_FREE) from None
            raise
        if outcome.status != "ok" and NO_SPACE in outcome.detail:
            raise store.disk_full(run_dir, store.MIN_FREE)  # unrecorded: resumed, measured again
        if outcome.model_wide:
            seen.lacking[(impl, model)] = replace(outcome, elapsed_s=0.0)
        if outcome.status == "ok":
            seen.took[bench.cell] = (outcome.elapsed_s, values or 1)
        elif outcome.status == "timeout" and limit < profile.timeout_s * runtimes(bench):
            why = f"over {HANG_FACTOR:.0f}x the {expected:.1f} s its earlier attempts predict"
            outcome = replace(outcome, detail=f"{outcome.detail}: {why}")
        if outcome.status == "timeout" and (model, workers) == ("serial", 1):
            seen.hung[(impl, workload)] = (f"{workload} timed out serially on {impl}, so "
                                           "each of its cells would cost a timeout")  # fmt: skip
    record(run_dir, bench, outcome, number, values)
    return outcome


BUDGET_SPENT = "the budget of {} was spent before this cell was measured"


def was_cut(outcome: Outcome) -> bool:
    """Whether a cell is missing only because the budget asked for ended before it."""
    before, _, after = BUDGET_SPENT.partition("{}")
    return outcome.status == "missing" and outcome.detail.startswith(before) and \
        outcome.detail.endswith(after)  # fmt: skip


def budget_spent(run_dir: Path, bench: Bench, profile: Profile) -> Outcome:
    """Record a cell that the budget ended before it was ever measured."""
    from harness.run.progress import format_duration

    spent = Outcome("missing", BUDGET_SPENT.format(format_duration(profile.budget_s or 0)),
                    0.0)  # fmt: skip
    record(run_dir, bench, spent, 0)
    return spent
