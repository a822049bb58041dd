"""Read a run from disk into tidy pandas tables. Reads only; never writes into the run.

``values``: one row per measured value (seconds for one round of W units).
``paired``: one row per serial unit time taken right after a value (gbcore.Pairing).
``outcomes``: one row per benchmark attempt, with its status.
``cpu_speed``: each CPU's speed (iterations per second) in every sample (cpuspeed).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pyperf

from harness import store

VALUE_COLUMNS = [
    "impl", "workload", "model", "workers", "gil_enabled", "process", "value", "seconds",
    "cpu_count", "cpus", "affinity", "oversubscribed", "checksum", "start_method", "kind",
    "updates", "lost_updates", "pairing",
]  # fmt: skip
# ``pairing`` names the worker process whose run and paired line a value and its serial
# units came from; with ``value`` (the index within that run) it joins the two tables.
PAIRED_COLUMNS = [
    "impl", "workload", "model", "workers", "pairing", "value", "seconds", "worker_spread"
]  # fmt: skip
# ``worker_spread``: the slowest worker's busy time over the quickest's in that value
# (gbcore.Model.busy); NaN where the model has no parallel workers or the run predates it.
OUTCOME_COLUMNS = [
    "impl", "workload", "model", "workers", "pass", "status", "detail", "elapsed_s"
]  # fmt: skip


class ResultsError(Exception):
    """A run on disk that can't be read; the message says which file and what to do."""


@dataclass(frozen=True)
class Run:
    directory: Path
    manifest: dict[str, Any]
    outcomes: pd.DataFrame
    values: pd.DataFrame
    # serial units timed beside each cell's values (gbcore.Pairing); empty for older runs
    paired: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=PAIRED_COLUMNS))
    # CPU -> iterations per second, one mapping per sample; empty for older runs
    cpu_speed: tuple[dict[str, float], ...] = ()


def resolve_run(reports: Path, name: str = "latest") -> Path:
    """``latest``, a run's name, or a path -> the run's directory."""
    candidate = Path(name) if Path(name).is_dir() else reports / name
    if not (candidate / "run.json").is_file():
        raise ResultsError(
            f"no run at {str(candidate)!r}: run 'nox -s compare' first, "
            "or name a folder of reports/ that has a run.json"
        )
    return candidate.resolve()


def load_manifest(run_dir: Path) -> dict[str, Any]:
    path = run_dir / "run.json"
    try:
        manifest = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise ResultsError(f"{path} is unreadable ({exc}); re-run 'nox -s compare'") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != store.FORMAT:
        raise ResultsError(f"{path} is not a gilbench run manifest")
    if manifest.get("version") != store.VERSION:
        raise ResultsError(
            f"{path} has format version {manifest.get('version')!r}; this gilbench reads "
            f"version {store.VERSION}: use the gilbench that wrote it, or re-run"
        )
    return manifest


def load_outcomes(run_dir: Path) -> pd.DataFrame:
    path = run_dir / "outcomes.jsonl"
    rows = []
    if path.exists():
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            if not line.strip():
                continue
            try:
                rows.append(json.loads(line))
            except ValueError as exc:
                raise ResultsError(
                    f"{path}:{number} is not valid JSON ({exc}); fix or delete that line "
                    "(the raw pyperf files are untouched) and run the report again"
                ) from exc
    return pd.DataFrame(rows, columns=OUTCOME_COLUMNS)


def load_values(run_dir: Path) -> pd.DataFrame:
    """Every value in ``raw/*.json`` as one tidy row."""
    rows: list[dict[str, object]] = []
    for path in sorted((run_dir / "raw").glob("*.json")):
        try:
            suite = pyperf.BenchmarkSuite.load(str(path))
        except Exception as exc:  # pyperf raises bare ValueError/KeyError/JSONDecodeError
            raise ResultsError(
                f"{path} is corrupt ({type(exc).__name__}: {exc}); move it aside and "
                f"re-run that implementation with 'nox -s bench-{path.stem}'"
            ) from exc
        for bench in suite.get_benchmarks():
            rows.extend(_bench_rows(bench))
    return pd.DataFrame(rows, columns=VALUE_COLUMNS)


