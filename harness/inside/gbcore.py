"""gilbench's in-interpreter core: load a workload, check its checksum, run it under a model.

This file runs inside the measured interpreter and is started by path, never imported from
the host harness. It therefore uses only the standard library and only the syntax that
Python 2.7 and 3.4+ share: Jython 2.7 and IronPython 3.4 load it too.

A *model* owns W workers. ``start()`` starts every worker and warms it with one full round,
so that interpreter, pool and JIT start-up are over before any clock runs. ``round()`` then
hands one unit of work to each worker and returns when all W are done: that, and only that,
is what gets timed. ``round(units)`` hands each worker ``units`` units at once, which it
runs back to back: a pyperf value of ``loops`` rounds then costs one hand-off per worker,
not ``loops`` of them (see ``Model.round``). ``serial`` and ``threads`` live here;
``processes`` in gbprocess.py, ``subinterpreters`` in gbinterp.py and the two asyncio
models in gbasync.py, each imported only when asked for. A model the implementation lacks raises
``WorkloadFailure("unsupported", reason)``: the host shows that as a neutral cell.

Besides ``kernel()`` and ``CHECKSUM`` a workload may declare (README, "Adding a workload"):

- a *generator* kernel, which yields I/O requests (see REQUESTS) instead of doing I/O
  itself and ends with ``yield ("result", value)``. Each model performs the requests its
  own way: blocking in serial, threads, processes and subinterpreters, awaited on the
  event loop in asyncio. One file thus serves every model and Python 2.7 alike.
- ``start_service()``, which starts what the kernels talk to (a loopback server) and
  returns ``(argument, stop)``. The model calls it once in ``start()``, in its own
  process, before the warm-up round; every kernel call gets ``argument``; ``close()``
  calls ``stop()``. Neither start nor stop is ever timed.
- ``updates_seen()``, which marks a *shared-state* workload: every kernel call returns how
  many updates it made to state that all workers share, and every round checks that the
  shared state gained exactly that many. A shortfall fails the round as wrong-checksum,
  unless the workload sets ``COUNTS_LOST_UPDATES = True``: then it is counted and reported.
  Workers that share no memory (processes, subinterpreters) can't run such a workload.
"""

from __future__ import print_function

import os
import platform
import socket
import sys
import threading
import time
import traceback
import types

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
MODEL_WIDE_LINE = "GILBENCH-SCOPE model"  # the status that follows holds for any workload

MODELS = ("serial", "threads", "processes", "subinterpreters", "asyncio", "asyncio-to-thread")

# What a generator kernel may yield, and what the model sends back into it:
#   ("sleep", seconds)              -> None, after that long
#   ("connect", (host, port))       -> a connection (TCP, Nagle off); the model closes
#                                      it when the unit ends, if the kernel hasn't
#   ("send", connection, data)      -> None, once every byte is sent
#   ("recv", connection, size)      -> up to size bytes; empty once the peer has closed
#   ("close", connection)           -> None
#   ("result", value)               ends the unit: Python 2.7 generators can't return a value
REQUESTS = ("sleep", "connect", "send", "recv", "close", "result")
IO_TIMEOUT = 10.0  # seconds: a loopback peer that is silent this long is broken, not slow
# Untimed rounds after the warm-up in which a shared-state workload's lost updates are
# counted: with the warm-up, 4 rounds of W units, enough to see races of a few per cent.
LOST_UPDATE_ROUNDS = 3
HERE = os.path.dirname(os.path.abspath(__file__))


class WorkloadFailure(Exception):
    """A unit of work failed: ``status`` is the result status the host records."""

    def __init__(self, status, detail, model_wide=False):
        Exception.__init__(self, detail)
        self.status = status
        self.detail = detail
        self.model_wide = model_wide  # holds for every workload under this model


def unsupported(reason, model_wide=False):
    """The failure for a model this implementation (or this workload) can't run.

    ``model_wide``: the implementation lacks the model itself, so every workload would get
    the same answer, and the host needn't start the interpreter again to hear it.
    """
    return WorkloadFailure("unsupported", reason, model_wide)


def exit_code(status):
    """The exit status a runner leaves with after reporting ``status``."""
    return {"wrong-checksum": EXIT_WRONG_CHECKSUM, "gil-mismatch": EXIT_GIL_MISMATCH,
            "unsupported": EXIT_UNSUPPORTED}.get(status, 1)  # fmt: skip


