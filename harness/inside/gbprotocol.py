"""What the in-interpreter code and the host agree on: statuses, exit codes, model names.

gilbench's in-interpreter code (every module of inside/) runs inside the measured
interpreter and is started by path, never imported from the host harness. It therefore
uses only the standard library and only the syntax that Python 2.7 and 3.4+ share: Jython
2.7 and IronPython 3.4 load it too (gbasync.py, 3.5+, is the one exception).

The host harness keeps its own copies of the constants below, and a test reads these
with ``ast.literal_eval`` to hold the two sides together: keep each one a plain
``NAME = literal`` assignment. A runner that fails prints one STATUS_PREFIX line
(``report_status``) and exits with the matching status (``exit_code``); a model the
implementation lacks is a ``WorkloadFailure("unsupported", reason)``, which the host shows
as a neutral cell.
"""

import sys

# Exit statuses that let the host tell a wrong result from a crash. pyperf's master process
# prints each worker's exit status, and the host also reads the STATUS_PREFIX line below.
EXIT_WRONG_CHECKSUM = 17
EXIT_GIL_MISMATCH = 18
EXIT_UNSUPPORTED = 19
STATUS_PREFIX = "GILBENCH-STATUS"
MODEL_WIDE_LINE = "GILBENCH-SCOPE model"  # the status that follows holds for any workload
COUNT_PREFIX = "GILBENCH-COUNT"  # counter.py's one line of JSON: the units it ran, checked
NOTE_PREFIX = "GILBENCH-NOTE"  # what to know of a measured cell: "numpy re-enabled the GIL"

MODELS = (
    "serial",
    "threads",
    "processes",
    "processes-shm",
    "subinterpreters",
    "subinterpreters-shared",
    "asyncio",
    "asyncio-to-thread",
    "threadpool",
    "processpool",
    "processpool-chunked",
    "interpool",
)

# Of the gilbench_* metadata every runner adds; results.py reads it. 1: gilbench_checksum
# held the checksum's repr; 2: its plain value (gbmeasure.checksum_text).
METADATA_VERSION = 2


class WorkloadFailure(Exception):
    """A unit of work failed: ``status`` is the result status the host records."""

    def __init__(self, status, detail, model_wide=False):
        Exception.__init__(self, detail)
        self.status = status
        self.detail = detail
        self.model_wide = model_wide  # holds for every workload under this model


def unsupported(reason, model_wide=False):
    """The failure for a model this implementation (or this workload) can't run.

    ``model_wide``: the implementation lacks the model itself, so every workload would get
    the same answer, and the host needn't start the interpreter again to hear it.
    """
    return WorkloadFailure("unsupported", reason, model_wide)


def exit_code(status):
    """The exit status a runner leaves with after reporting ``status``."""
    return {"wrong-checksum": EXIT_WRONG_CHECKSUM, "gil-mismatch": EXIT_GIL_MISMATCH,
            "unsupported": EXIT_UNSUPPORTED}.get(status, 1)  # fmt: skip


def report_status(status, detail, model_wide=False):
    """Print the one line the host parses to classify a failed benchmark.

    A model-wide failure is announced by MODEL_WIDE_LINE just before it.
    """
    line = "%s %s: %s" % (STATUS_PREFIX, status, " ".join(str(detail).split()))
    if model_wide:
        line = MODEL_WIDE_LINE + "\n" + line
    sys.stderr.write(line + "\n")
    sys.stderr.flush()
