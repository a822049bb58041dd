"""Sized workloads: each unit takes an argument of a given size in, and gives data back.

A workload that declares ``make_input(size)`` is *sized* (README, "Adding a workload"):

- ``make_input(size)`` builds one unit's argument: ``size`` bytes for a payload workload
  (``PAYLOADS``), ``size`` seconds of work for a task-size workload (``TASK_SIZES``);
- ``kernel(argument)`` runs one unit and returns its output;
- ``expected_output(size)`` is what every unit's output must equal: each one is checked
  against it, by whoever receives it, so that the data coming back is verified too.

A model moves each unit's argument to a worker and the output back inside the timed round,
the way a real program of that model does (``stream``): threads and asyncio hand over
references, processes pickle through their pipes, subinterpreters go through PEP 734's
calls (gbinterp.py), the pools through their executors (gbpool.py); gbshm.py and
gbinterp's shared variant move them through shared buffers. Each worker also builds an
argument of its own once, outside every clock (``prepare``): the paired serial units run
on it where the worker runs (``gbunits.runner``), so that a speedup compares moving the
data and working on it with the same work on data already there.
"""

import zlib

import gbprobe
import gbprotocol

try:
    xrange
except NameError:  # Python 3
    xrange = range

LOCAL = "_gilbench_local"  # the attribute of a prepared workload module: its Local
AHEAD = 2  # units handed to a worker at a time: the one it runs, and the next (stream)


class Local(object):
    """One process's (or interpreter's) own argument of the size, and the expected output."""

    def __init__(self, module, size):
        self.size = size
        self.argument = module.make_input(size)
        self.expected = module.expected_output(size)


def sized(module):
    return hasattr(module, "make_input")


def prepare(module, size):
    """Build this process's argument and expected output once, before any clock runs."""
    local = getattr(module, LOCAL, None)
    if local is None or local.size != size:
        local = Local(module, size if size is not None else 0)
        setattr(module, LOCAL, local)
    return local


def local(module):
    """The prepared Local of a sized workload module (``prepare`` comes first)."""
    found = getattr(module, LOCAL, None)
    if found is None:
        raise gbprotocol.WorkloadFailure("crashed", "a sized workload ran before prepare()")
    return found


def describe(value):
    """A short, picklable account of an output: its length and CRC-32 for data."""
    try:
        data = memoryview(value).tobytes()
    except TypeError:
        text = repr(value)
        return text if len(text) <= 80 else text[:77] + "..."
    return "%d bytes, crc32 %08x" % (len(data), zlib.crc32(data) & 0xFFFFFFFF)


def check_output(expected, output):
    """(status, value): ("ok", its length) if ``output`` equals ``expected``."""
    try:
        same = output == expected
    except Exception:  # a buffer that can't be compared is as wrong as a differing one
        same = False
    if not same:
        return ("wrong-checksum", "expected output %s, got %s"
                % (describe(expected), describe(output)))  # fmt: skip
    try:
        return ("ok", len(output))
    except TypeError:
        return ("ok", output)


def checksum_of(module, size):
    """What the run metadata records as a sized workload's checksum."""
    return describe(prepare(module, size).expected)


def run_kernel(module, argument):
    """(status, output) of one unit on ``argument``; a raised exception comes back as
    crashed, with its traceback, the output unchecked (the receiver checks it)."""
    try:
        return ("ok", module.kernel(argument))
    except gbprotocol.WorkloadFailure as exc:
        return (exc.status, exc.detail)
    except Exception:
        import traceback

        return ("crashed", traceback.format_exc())


def timed_kernel(module, argument):
    """``run_kernel``, timed by the worker that runs it: ((status, output), seconds)."""
    start = gbprobe.clock()
    done = run_kernel(module, argument)
    return done, gbprobe.clock() - start


def stream(give, take, workers, units, arguments, expected, check=check_output):
    """Hand each of ``workers`` workers ``units`` units, one argument at a time.

    ``give(index, argument)`` sends worker ``index`` one unit; ``take()`` waits for any
    worker's answer, ``(index, (status, output), seconds)``; each worker answers its units
    in the order it got them. A worker has AHEAD units handed to it at a time: while it
    works on one, the next is already waiting, as ProcessPoolExecutor keeps a call queued
    beyond its busy workers, so that no worker sits idle while its next argument is on its
    way (each hand-off wakes a thread or a process, 0.2 to 1 ms on this project's VM), and
    the memory in flight stays bounded whatever the payload. Each output is checked here,
    where it arrived, by ``check(expected, output)`` (``check_output``, or a model's own),
    before the worker's next unit is handed out. Returns (outcomes, each worker's busy
    seconds); after a failure no more units are handed out, and the ones in flight are
    waited for.
    """
    left = [units] * workers
    busy = [0.0] * workers
    done = []
    failed = False
    flying = 0
    for index in xrange(workers):
        for _ in xrange(min(AHEAD, units)):
            left[index] -= 1
            flying += 1
            give(index, arguments[index])
    while flying:
        index, (status, output), seconds = take()
        flying -= 1
        busy[index] += seconds
        if status == "ok":
            status, output = check(expected, output)
        done.append((status, output))
        failed = failed or status != "ok"
        if left[index] and not failed:
            left[index] -= 1
            flying += 1
            give(index, arguments[index])
    return done, busy


def arguments(module, size, workers):
    """One argument a worker, built outside the clock (each worker's data is its own)."""
    return [module.make_input(size) for _ in xrange(workers)]
