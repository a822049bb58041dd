"""What the running interpreter is and has: its name, its GIL state, its CPUs, its clock.

Read inside the measured interpreter, after the workload's imports, so that what the
metadata says is what was in force while the values were timed. Imports no other gb*
module: pyperf_site/sitecustomize.py loads this file by path under a private name.
"""

import os
import platform
import sys
import time


def _best_clock():
    """The finest monotonic clock the implementation has, in seconds.

    Jython 2.7 has no time.perf_counter, and its time.time has millisecond resolution: a
    unit's busy time or a 100 ms value would carry a 1% step. The JVM's System.nanoTime is
    monotonic and as fine as the platform's.
    """
    perf_counter = getattr(time, "perf_counter", None)
    if perf_counter is not None:
        return perf_counter  # the very function pyperf times with (pyperf.perf_counter)
    if platform.system() == "Java":
        from java.lang import System  # novm

        return lambda: System.nanoTime() / 1e9
    return time.time


# The one clock of inside/: pyperf-less values, the measuring step, paired serial units
# and each worker's busy time all read it, so their seconds are alike.
clock = _best_clock()


def implementation():
    """'CPython 3.14.7', 'PyPy 3.9.16', 'Jython 2.7.3': for reasons a user reads."""
    return "%s %s" % (platform.python_implementation(), platform.python_version())


def gil_enabled():
    """Return 1 if a GIL is in force right now, 0 if not.

    Read it after every import: on a free-threaded build an extension module that is not
    marked free-threading-safe turns the GIL back on when it is imported.
    """
    probe = getattr(sys, "_is_gil_enabled", None)
    if probe is not None:
        return 1 if probe() else 0
    if platform.python_implementation() in ("Jython", "IronPython"):
        return 0
    return 1  # CPython before 3.13, PyPy and GraalPy always run with a GIL


def usable_cpus():
    """CPUs this process may run on (its affinity), else the machine's count."""
    affinity = getattr(os, "sched_getaffinity", None)
    if affinity is not None:
        return len(affinity(0))
    return machine_cpus()


def format_cpus(cpus):
    """CPU numbers as ranges, the way taskset and /proc write them: "0-3,6"."""
    ranges = []
    for cpu in sorted(cpus):
        if ranges and ranges[-1][1] == cpu - 1:
            ranges[-1][1] = cpu
        else:
            ranges.append([cpu, cpu])
    return ",".join(str(a) if a == b else "%d-%d" % (a, b) for a, b in ranges)


def cpu_affinity():
    """The CPUs this process may run on ("0-1"), or "unknown" (pyperf refuses empty values).

    PyPy and Jython lack os.sched_getaffinity; on Linux the kernel still says, in
    /proc/self/status.
    """
    affinity = getattr(os, "sched_getaffinity", None)
    if affinity is not None:
        return format_cpus(affinity(0))
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("Cpus_allowed_list:"):
                    return line.split(":", 1)[1].strip() or "unknown"
    except (IOError, OSError):
        pass
    return "unknown"


def machine_cpus():
    """The machine's CPU count, whatever this process may use of it."""
    count = getattr(os, "cpu_count", None)
    if count is not None:
        return count() or 1
    if platform.system() == "Java":  # Jython has no multiprocessing module
        from java.lang import Runtime  # novm

        return Runtime.getRuntime().availableProcessors()
    import multiprocessing

    return multiprocessing.cpu_count()
