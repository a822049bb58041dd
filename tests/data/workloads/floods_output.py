"""Writes far more output than any log should hold (test fixture)."""

import sys

CATEGORY = "cpu"
DESCRIPTION = "prints 1 MiB lines without end (test fixture)"
CHECKSUM = 0


def kernel():
    line = "x" * (1024 * 1024) + "\n"
    while True:
        sys.stdout.write(line)