def implementation():
    """'CPython 3.14.7', 'PyPy 3.9.16', 'Jython 2.7.3': for reasons a user reads."""
    return "%s %s" % (platform.python_implementation(), platform.python_version())


def report_status(status, detail, model_wide=False):
    """Print the one line the host parses to classify a failed benchmark.

    A model-wide failure is announced by MODEL_WIDE_LINE just before it.
    """
    line = "%s %s: %s" % (STATUS_PREFIX, status, " ".join(str(detail).split()))
    if model_wide:
        line = MODEL_WIDE_LINE + "\n" + line
    sys.stderr.write(line + "\n")
    sys.stderr.flush()


def load_workload(path):
    """Import a workload file by path, under a private module name, from its bytecode.

    The code runs as an imported module's does when it comes from its ``.pyc``, whether
    or not a ``__pycache__`` is there (see ``compile_as_cached``).
    """
    name = "gilbench_workload_" + os.path.splitext(os.path.basename(path))[0]
    if name in sys.modules:
        return sys.modules[name]
    if sys.version_info >= (3, 5):
        import importlib.util  # novm

        spec = importlib.util.spec_from_file_location(name, path)  # novm
        module = importlib.util.module_from_spec(spec)  # novm
        sys.modules[name] = module
        try:
            exec(compile_as_cached(path), module.__dict__)
        except BaseException:
            del sys.modules[name]  # a half-imported workload must not be found next time
            raise
    else:
        import imp

        module = imp.load_source(name, path)
    return module


def compile_as_cached(path):
    """A file's code object as ``import`` gets it from the file's ``.pyc``: through marshal.

    On CPython's free-threaded build this decides what is measured. Code that marshal
    builds (a module imported from its .pyc) has its int, float and tuple constants
    interned and immortal. Code that the builtin ``compile()`` makes from source text
    keeps them mortal (3.14's bltinmodule.c: ``suppress_co_const_immortalization``), and
    importlib calls just that when there is no usable .pyc: a first import, ``python -B``,
    a read-only folder. Every thread using a mortal literal updates its reference count,
    and two threads of one such loop ran at 0.53x to 0.69x the throughput of one. So a
    workload's figures hung on whether an earlier process had written its .pyc; no more.
    """
    with open(path, "rb") as source:
        code = compile(source.read(), path, "exec", 0, True)  # dont_inherit: our __future__s
    if platform.python_implementation() == "CPython":
        import marshal

        code = marshal.loads(marshal.dumps(code))
    return code


def _connect(address):
    conn = socket.create_connection(tuple(address), IO_TIMEOUT)
    # Request/response traffic: without this, Nagle's algorithm meets delayed ACKs and
    # a reply can wait 40 ms for nothing.
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return conn


BLOCKING = {
    "sleep": time.sleep,
    "connect": _connect,
    "send": lambda conn, data: conn.sendall(data),
    "recv": lambda conn, size: conn.recv(size),
    "close": lambda conn: conn.close(),
}


def unknown_request(request):
    return WorkloadFailure(
        "crashed", "the kernel yielded %r; a request starts with one of %s"
        % (request, ", ".join(REQUESTS)),
    )  # fmt: skip


def drive_blocking(steps):
    """Perform, blocking, each request a generator kernel yields; return its result.

    The driver owns the connections it opens: whatever becomes of the unit, they are
    closed when it ends (a kernel that fails halfway can't be trusted to).
    """
    opened = []
    reply = None
    try:
        while True:
            try:
                request = steps.send(reply)
            except StopIteration as stop:  # a Python 3 kernel may also ``return value``
                return getattr(stop, "value", None)
            if request[0] == "result":
                return request[1]
            perform = BLOCKING.get(request[0])
            if perform is None:
                raise unknown_request(request)
            reply = perform(*request[1:])
            if request[0] == "connect":
                opened.append(reply)
    finally:
        steps.close()
        for conn in opened:
            conn.close()


def kernel_args(module, service):
    """A workload with a service gets its argument in every kernel call."""
    return (service,) if hasattr(module, "start_service") else ()


