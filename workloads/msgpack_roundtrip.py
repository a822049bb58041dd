"""msgpack packing and unpacking records: C code that holds the GIL.

Category: C code that holds the GIL. msgpack's extension reads and builds Python objects
all the time, so it keeps the GIL, like the json module: on a GIL build threads take
turns. Free-threaded builds and processes can run it side by side, if msgpack keeps the
GIL off when imported (gilbench records whether it did). PyPy gets msgpack's own
pure-Python fallback. Needs msgpack (REQUIRES).
"""

import zlib

import msgpack

CATEGORY = "c-holds"
TAGS = ("c-holds", "msgpack", "serialization", "packages")
DESCRIPTION = "msgpack: packb + unpackb round trips of records; C code holding the GIL"
REQUIRES = ("msgpack>=1",)
# round trips that restored it, length and CRC-32 of the packed document
CHECKSUM = "45:6575:08e06ff9"

ROUNDS = 45  # batches of 20 round trips; about 60 ms a unit on CPython 3.14 here
ITEMS = 80  # records in the document

try:
    xrange
except NameError:
    xrange = range


def _document():
    """Records of ints, ASCII strings and lists: the same bytes on every implementation."""
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
    """Pack and unpack the document ROUNDS x 20 times, checking each unpacked copy."""
    document = _document()
    packed = b""
    same = 0
    for _ in xrange(ROUNDS):
        for _ in xrange(20):
            packed = msgpack.packb(document)
            unpacked = msgpack.unpackb(packed)
        same += unpacked == document
    return "%d:%d:%08x" % (same, len(packed), zlib.crc32(packed) & 0xFFFFFFFF)
