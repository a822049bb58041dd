"""Forks a child that outlives the benchmark (test fixture)."""

import os
import time

CATEGORY = "cpu"
DESCRIPTION = "forks a child that sleeps on after the kernel returns (test fixture)"
CHECKSUM = 0


def kernel():
    if os.fork() == 0:
        time.sleep(3600)
        os._exit(0)
    return 0
