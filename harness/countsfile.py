"""A run's counts.jsonl read back as a table (results.load_run puts it in Run.counts).

run/counts.py writes the file, once, when counting ends: one line per repeat of a serial
cell's instruction count, or one line for a cell not counted, each carrying its format
version (store.COUNTS_VERSION). A run from before counting has none: its table is empty.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd

from harness import store

# ``units``/``more_units``: N and N+k; ``instructions``/``more_instructions``: each run's
# total; ``per_unit``: their difference over k. A cell not counted has one row (repeat 0)
# with its status ("not counted" or a failure) and why in ``detail``, and NaN counts.
COUNT_COLUMNS = [
    "impl", "workload", "model", "workers", "repeat", "status", "detail", "hash_seed",
    "units", "more_units", "instructions", "more_instructions", "per_unit", "valgrind",
    "elapsed_s", "checksum", "gil_enabled",
]  # fmt: skip


def load_counts(run_dir: Path, problems: list[str] | None = None) -> pd.DataFrame:
    """The instruction counts' repeats (store.counts_path), one row each; an empty table
    when the run has none. A line of another counts version is skipped and named."""
    path = store.counts_path(run_dir)
    remedy = "delete that line (its cell then has no count), then 'nox -s report'"
    problems = [] if problems is None else problems
    rows: list[dict[str, object]] = []
    for number, record in _lines(path, remedy, problems):
        if record.get("version") != store.COUNTS_VERSION:
            problems.append(f"{path}:{number} has counts version {record.get('version')!r}; "
                            f"this gilbench reads {store.COUNTS_VERSION}, skipped: use the "
                            "gilbench that wrote it")  # fmt: skip
            continue
        try:
            units = [int(u) for u in record["units"]]
            totals = [int(i) for i in record["instructions"]]
            if len(units) != len(totals) or len(units) not in (0, 2):
                raise ValueError(f"units {units!r} and instructions {totals!r} don't pair")
            row = {
                "impl": str(record["impl"]), "workload": str(record["workload"]),
                "model": str(record["model"]), "workers": int(record["workers"]),
                "repeat": int(record["repeat"]), "status": str(record["status"]),
                "detail": str(record.get("detail", "")),
                "hash_seed": int(record.get("hash_seed", 0)),
                "units": units[0] if units else None,
                "more_units": units[1] if units else None,
                "instructions": totals[0] if totals else None,
                "more_instructions": totals[1] if totals else None,
                "per_unit": (totals[1] - totals[0]) / (units[1] - units[0]) if units
                            else float("nan"),
                "valgrind": str(record.get("valgrind", "")),
                "elapsed_s": float(record.get("elapsed_s", 0.0)),
                "checksum": str(record.get("checksum", "")),
                "gil_enabled": record.get("gil_enabled"),
            }  # fmt: skip
        except (ValueError, KeyError, TypeError, ZeroDivisionError) as exc:
            problems.append(f"{path}:{number} is not a count ({exc!r}), skipped: {remedy}")
            continue
        rows.append(row)
    return pd.DataFrame(rows, columns=COUNT_COLUMNS)


def _lines(path: Path, remedy: str, problems: list[str]) -> Iterator[tuple[int, dict[str, Any]]]:
    """Each JSON object of ``path`` with its line number; a broken line is named, skipped."""
    if not path.exists():
        return
    for number, line in enumerate(path.read_text(errors="replace").splitlines(), start=1):
        try:
            record = json.loads(line) if line.strip() else None
        except ValueError as exc:
            problems.append(f"{path}:{number} is not valid JSON ({exc}), skipped: {remedy}")
            continue
        if line.strip() and not isinstance(record, dict):
            problems.append(f"{path}:{number} is not a count, skipped: {remedy}")
        elif isinstance(record, dict):
            yield number, record
