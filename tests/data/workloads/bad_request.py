"""A generator kernel that yields a request no model knows (test fixture)."""

CATEGORY = "io"
DESCRIPTION = "yields an unknown request (test fixture)"
CHECKSUM = 0


def kernel():
    yield ("teleport", "mars")
    yield ("result", 0)
