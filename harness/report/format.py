"""How figures read, once for every page: times, intervals, counts, categories, verdicts."""

# Typographic en dashes and multiplication signs are meant for the report's readers.
# ruff: noqa: RUF001, RUF002

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from harness.compare.estimate import Estimate, direction, verdict

# Readable names for the workload categories; an unknown category is quoted as it is.
CATEGORY_PHRASES = {
    "cpu": "pure-Python CPU work",
    "alloc": "allocation-heavy work",
    "c-release": "C code that releases the GIL",
    "c-holds": "C code that holds the GIL",
    "contention": "work contending for shared state",
    "io": "I/O-bound work",
    "mixed": "mixed work",
}


def format_category(category: str) -> str:
    """A category id as a phrase a reader knows; an unknown id is quoted as it is."""
    return CATEGORY_PHRASES.get(category) or f"“{category}” work"


def format_times(value: float) -> str:
    """``1.84×``, or a dash when there is no value."""
    return "–" if math.isnan(value) else f"{value:.2f}×"


def format_range(low: float, high: float) -> str:
    """``1.61–2.02×``, or a dash when there is no interval."""
    if math.isnan(low) or math.isnan(high):
        return "–"
    return f"{low:.2f}–{high:.2f}×"


def format_seconds(value: float) -> str:
    if math.isnan(value):
        return "–"
    return f"{value:.3f} s" if value >= 1 else f"{value * 1000:.1f} ms"


def format_count(n: int, word: str) -> str:
    """``1 worker``, ``2 workers``."""
    return f"{n} {word}" + ("" if n == 1 else "s")


def row_estimate(row: Mapping[str, Any]) -> Estimate:
    """The ratio of a comparison table's row."""
    return Estimate(float(row["ratio"]), float(row["ci_low"]), float(row["ci_high"]))


def holds_one(row: Mapping[str, Any]) -> bool:
    """Whether a row's interval holds 1: no clear difference either way."""
    return direction(row_estimate(row)) == "level"


def format_interval(row: Mapping[str, Any]) -> str:
    """``95% CI 1.61–2.02×``, with a note when the interval holds 1, and one when the
    figure was picked among several (its interval is simultaneous over them)."""
    text = f"95% CI {format_range(row['ci_low'], row['ci_high'])}"
    count = int(row.get("candidates") or 1)
    if count > 1:
        text += f", one of {count} simultaneous intervals"
    return text + (", no clear difference" if holds_one(row) else "")


def format_verdict(row: Mapping[str, Any], above: str, below: str) -> str:
    """What a comparison row supports: ``above``/``below`` 1, level, or too noisy."""
    return verdict(row_estimate(row), bool(row.get("noisy")), above, below)


def format_shards(manifest: Mapping[str, Any]) -> str:
    """How a merged run came together: its shards, those missing, attempts replaced."""
    shards = manifest.get("shards") or []
    if not shards:
        return ""
    parts = [f"Merged from {format_count(len(shards), 'shard')}, one machine each"]
    for shard in shards:
        name = f"shard {shard['index']}/{shard['of']}"
        if shard["status"] != "merged":
            parts.append(f"{name} {shard['status']}: {shard['reason']}")
        if shard.get("superseded_attempts"):
            older = ", ".join(str(a) for a in shard["superseded_attempts"])
            parts.append(f"{name}: attempt {shard['attempt']} taken, attempt {older} ignored")
    return "; ".join(parts) + "."
