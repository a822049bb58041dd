"""How figures read, once for every page: times, intervals, counts, categories, verdicts."""

# Typographic en dashes and multiplication signs are meant for the report's readers.
# ruff: noqa: RUF001, RUF002

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from harness.compare.estimate import Estimate

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
    """``1.61–2.02×``, or a dash when there is no interval; ends far from 1 in three
    significant digits (``0.000131–2.22e+04×``), never rounded to nothing."""
    if math.isnan(low) or math.isnan(high):
        return "–"
    return f"{_end(low)}–{_end(high)}×"


def _end(value: float) -> str:
    return f"{value:.2f}" if 0.01 <= value < 1000 else f"{value:.3g}"


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


def format_level(confidence: float) -> str:
    """``95%``, ``97.5%``, ``99.17%``: an interval's level, as few digits as tell it."""
    if not math.isfinite(confidence):
        return "95%"
    for digits in range(3):
        text = f"{confidence * 100:.{digits}f}"
        if abs(float(text) - confidence * 100) < 1e-9 or digits == 2:
            return f"{text}%"
    raise AssertionError("unreachable")  # pragma: no cover


def format_interval(row: Mapping[str, Any]) -> str:
    """``95% CI 1.61–2.02×``, with a note when the figure was picked among several (its
    interval is one of several held simultaneously). A sequential run's level is the
    share of the 5% error rate its looks left (decisions.Levels), so it reads above 95%."""
    text = f"{format_level(float(row.get('confidence', math.nan)))} CI "
    text += format_range(row["ci_low"], row["ci_high"])
    count = int(row.get("candidates") or 1)
    if count > 1:
        text += f", one of {count} simultaneous intervals"
    return text


# A decision in the words of a comparison table's verdict column, by what a gain is.
def format_verdict(row: Mapping[str, Any], gains: str, loses: str) -> str:
    """What a comparison row decides, in the table's words: ``gains``/``loses`` for a
    difference, "equivalent" within the margin, "undecided"; "" when there is no figure."""
    if math.isnan(float(row["ratio"])):
        return ""
    word = str(row.get("decision") or "undecided")
    return {"gains": gains, "loses": loses}.get(word, word)


def format_needed(row: Mapping[str, Any]) -> str:
    """What would decide an undecided figure: about how many passes in all, or a quieter
    machine when no practical number of passes would."""
    needed, passes = float(row.get("needed", math.nan)), int(row.get("passes") or 0)
    if math.isnan(float(row["ratio"])) or passes < 2:
        return "more passes would give it an interval"
    if math.isnan(needed):
        return ("more passes are unlikely to decide it on a machine this noisy: a quieter "
                "machine might")  # fmt: skip
    return f"about {int(needed)} passes in all would decide it ({passes} so far)"


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
