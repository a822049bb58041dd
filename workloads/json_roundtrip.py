"""json.dumps and json.loads of a nested document: C code that holds the GIL.

Category: C code that holds the GIL. CPython's json accelerator is C, but it creates and
inspects Python objects all the time, so it never releases the GIL: on a GIL build,
threads take turns even though the time goes into C. Free-threaded builds and processes
can run it side by side. Most "fast because it's in C" libraries are like this one.
"""

import json
import zlib

CATEGORY = "c-holds"
TAGS = ("c-holds", "json")
DESCRIPTION = "json.dumps + json.loads round trips; C code holding the GIL, so threads take turns"
# length and CRC-32 of the serialised document, and how many round trips restored it
CHECKSUM = "21:9465:b9bd19d6"

ROUNDS = 21  # batches of 20 round trips; about 60 ms a unit on CPython 3.14
ITEMS = 80  # records in the document

try:
    xrange
except NameError:
    xrange = range


def _document():
    """A nested document of ints and ASCII strings: the same bytes on every implementation."""
    return {
        "version": 3,
        "items": [
            {
                "id": i,
                "name": "item-%04d" % i,
                "tags": ["t%d" % (i % 5), "g%d" % (i % 3)],
                "price_cents": (i * 397) % 10000,
                "stock": {"warehouse": i % 4, "count": (i * 13) % 50, "reserved": i % 2 == 0},
            }
            for i in xrange(ITEMS)
        ],
    }


def kernel():
    """Serialise and parse the document ROUNDS times, checking each parse."""
    document = _document()
    text = ""
    same = 0
    for _ in xrange(ROUNDS):
        for _ in xrange(20):
            text = json.dumps(document, sort_keys=True, separators=(",", ":"))
            parsed = json.loads(text)
        same += parsed == document
    return "%d:%d:%08x" % (same, len(text), zlib.crc32(text.encode("ascii")) & 0xFFFFFFFF)
