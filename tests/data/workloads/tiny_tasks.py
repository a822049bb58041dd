"""A task-size workload small enough for fast tests: a sum of squares (test fixture)."""

CATEGORY = "tasks"
DESCRIPTION = "sum of squares below SIZE x 1e6 (test fixture)"
TASK_SIZES = ("10us", "1ms")

try:
    xrange
except NameError:
    xrange = range


def make_input(size):
    return int(size * 1000000)


def kernel(n):
    total = 0
    for i in xrange(n):
        total += i * i
    return total


def expected_output(size):
    n = make_input(size)
    return (n - 1) * n * (2 * n - 1) // 6
