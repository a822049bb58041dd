"""Waiting: each unit is a series of short waits, as on a database or a remote API.

Category: I/O-bound. The kernel does no work of its own: it asks the model to wait
(``yield ("sleep", seconds)``), and the model waits its own way: ``time.sleep`` in a
thread, process or subinterpreter, ``asyncio.sleep`` on an event loop. Waiting never
needed the GIL, so threads and asyncio should reach W times the throughput at W workers
on every implementation, even past the core count. If they don't, the model itself
(its hand-offs, its wake-ups) is the overhead.
"""

CATEGORY = "io"
TAGS = ("io", "sleep", "latency", "quick")
DESCRIPTION = "8 waits of 10 ms a unit; waiting needs no GIL, so every model should overlap it"
CHECKSUM = 8  # waits completed

WAITS = 8
WAIT_S = 0.010  # 10 ms: long next to an event loop's wake-up cost, short next to a unit

try:
    xrange
except NameError:
    xrange = range


def kernel():
    """Wait WAITS times; the model decides how (blocking or awaited)."""
    done = 0
    for _ in xrange(WAITS):
        yield ("sleep", WAIT_S)
        done += 1
    yield ("result", done)
