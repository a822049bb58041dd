"""A progress bar over the benchmark matrix, with the time left."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

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
from harness.run.matrix import run_matrix
from harness.run.plan import Bench, Profile
from harness.status import NEUTRAL, OK


def run_with_progress(
    benches: list[Bench],
    pythons: Mapping[str, Path],
    run_dir: Path,
    profile: Profile,
    sampler: Sampler | None = None,
) -> list[Outcome]:
    """run_matrix, drawing a bar on stderr and one line per benchmark that fails.

    The bar counts every pass of every measured benchmark, so the time left covers the
    whole run.
    """
    console = Console(stderr=True)
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("left"),
        TimeRemainingColumn(),
    )
    measured = sum(b.impl.available for b in benches)
    with Progress(*columns, console=console) as progress:
        task = progress.add_task("benchmarks", total=measured * profile.passes)

        def on_done(bench: Bench, outcome: Outcome | None) -> None:
            # unsupported cells are expected (the report explains them); failures are news
            if outcome is not None and outcome.status != OK and outcome.status not in NEUTRAL:
                progress.console.print(
                    f"{bench.impl.id} {bench.name}: {outcome.status}: {outcome.detail}",
                    markup=False,
                    highlight=False,
                )
            progress.update(task, advance=1, description=f"{bench.impl.id} {bench.name}")

        return run_matrix(benches, pythons, run_dir, profile, on_done, sampler)
