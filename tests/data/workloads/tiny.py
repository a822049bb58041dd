"""A unit of work small enough for fast tests: sum of squares."""

CATEGORY = "cpu"
TAGS = ("test",)
DESCRIPTION = "sum of squares below 20000 (test fixture)"
CHECKSUM = 2666466670000

try:
    xrange
except NameError:
    xrange = range


def kernel():
    total = 0
    for i in xrange(20000):
        total += i * i
    return total
