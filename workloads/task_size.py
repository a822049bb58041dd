"""Small tasks: each unit is one task of SIZE seconds of pure-Python work.

Category: tasks. ``executor.map(f, items)`` hands a pool one task per item, and what each
task costs on top of its work (submitting it, waking a worker, sending its argument and
its result back) decides whether a pool pays off at all: with tasks of 10 microseconds a
process pool spends most of its time on the hand-offs, with tasks of 10 ms hardly any.
The pool models (threadpool, processpool, processpool-chunked, interpool) run this.

A task's work is a loop of a fixed number of iterations; SIZE names it by the time it
takes CPython 3.14 on gilbench's machine (ITERATIONS_PER_SECOND), and every implementation's
own time per task is measured (the serial cell's), and stated by the findings.

Sized by ``TASK_SIZES`` (README, "Adding a workload"): ``--task-size`` sweeps others.
"""

CATEGORY = "tasks"
TAGS = ("tasks", "pools")
DESCRIPTION = "one pure-Python loop of SIZE seconds (on CPython 3.14 here) per task"
TASK_SIZES = ("10us", "100us", "1ms", "10ms")
# iterations of the loop below a second, on CPython 3.14's default build on gilbench's
# 2-vCPU machine (the median of 15 loops of 30 ms each)
ITERATIONS_PER_SECOND = 33000000

try:
    xrange
except NameError:
    xrange = range


def make_input(size):
    """One task's argument: the iterations that make ``size`` seconds of work here."""
    return max(1, int(round(size * ITERATIONS_PER_SECOND)))


def kernel(n):
    """Sum the squares below ``n``."""
    total = 0
    for i in xrange(n):
        total += i * i
    return total


def expected_output(size):
    n = make_input(size)
    return (n - 1) * n * (2 * n - 1) // 6