def check(module, got):
    """Return ``got`` if it is the workload's CHECKSUM; raise wrong-checksum if not."""
    if got != module.CHECKSUM:
        raise WorkloadFailure("wrong-checksum", "expected %r, got %r" % (module.CHECKSUM, got))
    return got


def run_unit(module, service=None):
    """Run one unit of the kernel, performing its I/O requests blocking; check the result."""
    got = module.kernel(*kernel_args(module, service))
    if isinstance(got, types.GeneratorType):
        got = drive_blocking(got)
    return check(module, got)


def checked_unit(module, service=None):
    """Return a function that runs one unit of the kernel and verifies its checksum."""

    def unit():
        return run_unit(module, service)

    return unit


def outcome(module, service=None):
    """Run one unit and return a picklable (status, value) pair instead of raising."""
    try:
        return ("ok", run_unit(module, service))
    except WorkloadFailure as exc:
        return (exc.status, exc.detail)
    except Exception:
        return ("crashed", traceback.format_exc())


# A worker's own clock, for its busy time (Model.busy); never the clock of a pyperf value.
clock = getattr(time, "perf_counter", time.time)


def outcomes(module, service=None, units=1):
    """Run ``units`` units back to back: their outcomes, ending at the first failure."""
    done = []
    for _ in xrange(units):
        done.append(outcome(module, service))
        if done[-1][0] != "ok":
            break
    return done


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
    count = getattr(os, "cpu_count", None)
    if count is not None:
        return count() or 1
    if platform.system() == "Java":  # Jython has no multiprocessing module
        from java.lang import Runtime  # novm

        return Runtime.getRuntime().availableProcessors()
    import multiprocessing

    return multiprocessing.cpu_count()


def collect(done):
    """The values of a round's (status, value) outcomes; the first failure raises."""
    values = []
    for status, value in done:
        if status != "ok":
            raise WorkloadFailure(status, value)
        values.append(value)
    return values


class Model(object):
    """What every model shares: the workload, its service, and the lost-update check.

    A subclass starts its workers in ``_start_workers()``, hands ``units`` units to each
    in ``_round(units)`` (returning their W x ``units`` outcomes, or fewer after a
    failure) and stops them in ``_stop_workers()``.
    """

    name = "model"
    shares_memory = True  # False: workers can't see one another's objects

    def __init__(self, workload_path, workers):
        self.workload_path = workload_path
        self.workers = workers
        self.module = load_workload(workload_path)
        self.shared_state = hasattr(self.module, "updates_seen")
        if self.shared_state and not self.shares_memory:
            raise unsupported(
                "%s keeps its shared state in one process's memory, and the %s model's "
                "workers share no memory" % (os.path.basename(workload_path), self.name)
            )
        self.service = None  # what the workload's start_service() returned for its kernels
        self._stop_service = None
        self.updates = 0  # shared-state workloads: updates made, and of those, lost
        self.lost_updates = 0
        # Seconds each worker spent on its units in the last round, where the workers run
        # in parallel (threads, subinterpreters, processes); empty elsewhere. A round waits
        # for its slowest worker: a spread between them shows a slowed CPU or an unfair lock.
        self.busy = []

    def start(self):
        """Start every worker, then the workload's service, then warm with one round."""
        self._start_workers()  # first: a forked worker must not inherit service threads
        if hasattr(self.module, "start_service"):
            self.service, self._stop_service = self.module.start_service()
        self.round()
        if self.shared_state:
            for _ in xrange(LOST_UPDATE_ROUNDS):
                self.round()

    def round(self, units=1):
        """``units`` units on each of the W workers; return their checked values.

        Each worker gets its ``units`` units in one hand-off and runs them back to back;
        the round ends when the last worker is done. pyperf's value is the time of
        ``loops`` rounds divided by ``loops``, so the runners ask for ``round(loops)``:
        the workers then meet once per value, not once per unit. A hand-off (a pipe's
        send and receive, a queue, a call into an interpreter) wakes an idle CPU, and on
        this project's VM that took 0.2 to 1 ms each way: a tenth of PyPy's 8 ms unit,
        charged to every parallel model and never to serial.
        """
        if not self.shared_state:
            return collect(self._round(units))
        before = self.module.updates_seen()
        values = collect(self._round(units))
        made = sum(values)
        lost = made - (self.module.updates_seen() - before)
        self.updates += made
        self.lost_updates += lost
        if lost and not getattr(self.module, "COUNTS_LOST_UPDATES", False):
            raise WorkloadFailure(
                "wrong-checksum", "%d of the round's %d updates to shared state were lost"
                % (lost, made),
            )  # fmt: skip
        return values

    def close(self):
        try:
            self._stop_workers()
        finally:
            stop, self._stop_service = self._stop_service, None
            if stop is not None:
                stop()

    def _start_workers(self):
        pass

    def _stop_workers(self):
        pass


