"""Every worker bumps counters in one shared dict with no lock: how many updates are lost?

Category: shared-state contention. ``counts[key] += 1`` is a read, an add and a write.
The GIL never promised to make that atomic; CPython 3.10+ happens not to switch threads
inside it, so GIL builds usually lose nothing, while builds and implementations without
a GIL run the workers truly at once and lose updates. Code that relied on the GIL for
this breaks there, and this workload says by how much.

The harness compares the dict's total before and after every round with the updates the
workers made; ``COUNTS_LOST_UPDATES = True`` makes a shortfall a reported figure
(``gilbench_lost_updates``), not a failure. Processes and subinterpreters share no memory,
so they report this workload unsupported.
"""

CATEGORY = "contention"
TAGS = ("contention", "shared-state", "race", "dict")
DESCRIPTION = "threads update one shared dict with no lock; counts the updates lost without a GIL"
UPDATES = 1200000  # updates one unit makes: about 60 ms on CPython 3.14
CHECKSUM = 1200000  # each unit returns its UPDATES; the round counts what the dict really gained
COUNTS_LOST_UPDATES = True  # lost updates are this workload's finding, not an error
KEYS = 16  # few keys, all workers on the same ones: the most contention one dict can have

try:
    xrange
except NameError:
    xrange = range

_COUNTS = dict.fromkeys(xrange(KEYS), 0)  # shared by every worker of the process


def updates_seen():
    """The total of every counter (read between rounds, while no worker runs)."""
    return sum(_COUNTS.values())


def kernel():
    """Make UPDATES unsynchronised increments to the shared counters."""
    counts = _COUNTS
    for i in xrange(UPDATES):
        key = i & 15
        counts[key] += 1
    return UPDATES
