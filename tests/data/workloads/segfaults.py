"""Dies of SIGSEGV inside the kernel (test fixture)."""

import os
import signal

CATEGORY = "cpu"
DESCRIPTION = "dies of a segmentation fault in the kernel (test fixture)"
CHECKSUM = 0


def kernel():
    try:
        import faulthandler

        faulthandler._sigsegv()  # a real invalid memory access, where CPython has one
    except (ImportError, AttributeError):
        pass
    os.kill(os.getpid(), signal.SIGSEGV)
    return 0
