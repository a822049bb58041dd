"""Binary trees: build and walk many short-lived small objects.

Category: allocation and reference counting. Every node is a fresh object that is
created, counted and freed, so the allocator, reference counting and the garbage
collector do most of the work. Free-threaded builds pay for thread-safe reference
counts and per-thread heaps; processes pay nothing but memory.
"""

CATEGORY = "alloc"
TAGS = ("alloc", "refcount", "gc")
DESCRIPTION = "many small short-lived objects (binary trees); stresses allocator and refcounts"
# total node count checked over all trees built: ITERATIONS * (2**(DEPTH+1) - 1)
CHECKSUM = 327670

DEPTH = 14  # 32767 nodes a tree
ITERATIONS = 10  # about 70 ms a unit on CPython 3.14

try:
    xrange
except NameError:
    xrange = range


class Node(object):
    __slots__ = ("left", "right")

    def __init__(self, left, right):
        self.left = left
        self.right = right


def _make(depth):
    if depth == 0:
        return Node(None, None)
    depth -= 1
    return Node(_make(depth), _make(depth))


def _count(node):
    if node.left is None:
        return 1
    return 1 + _count(node.left) + _count(node.right)


def kernel():
    """Build ITERATIONS trees of depth DEPTH, count their nodes, drop them."""
    total = 0
    for _ in xrange(ITERATIONS):
        total += _count(_make(DEPTH))
    return total
