"""The files gilbench publishes for other programs to read, and their format versions.

docs/formats.md gives each file's columns (or keys) with their types and units, and
tests/test_formats.py holds the page to what the code writes. A file's version goes up
when one of its columns is removed or renamed, or changes type, unit or meaning; a new
column leaves it as it is, so a reader should select the columns it knows.

Where each file says its version: a parquet file in its schema's metadata, under
``gilbench_format`` (``"values.parquet 1"``); changes.json in its ``format`` key;
summary.csv, which has no place for one, in formats.json beside it.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pandas only where a table is written: harness/cli.py lists without it
    import pandas as pd

# History: 1 - every file's first versioned form (checksums as plain values). Before it,
# files carried no version.
VERSIONS: dict[str, int] = {
    "summary.csv": 1,  # a run's results table, one row per cell
    "values.parquet": 1,  # every measured value of a run
    "changes.json": 1,  # a history's decided changes (the published site's)
    # a history's tables, in each run's set beside its values.parquet
    "summary.parquet": 1,
    "figures.parquet": 1,
    "paired.parquet": 1,
    "outcomes.parquet": 1,
    "cpu_speed.parquet": 1,
}
PARQUET_KEY = b"gilbench_format"
FORMATS_JSON = "formats.json"  # beside summary.csv: the versions of a report's files


def parquet_bytes(table: pd.DataFrame, name: str) -> bytes:
    """``table`` as the parquet file ``name`` (a key of VERSIONS), its version in its schema's
    metadata; otherwise what ``table.to_parquet(index=False)`` writes."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    arrow = pa.Table.from_pandas(table, preserve_index=False)
    metadata = {**(arrow.schema.metadata or {}), PARQUET_KEY: f"{name} {VERSIONS[name]}".encode()}
    out = io.BytesIO()
    pq.write_table(arrow.replace_schema_metadata(metadata), out)
    return out.getvalue()


def load_parquet_format(path: Path) -> tuple[str, int] | None:
    """The (name, version) a parquet file carries; None for one written before versions."""
    import pyarrow.parquet as pq

    said = (pq.read_schema(path).metadata or {}).get(PARQUET_KEY)
    if said is None:
        return None
    name, version = said.decode().rsplit(" ", 1)
    return name, int(version)


def format_formats_json(names: Iterable[str]) -> str:
    """formats.json: the version of each of ``names``, and the page that describes them."""
    files = {name: VERSIONS[name] for name in names}
    return json.dumps({"docs": "docs/formats.md", "files": files}, indent=2) + "\n"
