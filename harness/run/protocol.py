"""What the runners inside each interpreter tell the host, as the host reads it.

The in-interpreter side is ``harness/inside/gbprotocol.py``, which can't import this module
(it runs on Python 2.7 too, with nothing but the standard library). The two are kept equal
by ``tests/test_protocol.py``, which reads gbprotocol's constants with ``ast``.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Final

from harness.status import Status

INSIDE: Final = Path(__file__).resolve().parent.parent / "inside"
RUNNER: Final = INSIDE / "runner.py"  # pyperf front end, run by the measured interpreter's venv
PURE_RUNNER: Final = INSIDE / "pure_runner.py"  # pyperf's method without pyperf (Jython, ...)
SCRIPT_SITE: Final = INSIDE / "pyperf_site"  # sitecustomize for unchanged pyperf scripts
COUNTER: Final = INSIDE / "counter.py"  # serial units under valgrind, for instruction counts

# The models gbprotocol knows, in the order the report shows them.
MODELS: Final = ("serial", "threads", "processes", "processes-shm", "subinterpreters",
                 "subinterpreters-shared", "asyncio", "asyncio-to-thread", "threadpool",
                 "processpool", "processpool-chunked", "interpool")  # fmt: skip
STATUS_PREFIX: Final = "GILBENCH-STATUS"  # the line a runner prints for a failed benchmark
MODEL_WIDE_LINE: Final = "GILBENCH-SCOPE model"  # the status after it holds for any workload
COUNT_PREFIX: Final = "GILBENCH-COUNT"  # counter.py's line: the units it ran, checked
NOTE_PREFIX: Final = "GILBENCH-NOTE"  # a measured cell's note (gbload.gil_note), kept as detail
# Exit statuses, for a worker that dies before it can print its status line.
EXIT_STATUSES: Final[dict[int, Status]] = {17: "wrong-checksum", 18: "gil-mismatch",
                                           19: "unsupported"}  # fmt: skip
# The version of the gilbench_* metadata that the runners add to every pyperf run, and
# those the host reads (version 1's checksums were reprs: checksum_of).
METADATA_VERSION: Final = 2
READABLE_METADATA: Final = (1, 2)


def checksum_of(meta: Mapping[str, object]) -> str:
    """A run's checksum as a plain value. Metadata version 1 held its repr: a string in
    quotes (u'' on Python 2), a long with an L; "-" (a pyperf script's) was always plain."""
    text = str(meta["gilbench_checksum"])
    if meta["gilbench_version"] != 1 or text == "-":
        return text
    if re.fullmatch(r"-?\d+L", text):
        return text[:-1]
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text
    return "" if value is None else str(value)
