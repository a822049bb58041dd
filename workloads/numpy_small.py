"""numpy on small arrays: C code that holds the GIL.

Category: C code that holds the GIL. On an array of eight elements a numpy call is all
overhead: argument parsing, dtype resolution, a new array object. numpy keeps the GIL for
arrays that small, so on a GIL build threads take turns; free-threaded builds and
processes can run it side by side, if numpy keeps the GIL off when imported (gilbench
records whether it did). Needs numpy (REQUIRES).
"""

import numpy as np

CATEGORY = "c-holds"
TAGS = ("c-holds", "numpy", "packages")
DESCRIPTION = "numpy: arithmetic on 8-element arrays; C code holding the GIL, call by call"
REQUIRES = ("numpy>=2",)
# the sum of every round's clipped array
CHECKSUM = 2305920120

ROUNDS = 24000  # about 60 ms a unit on CPython 3.14 here

try:
    xrange
except NameError:
    xrange = range


def kernel():
    """ROUNDS small array expressions, each summed: integers, the same on every numpy."""
    base = np.arange(8, dtype=np.int64)
    total = 0
    for i in xrange(ROUNDS):
        scaled = base * 3 + i
        total += int(np.maximum(scaled, 11).sum())
    return total
