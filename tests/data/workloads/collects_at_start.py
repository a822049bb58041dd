"""A unit like tiny's, from a module whose import may run the cyclic collector once.

Told by files in $TEMP (which pyperf, and so a count, passes on): the import that finds
gilbench-collect-once takes it away and collects; with gilbench-collect-longer there, an
import in a counter run of more than one unit collects.
"""

import gc
import os
import sys

CATEGORY = "cpu"
TAGS = ("test",)
DESCRIPTION = "collects garbage at import when told to (test fixture)"
CHECKSUM = 1

_told = os.environ.get("TEMP", "")
_once = os.path.join(_told, "gilbench-collect-once")
if _told and os.path.exists(os.path.join(_told, "gilbench-collect-longer")):
    if "--units" in sys.argv and int(sys.argv[sys.argv.index("--units") + 1]) > 1:
        gc.collect()
elif _told and os.path.exists(_once):
    os.remove(_once)
    gc.collect()


def kernel():
    return 1
