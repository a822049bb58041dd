"""A generator kernel that only waits: 4 waits of 25 ms (test fixture)."""

CATEGORY = "io"
DESCRIPTION = "waits 4 x 25 ms through the model's driver (test fixture)"
CHECKSUM = 4


def kernel():
    done = 0
    for _ in range(4):
        yield ("sleep", 0.025)
        done += 1
    yield ("result", done)
