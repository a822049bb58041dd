"""A unit like tiny's, from a module that prints a line when the interpreter finalizes."""

import atexit
import sys

CATEGORY = "cpu"
TAGS = ("test",)
DESCRIPTION = "prints FINALIZED at exit (test fixture)"
CHECKSUM = 1


def _finalized():
    sys.stdout.write("FINALIZED\n")
    sys.stdout.flush()


atexit.register(_finalized)


def kernel():
    return 1
