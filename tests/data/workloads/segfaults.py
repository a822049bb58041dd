"""Dies of SIGSEGV inside the kernel (test fixture)."""

import ctypes
import os
import signal

CATEGORY = "cpu"
DESCRIPTION = "reads an unmapped address through ctypes: a segfault (test fixture)"
CHECKSUM = 0
UNMAPPED = 0xDEAD0000  # far above anything an interpreter maps at its start


def kernel():
    ctypes.string_at(UNMAPPED, 1)
    os.kill(os.getpid(), signal.SIGSEGV)  # should the address be mapped after all
    return 0
