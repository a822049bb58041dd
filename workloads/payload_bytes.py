"""Data in, data out: each unit takes a buffer of SIZE bytes and gives SIZE bytes back.

Category: payload. A real program hands its workers data and gets results back, and how
that data travels decides between the models: threads and asyncio pass a reference;
processes pickle it through a pipe, both ways; subinterpreters copy it through PEP 734's
calls. Each unit does the same work whatever the size: a pure-Python loop of about 3 ms on
CPython 3.14 (what only GIL-free threads, processes and subinterpreters run in parallel),
whose result keys one pass of C over the data (``bytes.translate``) that makes the output.
So the size changes only what there is to move, and the output proves that both the loop
and the data arrived intact.

Sized by ``PAYLOADS`` (README, "Adding a workload"): ``--payload`` sweeps other sizes.
"""

CATEGORY = "payload"
TAGS = ("payload", "data")
DESCRIPTION = "a fixed pure-Python loop, then a C pass over SIZE bytes in and out"
# The sizes measured unless --payload says otherwise: none, a small message, a large one,
# one whose copies cost a good share of the unit's work (about 1 ms of a 3 ms unit each way
# through a pipe here), and an image's or an array's worth, whose copies cost more than the
# work: there the answer doesn't hang on whether the machine's second CPU is free.
PAYLOADS = ("0", "1KiB", "64KiB", "1MiB", "16MiB")

ITERATIONS = 40000  # about 3 ms a unit on CPython 3.14 here
KEY = 2106535879  # what the loop ends on: the output's translation table depends on it

try:
    xrange
except NameError:
    xrange = range

_PATTERN = bytes(bytearray(range(256)))


def make_input(size):
    """One unit's argument: ``size`` bytes of a repeating 0..255 pattern."""
    return (_PATTERN * (size // 256 + 1))[:size]


def _table(key):
    """A translation table that rotates every byte by ``key % 255 + 1``."""
    shift = key % 255 + 1
    return bytes(bytearray((i + shift) % 256 for i in xrange(256)))


def _loop():
    seed = 7
    for _ in xrange(ITERATIONS):
        seed = (seed * 1103515245 + 12345) & 0x7FFFFFFF
    return seed


def kernel(data):
    """The loop, then the data given back rotated by the loop's result."""
    return bytes(data).translate(_table(_loop()))


def expected_output(size):
    return make_input(size).translate(_table(KEY))