class Serial(Model):
    """W units one after another in the calling thread: the baseline."""

    name = "serial"

    def _round(self, units):
        return outcomes(self.module, self.service, self.workers * units)


class Threads(Model):
    """W long-lived threads, each fed its units for the round through its own queue."""

    name = "threads"

    def __init__(self, workload_path, workers):
        Model.__init__(self, workload_path, workers)
        self.inboxes = []
        self.outbox = queue.Queue()
        self.threads = []

    def _units(self, index, units):
        """What worker ``index`` does with its units; subinterpreters override it."""
        return outcomes(self.module, self.service, units)

    def _loop(self, index, inbox):
        while True:
            units = inbox.get()
            if units is None:
                return
            start = clock()
            done = self._units(index, units)
            self.outbox.put((done, clock() - start))

    def _start_workers(self):
        for index in xrange(self.workers):
            inbox = queue.Queue()
            thread = threading.Thread(target=self._loop, args=(index, inbox))
            thread.daemon = True
            thread.start()
            self.inboxes.append(inbox)
            self.threads.append(thread)

    def _round(self, units):
        for inbox in self.inboxes:
            inbox.put(units)
        done, busy = [], []
        for _ in xrange(self.workers):
            outcomes_, seconds = self.outbox.get()
            done.extend(outcomes_)
            busy.append(seconds)
        self.busy = busy
        return done

    def _stop_workers(self):
        for inbox in self.inboxes:
            inbox.put(None)
        for thread in self.threads:
            thread.join()


def _sibling(name):
    """Import one of gbcore's sibling modules, wherever gbcore itself was loaded from."""
    if HERE not in sys.path:
        sys.path.insert(0, HERE)
    return __import__(name)


METADATA_VERSION = 1  # of the gilbench_* metadata both runners add; results.py reads it


def start_measured(args):
    """Start and warm the model, then check the GIL state in force: (model, metadata).

    Both runners call this in each worker process before any clock runs. The GIL state is
    read after every import (the workload's included) and after the warm-up round: an
    extension module can turn a free-threaded build's GIL back on. A state that breaks
    the implementation's promise raises gil-mismatch, and nothing is measured.
    """
    module = load_workload(args.workload)
    model = make_model(args.model, args.workload, args.workers, args.start_method)
    model.start()  # every worker started and warmed: one full round
    gil = gil_enabled()
    if args.expect_gil != "any" and gil != int(args.expect_gil):
        model.close()
        raise WorkloadFailure(
            "gil-mismatch",
            "%s promises GIL %s but the GIL in force is %s"
            % (
                args.impl,
                "enabled" if args.expect_gil == "1" else "disabled",
                "enabled" if gil else "disabled",
            ),
        )
    cpus = usable_cpus()
    metadata = {
        "gilbench_version": METADATA_VERSION,
        "gilbench_impl": args.impl,
        "gilbench_build": args.build or "-",
        "gilbench_workload": os.path.splitext(os.path.basename(args.workload))[0],
        "gilbench_model": args.model,
        "gilbench_workers": args.workers,
        "gilbench_checksum": repr(module.CHECKSUM),
        "gilbench_cpus": cpus,
        "gilbench_affinity": cpu_affinity(),
        "gilbench_cpu_count": machine_cpus(),
        "gilbench_oversubscribed": int(args.workers > cpus),
        "gil_enabled": gil,
    }
    # the start method of processes; updates made and lost, for shared-state workloads
    metadata.update(model_metadata(model))
    return model, metadata


