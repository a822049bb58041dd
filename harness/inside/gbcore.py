"""gilbench's in-interpreter core: load a workload, check its checksum, run it under a model.

This file runs inside the measured interpreter and is started by path, never imported from
the host harness. It therefore uses only the standard library and only the syntax that
Python 2.7 and 3.4+ share: Jython 2.7 and IronPython 3.4 load it too.

A *model* owns W workers. ``start()`` starts every worker and warms it with one full round,
so that interpreter, pool and JIT start-up are over before any clock runs. ``round()`` then
hands one unit of work to each worker and returns when all W are done: that, and only that,
is what gets timed.
"""

from __future__ import print_function

import os
import platform
import sys
import threading
import traceback

try:  # Python 3
    import queue  # novm
except ImportError:  # Python 2.7 / Jython
    import Queue as queue  # novm  # noqa: N813

try:
    xrange
except NameError:  # Python 3: range is already lazy
    xrange = range

# Exit statuses that let the host tell a wrong result from a crash. pyperf's master process
# prints each worker's exit status, and the host also reads the STATUS_PREFIX line below.
EXIT_WRONG_CHECKSUM = 17
EXIT_GIL_MISMATCH = 18
EXIT_UNSUPPORTED = 19
STATUS_PREFIX = "GILBENCH-STATUS"

MODELS = ("serial", "threads", "processes")


class WorkloadFailure(Exception):
    """A unit of work failed: ``status`` is the result status the host records."""

    def __init__(self, status, detail):
        Exception.__init__(self, detail)
        self.status = status
        self.detail = detail


def report_status(status, detail):
    """Print the one line the host parses to classify a failed benchmark."""
    line = "%s %s: %s" % (STATUS_PREFIX, status, " ".join(str(detail).split()))
    sys.stderr.write(line + "\n")
    sys.stderr.flush()


def load_workload(path):
    """Import a workload file by path, under a private module name."""
    name = "gilbench_workload_" + os.path.splitext(os.path.basename(path))[0]
    if name in sys.modules:
        return sys.modules[name]
    if sys.version_info >= (3, 5):
        import importlib.util  # novm

        spec = importlib.util.spec_from_file_location(name, path)  # novm
        module = importlib.util.module_from_spec(spec)  # novm
        sys.modules[name] = module
        spec.loader.exec_module(module)
    else:
        import imp

        module = imp.load_source(name, path)
    return module


def checked_unit(module):
    """Return a function that runs one unit of the kernel and verifies its checksum."""
    kernel = module.kernel
    expected = module.CHECKSUM

    def unit():
        got = kernel()
        if got != expected:
            raise WorkloadFailure("wrong-checksum", "expected %r, got %r" % (expected, got))
        return got

    return unit


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


def machine_cpus():
    count = getattr(os, "cpu_count", None)
    if count is not None:
        return count() or 1
    import multiprocessing

    return multiprocessing.cpu_count()


def _outcome(unit):
    """Run one unit and return a picklable (status, value) pair instead of raising."""
    try:
        return ("ok", unit())
    except WorkloadFailure as exc:
        return (exc.status, exc.detail)
    except Exception:
        return ("crashed", traceback.format_exc())


def _collect(outcomes):
    values = []
    for status, value in outcomes:
        if status != "ok":
            raise WorkloadFailure(status, value)
        values.append(value)
    return values


class Serial(object):
    """W units one after another in the calling thread: the baseline."""

    def __init__(self, workload_path, workers):
        self.unit = checked_unit(load_workload(workload_path))
        self.workers = workers

    def start(self):
        self.round()

    def round(self):
        unit = self.unit
        return [unit() for _ in xrange(self.workers)]

    def close(self):
        pass


class Threads(object):
    """W long-lived threads, each fed one unit per round through its own queue."""

    def __init__(self, workload_path, workers):
        self.unit = checked_unit(load_workload(workload_path))
        self.workers = workers
        self.inboxes = []
        self.outbox = queue.Queue()
        self.threads = []

    def _loop(self, inbox):
        while inbox.get() is not None:
            self.outbox.put(_outcome(self.unit))

    def start(self):
        for _ in xrange(self.workers):
            inbox = queue.Queue()
            thread = threading.Thread(target=self._loop, args=(inbox,))
            thread.daemon = True
            thread.start()
            self.inboxes.append(inbox)
            self.threads.append(thread)
        self.round()

    def round(self):
        for inbox in self.inboxes:
            inbox.put(1)
        return _collect([self.outbox.get() for _ in xrange(self.workers)])

    def close(self):
        for inbox in self.inboxes:
            inbox.put(None)
        for thread in self.threads:
            thread.join()


def _process_loop(workload_path, conn):
    """Body of one worker process: load the workload once, then serve units."""
    unit = checked_unit(load_workload(workload_path))
    while True:
        try:
            message = conn.recv()
        except EOFError:  # the parent went away
            return
        if message is None:
            return
        conn.send(_outcome(unit))


def default_start_method():
    import multiprocessing

    return multiprocessing.get_start_method()  # novm


class Processes(object):
    """W long-lived worker processes, each fed one unit per round through its own pipe."""

    def __init__(self, workload_path, workers, start_method=None):
        import multiprocessing

        self.workload_path = workload_path
        self.workers = workers
        # Processes are a Python 3 model: Jython and IronPython report it unsupported.
        self.context = multiprocessing.get_context(start_method)  # novm
        self.start_method = self.context.get_start_method()
        self.conns = []
        self.procs = []

    def start(self):
        for _ in xrange(self.workers):
            parent, child = self.context.Pipe()
            proc = self.context.Process(target=_process_loop, args=(self.workload_path, child))
            proc.daemon = True
            proc.start()
            child.close()
            self.conns.append(parent)
            self.procs.append(proc)
        self.round()

    def round(self):
        for conn in self.conns:
            conn.send(1)
        return _collect([conn.recv() for conn in self.conns])

    def close(self):
        for conn in self.conns:
            try:
                conn.send(None)
            except (OSError, IOError):
                pass
        for proc in self.procs:
            proc.join(5)


def make_model(name, workload_path, workers, start_method=None):
    """Build (not start) the model called ``name``."""
    if name == "serial":
        return Serial(workload_path, workers)
    if name == "threads":
        return Threads(workload_path, workers)
    if name == "processes":
        return Processes(workload_path, workers, start_method)
    raise WorkloadFailure("unsupported", "unknown model %r" % (name,))
