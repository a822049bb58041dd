"""Allocates until the interpreter raises MemoryError (test fixture; the runner's memory
limit keeps the machine safe)."""

CATEGORY = "cpu"
DESCRIPTION = "allocates 64 MiB blocks until MemoryError, under the runner's limit (test fixture)"
CHECKSUM = 0


def kernel():
    hoard = []
    while True:
        hoard.append(bytes(64 * 1024 * 1024))  # zeroed lazily: counted, never touched
