"""Returns a value that differs from its declared CHECKSUM (test fixture)."""

CATEGORY = "cpu"
DESCRIPTION = "declares the wrong checksum (test fixture)"
CHECKSUM = 41


def kernel():
    return 42
