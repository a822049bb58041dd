"""Run the benchmark matrix in interleaved passes, one outcome line per benchmark attempt.

Every benchmark runs in its own process tree with a timeout (run/bench.py). Whatever
happens to it, one line goes to ``outcomes.jsonl`` before the next starts: a crash, a hang
or a wrong checksum is recorded and the run goes on, and what was measured before stays.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path

from harness import store
from harness.run.bench import Outcome, run_bench, unsupported
from harness.run.cpuspeed import Sampler
from harness.run.plan import Bench, Profile


def record(run_dir: Path, bench: Bench, outcome: Outcome, attempt: int = 1) -> None:
    """Append one outcome line; earlier lines are never rewritten."""
    impl, workload, model, workers = bench.cell
    store.append_line(store.outcomes_path(run_dir), {
        "impl": impl, "workload": workload, "model": model, "workers": workers,
        "pass": attempt, "status": outcome.status, "detail": outcome.detail,
        "elapsed_s": round(outcome.elapsed_s, 3),
    })  # fmt: skip


def run_matrix(
    benches: list[Bench],
    pythons: Mapping[str, Path],
    run_dir: Path,
    profile: Profile,
    on_done: Callable[[Bench, Outcome | None], None] = lambda b, o: None,
    sampler: Sampler | None = None,
) -> list[Outcome]:
    """Run every available benchmark once per pass, recording each outcome when it is known.

    A benchmark that fails is recorded and not tried again in later passes; the values
    of its earlier passes stay in the raw file. ``on_done`` gets None for a skipped try.
    ``sampler`` samples the CPUs' speed between benchmarks when due, and once at the end.
    A model that an implementation lacks altogether (``Outcome.model_wide``) is recorded as
    unsupported for its other workloads without starting the interpreter again. With a
    ``budget_s``, a benchmark whose last pass wouldn't fit in what is left isn't started.
    Benchmarks of unavailable implementations are left out: the report shows them as such.
    Returns each measured benchmark's last outcome, in ``benches`` order.
    """
    measured = [b for b in benches if b.impl.available]
    deadline = time.monotonic() + (profile.budget_s or math.inf)
    took: dict[tuple[str, str], float] = {}  # a benchmark's last pass: what its next costs
    last: dict[tuple[str, str], Outcome] = {}
    lacking: dict[tuple[str, str], Outcome] = {}  # (impl, model) -> its model-wide outcome
    for number in range(1, profile.passes + 1):
        for bench in measured:
            key = (bench.impl.id, bench.name)
            over = time.monotonic() + took.get(key, 0.0) > deadline
            if (key in last and last[key].status != "ok") or over:
                on_done(bench, None)
                continue
            outcome = attempt(bench, pythons, run_dir, profile, number, lacking, sampler)
            took[key] = outcome.elapsed_s
            last[key] = outcome
            on_done(bench, outcome)
    if sampler is not None:
        sampler.take()
    for bench in measured:
        if (bench.impl.id, bench.name) not in last:
            last[(bench.impl.id, bench.name)] = budget_spent(run_dir, bench, profile)
    return [last[(b.impl.id, b.name)] for b in measured]


def attempt(bench: Bench, pythons: Mapping[str, Path], run_dir: Path, profile: Profile,
            number: int, lacking: dict[tuple[str, str], Outcome],
            sampler: Sampler | None = None) -> Outcome:  # fmt: skip
    """One try of ``bench`` in pass ``number``, recorded: run, or known unsupported.

    ``lacking`` holds (impl, model) -> the outcome of a model the implementation lacks
    altogether; it is filled here, and spares the interpreter's start for its other cells.
    """
    outcome = unsupported(bench) or lacking.get((bench.impl.id, bench.model))
    if outcome is None:
        if sampler is not None:
            sampler.maybe()
        outcome = run_bench(bench, pythons[bench.impl.id], run_dir, profile)
        if outcome.model_wide:
            lacking[(bench.impl.id, bench.model)] = replace(outcome, elapsed_s=0.0)
    record(run_dir, bench, outcome, number)
    return outcome


def budget_spent(run_dir: Path, bench: Bench, profile: Profile) -> Outcome:
    """Record a cell that the budget ended before it was ever measured."""
    from harness.run.progress import format_duration

    spent = Outcome("missing", f"the budget of {format_duration(profile.budget_s or 0)} was "
                    "spent before this cell was measured", 0.0)  # fmt: skip
    record(run_dir, bench, spent, 0)
    return spent
