"""Returns at once on the main thread, never on any other (test fixture: a threads-only hang)."""

import threading
import time

CATEGORY = "cpu"
DESCRIPTION = "hangs only where it runs off the main thread, as a deadlock might (test fixture)"
CHECKSUM = 0


def kernel():
    if threading.current_thread().name != "MainThread":
        time.sleep(3600)
    return 0
