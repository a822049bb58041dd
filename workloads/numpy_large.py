"""numpy sorting large integer arrays: C code that releases the GIL.

Category: C code that releases the GIL. numpy releases it inside a ufunc or a sort over
an array of a plain dtype, once the array is past a few hundred elements, so threads
scale on every CPython build here; on the free-threaded build, only if numpy keeps the GIL
off when imported (gilbench records whether it did). The arrays are integers, so every
implementation and numpy version computes the same checksum. Needs numpy (REQUIRES).
"""

import numpy as np

CATEGORY = "c-release"
TAGS = ("c-release", "numpy", "packages")
DESCRIPTION = "numpy: sort 1 Mi-element integer arrays; C code that releases the GIL"
REQUIRES = ("numpy>=2",)
# the sum of every 4096th sorted value, over the rounds
CHECKSUM = 892502110

LENGTH = 1 << 20  # 8 MiB an array: far past where numpy starts releasing the GIL
ROUNDS = 7  # about 60 ms a unit on CPython 3.14 here

try:
    xrange
except NameError:
    xrange = range


def kernel():
    """Mix ROUNDS arrays of integers, sort each, and sum a sample of the sorted values."""
    values = np.arange(LENGTH, dtype=np.int64)
    total = 0
    for r in xrange(ROUNDS):
        mixed = (values * 2654435761 + r * 40503) % 1000003  # ufuncs: the GIL released
        ordered = np.sort(mixed)  # most of the time: the GIL released
        total += int(ordered[::4096].sum())
    return total
