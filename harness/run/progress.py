"""Progress over the benchmark matrix, with the time left: a bar in a terminal, lines in a log.

A CI log is no terminal: a bar redrawn in place becomes thousands of lines, or none. There
a plain line goes out every 30 s or every 5% of the run, whichever comes first, with the
benchmarks done, the failures so far and the time left.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TextIO

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from harness.run.bench import Outcome
from harness.run.cpuspeed import Sampler
from harness.run.matrix import Cell, run_matrix
from harness.run.plan import Bench, Profile
from harness.status import FAILED

EVERY_S = 30.0  # a log line at least this often
STEP = 0.05  # and one at every 5% of the benchmarks


def format_failure(bench: Bench, outcome: Outcome) -> str:
    return f"{bench.impl.id} {bench.name}: {outcome.status}: {outcome.detail}"


def format_duration(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    return f"{minutes}m{secs:02d}s"


class LogLines:
    """The progress of a run as plain lines, for a log that is not a terminal."""

    def __init__(self, total: int, out: TextIO, clock: Callable[[], float] = time.monotonic,
                 every_s: float = EVERY_S, step: float = STEP) -> None:  # fmt: skip
        self.total, self.out, self.clock = total, out, clock
        self.every_s, self.step = every_s, max(1, round(total * step))
        self.started = self.last = clock()
        self.done = self.failed = 0

    def __call__(self, bench: Bench, outcome: Outcome | None) -> None:
        self.done += 1
        if outcome is not None and outcome.status in FAILED:
            self.failed += 1
            self._print(format_failure(bench, outcome))
        now = self.clock()
        due = now - self.last >= self.every_s or self.done % self.step == 0
        if due or self.done == self.total:
            self.last = now
            left = (now - self.started) / self.done * (self.total - self.done)
            self._print(
                f"{self.done}/{self.total} benchmarks ({self.done / self.total:.0%}), "
                f"{self.failed} failed, about {format_duration(left)} left"
            )

    def _print(self, line: str) -> None:
        self.out.write(f"gilbench: {line}\n")
        self.out.flush()


def run_with_progress(
    benches: list[Bench],
    pythons: Mapping[str, Path],
    run_dir: Path,
    profile: Profile,
    sampler: Sampler | None = None,
    done: Mapping[tuple[Cell, int], Outcome] | None = None,
) -> list[Outcome]:
    """run_matrix, reporting its progress on stderr: a bar, or lines where that's a log.

    Every pass of every measured benchmark counts, so the time left covers the whole run.
    Failures are printed as they happen; unsupported cells are expected and are not.
    """
    total = sum(b.impl.available for b in benches) * profile.passes - len(done or {})
    console = Console(stderr=True)
    if not console.is_terminal:
        lines = LogLines(total, sys.stderr)
        return run_matrix(benches, pythons, run_dir, profile, lines, sampler, done)
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("left"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console) as progress:
        task = progress.add_task("benchmarks", total=total)

        def on_done(bench: Bench, outcome: Outcome | None) -> None:
            if outcome is not None and outcome.status in FAILED:
                progress.console.print(format_failure(bench, outcome), markup=False,
                                       highlight=False)  # fmt: skip
            progress.update(task, advance=1, description=f"{bench.impl.id} {bench.name}")

        return run_matrix(benches, pythons, run_dir, profile, on_done, sampler, done)
