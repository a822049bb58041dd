"""Compute, then wait, then compute: a request handler's day in miniature.

Category: mixed. Each unit alternates 8 times between about 4 ms of pure-Python work
(parsing and summing a small record) and a 5 ms wait, as a web handler alternates
between its own code and its database. Threads overlap the waits on any build, but on a
GIL build the compute parts still take turns, so throughput levels off; free-threaded
builds, processes and subinterpreters overlap both. asyncio overlaps the waits only.
"""

CATEGORY = "mixed"
TAGS = ("mixed", "cpu", "io", "sleep")
DESCRIPTION = "4 ms of pure Python then a 5 ms wait, 8 times; GIL builds overlap only the waits"
CHECKSUM = 9216671982  # the sum of every step's computed total (exact integers)

STEPS = 8
WAIT_S = 0.005  # the I/O half of a step
WORK = 48000  # loop iterations in the CPU half of a step: about 4 ms on CPython 3.14

try:
    xrange
except NameError:
    xrange = range


def _work(step):
    total = 0
    for i in xrange(WORK):
        total += (i * step) % 7 + i
    return total


def kernel():
    """STEPS times: compute, then wait (the model decides how to wait)."""
    grand = 0
    for step in xrange(STEPS):
        grand += _work(step)
        yield ("sleep", WAIT_S)
    yield ("result", grand)
