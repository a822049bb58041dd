"""Returns a different value on every call (test fixture: a non-deterministic kernel)."""

import random

CATEGORY = "cpu"
DESCRIPTION = "returns a random number where its CHECKSUM promises 7 (test fixture)"
CHECKSUM = 7


def kernel():
    return random.randint(10, 10**9)
