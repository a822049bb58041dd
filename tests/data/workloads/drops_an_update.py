"""A shared-state kernel that claims one update more than it makes (test fixture).

Tests flip COUNTS_LOST_UPDATES on the loaded module to see both behaviours.
"""

CATEGORY = "contention"
DESCRIPTION = "claims 100 updates to a shared counter, makes 99 (test fixture)"
CHECKSUM = 100
COUNTS_LOST_UPDATES = False

_COUNTS = [0]


def updates_seen():
    return _COUNTS[0]


def kernel():
    for _ in range(99):
        _COUNTS[0] += 1
    return 100