class Pairing(object):
    """Serial units timed right after each of a cell's values, in the same worker process.

    A parallel cell's speedup divides by a serial time. Taken from the serial cell's own
    processes, that time comes from other moments of the run, and a shared machine's speed
    drifts (this project's 2-vCPU VM runs the same unit at 90 or 125 ms for seconds at a
    time): the ratio then measures the drift as much as the model. So every value of a
    non-baseline cell is followed by ``loops`` units of a separate serial model, on the
    calling thread, and their time per unit is kept. It shares the workload module with
    the measured model, so a JIT's compiled code serves both, as it would serve a serial
    run. The speedup's two sides then come from the same moments, interleaved.

    Where the measured workers run the kernel in other processes or interpreters
    (``shares_memory`` False), warm-ups get serial units too, which are dropped: a JIT
    then warms this process's copy of the kernel as long as theirs, and a cold baseline
    can't flatter the speedup. Threads and asyncio warm the very code the serial units
    run. Calibration runs get none. The units are outside every timed value.
    ``write()`` appends one JSON line per worker process to ``path``, under ``token``,
    which the runner also writes into this process's run metadata (``gilbench_pairing``):
    the host joins each value with the serial units timed right after it (harness/compare.py).
    """

    def __init__(self, args, path, clock):
        import random

        self.path = path
        self.clock = clock
        # names this worker process's run among all of the cell's, over every pass
        self.token = "%x-%08x" % (os.getpid(), random.SystemRandom().getrandbits(32))
        self.key = {
            "impl": args.impl,
            "workload": os.path.splitext(os.path.basename(args.workload))[0],
            "model": args.model,
            "workers": args.workers,
        }
        self.seconds = []
        self.busy = []  # each kept value's per-worker busy seconds (Model.busy)
        # Started after the measured model, so a forked worker never inherits its service.
        self.baseline = Serial(args.workload, 1)
        self.baseline.start()

    def warms(self, model):
        """Whether warm-up calls of ``model`` must warm the serial path too."""
        return not model.shares_memory

    def after(self, loops, keep=True, busy=()):
        """Time ``loops`` serial units now; keep the time per unit (and ``busy``) if ``keep``.

        ``busy``: the measured model's per-worker busy seconds in the value just timed.
        """
        start = self.clock()
        self.baseline.round(loops)  # one worker: its loops units back to back
        if keep:
            self.seconds.append((self.clock() - start) / loops)
            self.busy.append([round(b, 6) for b in busy])

    def write(self):
        import json

        line = dict(self.key, pairing=self.token, seconds=self.seconds, busy=self.busy)
        with open(self.path, "a") as out:
            out.write(json.dumps(line, sort_keys=True) + "\n")

    def close(self):
        self.baseline.close()


def wants_pairing(args):
    """True for every cell but the serial 1-worker baseline itself, when asked for."""
    return bool(getattr(args, "paired", None)) and (args.model, args.workers) != ("serial", 1)


def model_metadata(model):
    """The metadata a started model adds to its runs (both runners record it)."""
    metadata = {}
    start_method = getattr(model, "start_method", None)
    if start_method:
        metadata["gilbench_start_method"] = start_method
    if model.shared_state:
        # counted over the warm-up and LOST_UPDATE_ROUNDS rounds, before any clock runs
        metadata["gilbench_updates"] = model.updates
        metadata["gilbench_lost_updates"] = model.lost_updates
    return metadata


def default_start_method():
    return _sibling("gbprocess").default_start_method()


def make_model(name, workload_path, workers, start_method=None):
    """Build (not start) the model called ``name``; raise unsupported if it can't be had."""
    if name == "serial":
        return Serial(workload_path, workers)
    if name == "threads":
        return Threads(workload_path, workers)
    if name == "processes":
        return _sibling("gbprocess").Processes(workload_path, workers, start_method)
    if name == "subinterpreters":
        return _sibling("gbinterp").Subinterpreters(workload_path, workers)
    if name in ("asyncio", "asyncio-to-thread"):
        if sys.version_info < (3, 5):
            raise unsupported("the asyncio models need async/await (Python 3.5+); this is "
                              + implementation(), model_wide=True)  # fmt: skip
        return _sibling("gbasync").ASYNC_MODELS[name](workload_path, workers)
    raise unsupported(
        "unknown model %r; gbcore knows %s" % (name, ", ".join(MODELS)), model_wide=True
    )
