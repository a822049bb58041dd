"""Dict creation: many small short-lived dicts, built, grouped and dropped.

Category: allocation and reference counting. Records as dicts are how much real Python
code moves data around: every record is a fresh dict with a few keys, so the allocator,
dict resizing and reference counting dominate. Free-threaded builds pay for per-thread
heaps and thread-safe reference counts here; processes pay only memory.
"""

CATEGORY = "alloc"
TAGS = ("alloc", "refcount", "dict")
DESCRIPTION = "many small dicts made and dropped; allocator and refcounts, dearer without a GIL"
# sum over all batches of every group's score total (exact integers)
CHECKSUM = 6999226

BATCHES = 35
RECORDS = 4000  # dicts made per batch; with BATCHES, about 70 ms a unit on CPython 3.14

try:
    xrange
except NameError:
    xrange = range


def kernel():
    """Make RECORDS records per batch, group them by key, total the groups."""
    total = 0
    for batch in xrange(BATCHES):
        records = [
            {"id": j, "group": j % 7, "score": (j * 31 + batch) % 101, "flags": (j & 3, j & 4)}
            for j in xrange(RECORDS)
        ]
        groups = {}
        for record in records:
            group = groups.get(record["group"])
            if group is None:
                group = groups[record["group"]] = {"count": 0, "score": 0}
            group["count"] += 1
            group["score"] += record["score"]
        total += sum(group["score"] for group in groups.values())
    return total
