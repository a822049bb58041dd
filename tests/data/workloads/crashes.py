"""Raises inside the kernel (test fixture)."""

CATEGORY = "cpu"
DESCRIPTION = "raises ZeroDivisionError in the kernel (test fixture)"
CHECKSUM = 0


def kernel():
    return 1 // 0
