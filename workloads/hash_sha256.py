"""SHA-256 over large buffers: the time goes into C code that releases the GIL.

Category: C code that releases the GIL. hashlib drops the GIL while it hashes any buffer
larger than 2 KiB, so threads scale on every CPython build. This is the case where the
GIL never mattered, and a check that the free-threaded build costs nothing here.
"""

import hashlib

CATEGORY = "c-release"
TAGS = ("c-release", "hashlib", "quick")
DESCRIPTION = "hashlib.sha256 over 1 MiB buffers; C code that releases the GIL"
# hex digest of the last round's chain of digests (deterministic input)
CHECKSUM = "89b9216fb8275ce8d3921392895dc551466dc70d27e92ae1f9ff32addce10032"

BUFFER_BYTES = 1 << 20  # 1 MiB: far above hashlib's 2 KiB release threshold
ROUNDS = 48  # about 60 ms a unit on this machine

try:
    xrange
except NameError:
    xrange = range

# Built once at import, outside any timed region; read-only afterwards.
_BUFFER = bytearray((i * 7 + 3) & 0xFF for i in xrange(BUFFER_BYTES))
_BUFFER = bytes(_BUFFER)


def kernel():
    """Hash the buffer ROUNDS times, chaining each digest into the next."""
    digest = b""
    for _ in xrange(ROUNDS):
        h = hashlib.sha256(digest)
        h.update(_BUFFER)
        digest = h.digest()
    return h.hexdigest()
