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

from harness import run, store
from harness.cpuspeed import Sampler


def run_with_progress(
    benches: list[run.Bench],
    pythons: Mapping[str, Path],
    run_dir: Path,
    profile: run.Profile,
) -> list[run.Outcome]:
    """run.run_matrix, drawing a bar on stderr and one line per benchmark that fails.

    The bar counts every pass of every benchmark, so the time left covers the whole run.
    The CPUs' speed is sampled between benchmarks into the run's ``cpu_speed.jsonl``.
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
    with Progress(*columns, console=console) as progress:
        task = progress.add_task("benchmarks", total=len(benches) * profile.passes)

        def on_done(bench: run.Bench, outcome: run.Outcome | None) -> None:
            # unsupported cells are expected (the report explains them); failures are news
            if outcome is not None and outcome.status not in ("ok", "unsupported"):
                progress.console.print(
                    f"{bench.impl.id} {bench.name}: {outcome.status}: {outcome.detail}",
                    markup=False,
                    highlight=False,
                )
            progress.update(task, advance=1, description=f"{bench.impl.id} {bench.name}")

        sampler = Sampler(store.cpu_speed_path(run_dir))
        return run.run_matrix(benches, pythons, run_dir, profile, on_done, sampler)
