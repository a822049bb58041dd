"""A unit like tiny's, from a module whose import may run the cyclic collector once.

GILBENCH_TEST_COLLECT names a file: the import that finds it takes it away and collects.
"longer-run" instead: an import in a counter run of more than one unit collects.
"""

import gc
import os
import sys

CATEGORY = "cpu"
TAGS = ("test",)
DESCRIPTION = "collects garbage at import when told to (test fixture)"
CHECKSUM = 1

_told = os.environ.get("GILBENCH_TEST_COLLECT", "")
if _told == "longer-run":
    if "--units" in sys.argv and int(sys.argv[sys.argv.index("--units") + 1]) > 1:
        gc.collect()
elif _told and os.path.exists(_told):
    os.remove(_told)
    gc.collect()


def kernel():
    return 1
