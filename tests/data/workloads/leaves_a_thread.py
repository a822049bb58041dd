"""Starts a thread that never ends, so the process can't exit (test fixture)."""

import threading
import time

CATEGORY = "cpu"
DESCRIPTION = "leaves a non-daemon thread running after the kernel returns (test fixture)"
CHECKSUM = 0
_STARTED = []


def _forever():
    time.sleep(3600)


def kernel():
    if not _STARTED:
        _STARTED.append(threading.Thread(target=_forever))
        _STARTED[0].start()
    return 0
