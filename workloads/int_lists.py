"""Integers and lists: a prime sieve and a pseudo-random list folded by hand.

Category: pure-Python CPU. Small-integer arithmetic, list indexing and appends, all in
the interpreter's bytecode loop with nothing that releases the GIL. Together with nbody
(floats) and method_calls (objects) it shows whether a speedup holds across the kinds
of code people actually write, or only for one of them.
"""

CATEGORY = "cpu"
TAGS = ("cpu", "int", "list")
DESCRIPTION = "pure-Python integer and list work (sieve, LCG, folds); nothing releases the GIL"
# sum of the primes below LIMIT, then folded with the LCG list's checksum (exact integers)
CHECKSUM = 1466914887

LIMIT = 200000  # the sieve's size
COUNT = 200000  # pseudo-random integers generated and folded
# together about 70 ms a unit on CPython 3.14

try:
    xrange
except NameError:
    xrange = range


def _primes_below(limit):
    sieve = [True] * limit
    sieve[0] = sieve[1] = False
    i = 2
    while i * i < limit:
        if sieve[i]:
            for j in xrange(i * i, limit, i):
                sieve[j] = False
        i += 1
    return [n for n in xrange(limit) if sieve[n]]


def _lcg_list(count):
    seed = 12345
    values = []
    for _ in xrange(count):
        seed = (seed * 1103515245 + 12345) & 0x7FFFFFFF
        values.append(seed % 100003)
    return values


def kernel():
    """Sieve, generate, fold: every value is an exact integer on every implementation."""
    total = sum(_primes_below(LIMIT))
    values = _lcg_list(COUNT)
    folded = 0
    for index in xrange(len(values)):
        folded = (folded * 31 + values[index] + index) % 1000000007
    return (total ^ folded) & 0x7FFFFFFF
