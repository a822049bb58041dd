"""Never returns (test fixture for timeouts)."""

import time

CATEGORY = "cpu"
DESCRIPTION = "sleeps far longer than any test timeout (test fixture)"
CHECKSUM = 0


def kernel():
    time.sleep(3600)
    return 0
