"""Regular expressions scanning a log: C code that holds the GIL.

Category: C code that holds the GIL. The ``re`` engine is C and runs for a long time per
call here (one ``findall`` over 420 KB), yet it never releases the GIL, because it works
on Python objects. GIL builds therefore serialise threads; free-threaded builds and
processes don't. Parsing, validation and templating code often looks like this.
"""

import re

CATEGORY = "c-holds"
TAGS = ("c-holds", "re", "regex")
DESCRIPTION = "re.findall over a 420 KB log; C code holding the GIL, so threads take turns"
# matches of each pattern over all passes, and the sum of the captured latencies
CHECKSUM = "15431:78000:77675:39321503"

LINES = 6000  # log lines scanned
PASSES = 13  # about 60 ms a unit on CPython 3.14

try:
    xrange
except NameError:
    xrange = range

# Compiled once at import; the compiled patterns are read-only.
ERRORS = re.compile(r"^\S+ \S+ (?:POST|PUT) /api/v\d+/\w+/\d+ 5\d\d ", re.M)
LATENCIES = re.compile(r" (\d+)ms$", re.M)
USERS = re.compile(r"user=(u[0-9a-f]{3,5})\b")


def _log():
    lines = []
    seed = 11
    for i in xrange(LINES):
        seed = (seed * 1103515245 + 12345) & 0x7FFFFFFF
        method = ("GET", "POST", "PUT", "DELETE")[seed % 4]
        status = (200, 201, 404, 500, 503)[seed % 5]
        lines.append(
            "2026-11-24T19:%02d:%02d host%d %s /api/v%d/items/%d %d user=u%x %dms"
            % (i // 60 % 60, i % 60, seed % 8, method, seed % 3 + 1, seed % 10000, status,
               seed % 0xFFFF, seed % 997)
        )  # fmt: skip
    return "\n".join(lines)


def kernel():
    """Build the log, then run every pattern over it PASSES times."""
    text = _log()
    errors = latencies = users = latency_sum = 0
    for _ in xrange(PASSES):
        errors += len(ERRORS.findall(text))
        found = LATENCIES.findall(text)
        latencies += len(found)
        latency_sum += sum(int(x) for x in found)
        users += len(USERS.findall(text))
    return "%d:%d:%d:%d" % (errors, latencies, users, latency_sum)
