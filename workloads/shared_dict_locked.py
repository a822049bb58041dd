"""Every worker bumps counters in one shared dict, each update under one shared lock.

Category: shared-state contention. The workers don't do independent work here: they all
write the same dict, and a threading.Lock makes each read-modify-write atomic. Threads
then spend their time handing the lock around, whatever the build, so this measures what
correct sharing costs: the GIL gives no parallelism to lose, free-threading has nothing
to win, and contended locks and dict writes get slower as workers are added.

The harness checks after every round that the dict gained exactly the updates that the
workers made: none may be lost. Processes and subinterpreters share no memory, so they
report this workload unsupported.
"""

import threading

CATEGORY = "contention"
TAGS = ("contention", "shared-state", "lock", "dict")
DESCRIPTION = "threads update one shared dict under a lock; what correct sharing costs, 0 lost"
UPDATES = 600000  # updates one unit makes: about 60 ms on CPython 3.14
CHECKSUM = 600000  # each unit returns its UPDATES; every round checks the dict gained them all
COUNTS_LOST_UPDATES = False  # a lost update here is a bug: it fails the round
KEYS = 16  # few keys, all workers on the same ones: the most contention one dict can have

try:
    xrange
except NameError:
    xrange = range

_LOCK = threading.Lock()
_COUNTS = dict.fromkeys(xrange(KEYS), 0)  # shared by every worker of the process


def updates_seen():
    """The total of every counter: the harness compares it before and after each round."""
    with _LOCK:
        return sum(_COUNTS.values())


def kernel():
    """Make UPDATES increments to the shared counters, each under the lock."""
    counts, lock = _COUNTS, _LOCK
    for i in xrange(UPDATES):
        key = i & 15
        with lock:
            counts[key] += 1
    return UPDATES
