"""The status of a cell, one word each, and the groups the report sorts them into.

Every step uses these: the runner's outcome (``run``), the cell table (``compare``), the
failures the pages and summary.md list (``report``) and the exit status of a command (``cli``).
"""

from __future__ import annotations

from typing import Final, Literal, get_args

Status = Literal[
    "ok",
    "unsupported",  # the implementation (or this workload) lacks the model; with the reason
    "unavailable",  # the implementation isn't on this machine; with the reason and the fix
    "crashed",
    "timeout",
    "wrong-checksum",  # a unit returned something else than its workload's CHECKSUM
    "gil-mismatch",  # the GIL state in force broke the implementation's promise
    "missing",  # planned, but no values came back (the run ended first, or a runner wrote none)
]
STATUSES: Final[tuple[Status, ...]] = get_args(Status)

OK: Final[Status] = "ok"
# Expected gaps: the report explains them and they fail nothing.
NEUTRAL: Final = frozenset[Status]({"unsupported", "unavailable"})
# Something went wrong: listed under "Failures", and `compare` exits 1.
FAILED: Final = frozenset[Status](set(STATUSES) - {OK} - NEUTRAL)


def parse_status(text: str) -> Status:
    """A status word a runner printed; a word gilbench doesn't know reads as a crash."""
    for status in STATUSES:
        if text == status:
            return status
    return "crashed"