def load_paired(run_dir: Path) -> pd.DataFrame:
    """Every serial unit time in ``raw/*.paired.jsonl`` as one row (seconds per unit)."""
    rows: list[dict[str, object]] = []
    for path in sorted((run_dir / "raw").glob("*.paired.jsonl")):
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                key = {k: record[k] for k in ("impl", "workload", "model")}
                key["workers"] = int(record["workers"])
                key["pairing"] = str(record.get("pairing", ""))  # absent before tokens
                seconds = [float(s) for s in record["seconds"]]
                busy = [[float(b) for b in value] for value in record.get("busy", [])]
            except (ValueError, KeyError, TypeError) as exc:
                raise ResultsError(
                    f"{path}:{number} is not a paired-units record ({exc}); delete that line "
                    "(speedups then fall back to the serial cell) and run the report again"
                ) from exc
            rows.extend(
                {**key, "value": index, "seconds": value,
                 "worker_spread": _spread(busy[index] if index < len(busy) else [])}
                for index, value in enumerate(seconds)
            )  # fmt: skip
    return pd.DataFrame(rows, columns=PAIRED_COLUMNS)


def load_cpu_speed(run_dir: Path) -> tuple[dict[str, float], ...]:
    """The CPU speed samples taken during the run (cpuspeed.Sampler), oldest first."""
    path = store.cpu_speed_path(run_dir)
    samples: list[dict[str, float]] = []
    if not path.exists():
        return ()
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        try:
            rates = json.loads(line)["rates"]
            samples.append({str(cpu): float(rate) for cpu, rate in rates.items()})
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ResultsError(
                f"{path}:{number} is not a CPU speed sample ({exc}); delete that line "
                "and run the report again"
            ) from exc
    return tuple(samples)


def _spread(busy: list[float]) -> float:
    """The slowest worker's busy seconds over the quickest's; NaN under two workers."""
    if len(busy) < 2 or min(busy) <= 0:
        return float("nan")
    return max(busy) / min(busy)


def _bench_rows(bench: Any) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    runs = bench.get_runs()
    # Shared-state workloads count their updates per worker process (run): the cell's
    # figure is the sum over every run, whichever pass it came from. None: not counted.
    counted = [r.get_metadata() for r in runs if "gilbench_updates" in r.get_metadata()]
    updates = sum(int(m["gilbench_updates"]) for m in counted) if counted else None
    lost = sum(int(m.get("gilbench_lost_updates", 0)) for m in counted) if counted else None
    for process, run in enumerate(runs):
        meta = run.get_metadata()
        if "gilbench_impl" not in meta:
            continue  # not a gilbench benchmark; nothing to say about it
        for index, seconds in enumerate(run.values):
            rows.append(
                {
                    "impl": meta["gilbench_impl"],
                    "workload": meta["gilbench_workload"],
                    "model": meta["gilbench_model"],
                    "workers": int(meta["gilbench_workers"]),
                    "gil_enabled": int(meta["gil_enabled"]),
                    "process": process,
                    "value": index,
                    "seconds": float(seconds),
                    "cpu_count": int(meta["gilbench_cpu_count"]),
                    "cpus": int(meta["gilbench_cpus"]),
                    "oversubscribed": bool(int(meta["gilbench_oversubscribed"])),
                    "checksum": meta["gilbench_checksum"],
                    "start_method": meta.get("gilbench_start_method", ""),
                    "affinity": meta.get("gilbench_affinity", ""),
                    "kind": meta.get("gilbench_kind", "kernel"),
                    "updates": updates,
                    "lost_updates": lost,
                    "pairing": meta.get("gilbench_pairing", ""),
                }
            )
    return rows


def load_run(run_dir: Path) -> Run:
    """Read a whole run: manifest, outcomes and values."""
    return Run(
        run_dir,
        load_manifest(run_dir),
        load_outcomes(run_dir),
        load_values(run_dir),
        load_paired(run_dir),
        load_cpu_speed(run_dir),
    )
