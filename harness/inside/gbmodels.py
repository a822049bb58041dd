"""The concurrency models: how W workers run a round of units, and what the round checks.

A *model* owns W workers. ``start()`` starts every worker and warms it with one full round,
so that interpreter, pool and JIT start-up are over before any clock runs. ``round()`` then
hands one unit of work to each worker and returns when all W are done: that, and only that,
is what gets timed. ``round(units)`` hands each worker ``units`` units at once, which it
runs back to back: a pyperf value of ``loops`` rounds then costs one hand-off per worker,
not ``loops`` of them (see ``Model.round``). ``serial`` and ``threads`` live here;
``processes`` in gbprocess.py, ``subinterpreters`` in gbinterp.py and the two asyncio
models in gbasync.py, each imported only when asked for (``make_model``). A model the
implementation lacks raises ``gbprotocol.unsupported(reason)``: the host shows that as a
neutral cell.

Besides its kernel (gbunits.py; a generator kernel's I/O requests are in gbio.py) a
workload may declare (README, "Adding a workload"):

- ``start_service()``, which starts what the kernels talk to (a loopback server) and
  returns ``(argument, stop)``. The model calls it once in ``start()``, in its own
  process, before the warm-up round; every kernel call gets ``argument``; ``close()``
  calls ``stop()``. Neither start nor stop is ever timed.
- ``make_input(size)`` and ``expected_output(size)``, which make it *sized*: each unit's
  argument goes to a worker and its output comes back inside the timed round, one unit
  at a time (gbpayload.py). ``size`` is the model's; the run's workload name carries it.
- ``updates_seen()``, which marks a *shared-state* workload: every kernel call returns how
  many updates it made to state that all workers share, and every round checks that the
  shared state gained exactly that many. A shortfall fails the round as wrong-checksum,
  unless the workload sets ``COUNTS_LOST_UPDATES = True``: then it is counted and reported.
  Workers that share no memory (processes, subinterpreters) can't run such a workload.
"""

import os
import sys
import threading

import gbload
import gbpayload
import gbprobe
import gbprotocol
import gbunits

try:  # Python 3
    import queue  # novm
except ImportError:  # Python 2.7 / Jython
    import Queue as queue  # novm  # noqa: N813

try:
    xrange
except NameError:  # Python 3: range is already lazy
    xrange = range

# Untimed rounds after the warm-up in which a shared-state workload's lost updates are
# counted: with the warm-up, 4 rounds of W units, enough to see races of a few per cent.
LOST_UPDATE_ROUNDS = 3
HERE = os.path.dirname(os.path.abspath(__file__))


class Model(object):
    """What every model shares: the workload, its service, and the lost-update check.

    A subclass starts its workers in ``_start_workers()``, hands ``units`` units to each
    in ``_round(units)`` (returning their W x ``units`` outcomes, or fewer after a
    failure) and stops them in ``_stop_workers()``. One with long-lived workers of its
    own also has ``_alone(index, units)``: worker ``index`` alone runs ``units`` units and
    returns ``gbunits.timed_outcomes``' pair (``time_alone``).
    """

    name = "model"
    shares_memory = True  # False: workers can't see one another's objects
    # True: a sized workload's round goes through ``_give`` and ``_take`` (gbpayload.stream)
    streams = True
    needs_payload = False  # True: a variant that differs from its model only in moving data

    def __init__(self, workload_path, workers, size=None):
        self.workload_path = workload_path
        self.workers = workers
        self.module = gbload.load_workload(workload_path)
        self.size = size
        self.sized = gbpayload.sized(self.module)
        if self.needs_payload and not self.sized:
            raise gbprotocol.unsupported(
                "%s moves no data: the %s model differs from its base model only in how a "
                "unit's data travels" % (os.path.basename(workload_path), self.name)
            )
        self.arguments = []  # a sized workload's: one argument a worker, handed each unit
        if self.sized:
            self.local = gbpayload.prepare(self.module, size)
            self.arguments = gbpayload.arguments(self.module, self.local.size, workers)
        self.shared_state = hasattr(self.module, "updates_seen")
        if self.shared_state and not self.shares_memory:
            raise gbprotocol.unsupported(
                "%s keeps its shared state in one process's memory, and the %s model's "
                "workers share no memory" % (os.path.basename(workload_path), self.name)
            )
        self.service = None  # what the workload's start_service() returned for its kernels
        self._stop_service = None
        self.updates = 0  # shared-state workloads: updates made, and of those, lost
        self.lost_updates = 0
        # Seconds each worker spent on its units in the last round, where the workers run
        # in parallel (threads, subinterpreters, processes, asyncio-to-thread); empty
        # elsewhere. A round waits for its slowest worker: a spread between them shows a
        # slowed CPU or an unfair lock. Each worker reads gbprobe.clock, the clock its
        # round is timed with (gbunits.timed_outcomes).
        self.busy = []
        self.turns = 0  # calls of time_alone so far: the workers take turns

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
        if self.sized and self.streams:
            done, self.busy = gbpayload.stream(self._give, self._take, self.workers, units,
                                               self.arguments, self.local.expected,
                                               self._check)  # fmt: skip
            return gbunits.collect(done)
        if not self.shared_state:
            return gbunits.collect(self._round(units))
        before = self.module.updates_seen()
        values = gbunits.collect(self._round(units))
        made = sum(values)
        lost = made - (self.module.updates_seen() - before)
        self.updates += made
        self.lost_updates += lost
        if lost and not getattr(self.module, "COUNTS_LOST_UPDATES", False):
            raise gbprotocol.WorkloadFailure(
                "wrong-checksum", "%d of the round's %d updates to shared state were lost"
                % (lost, made),
            )  # fmt: skip
        return values

    def time_alone(self, units):
        """``units`` units back to back on one of the W workers, the others idle: seconds.

        The paired baseline of a model whose workers run in other processes or
        interpreters (gbmeasure.Pairing): the serial units are run, and timed, where the
        measured units are, by the worker itself on gbprobe.clock, as it times its share
        of a round (``busy``); the hand-off to it is outside. The workers take turns, a
        call each, so that none runs more units than the others. ``busy`` is left as the
        last round set it. Failures raise, as in a round.
        """
        index = self.turns % self.workers
        self.turns += 1
        done, seconds = self._alone(index, units)
        gbunits.collect(done)
        return seconds

    def _check(self, expected, output):
        return gbpayload.check_output(expected, output)

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
    streams = False  # a sized unit runs on the data in hand (gbunits.runner)

    def _round(self, units):
        return gbunits.outcomes(self.module, self.service, self.workers * units)


class Threads(Model):
    """W long-lived threads, each fed its units for the round through its own queue."""

    name = "threads"

    def __init__(self, workload_path, workers, size=None):
        Model.__init__(self, workload_path, workers, size)
        self.inboxes = []
        self.outbox = queue.Queue()
        self.threads = []

    def _units(self, index, units):
        """Worker ``index`` runs its units: (outcomes, seconds); subinterpreters override it."""
        return gbunits.timed_outcomes(self.module, self.service, units)

    def _data(self, index, argument):
        """Worker ``index`` runs one unit on ``argument``, a reference: (outcome, seconds)."""
        return gbpayload.timed_kernel(self.module, argument)

    def _loop(self, index, inbox):
        while True:
            message = inbox.get()
            if message is None:
                return
            if isinstance(message, tuple):  # (argument, ...): one unit of a sized workload
                self.outbox.put((index,) + tuple(self._data(index, *message)))
            else:
                self.outbox.put(self._units(index, message))

    def _give(self, index, argument):
        self.inboxes[index].put((argument,))

    def _take(self):
        return self.outbox.get()

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

    def _alone(self, index, units):
        self.inboxes[index].put(units)
        return self.outbox.get()

    def _stop_workers(self):
        for inbox in self.inboxes:
            inbox.put(None)
        for thread in self.threads:
            thread.join()


def _sibling(name):
    """Import one of gbmodels' sibling modules, wherever gbmodels itself was loaded from."""
    if HERE not in sys.path:
        sys.path.insert(0, HERE)
    return __import__(name)


def model_metadata(model):
    """The metadata a started model adds to its runs (both runners record it)."""
    metadata = {}
    start_method = getattr(model, "start_method", None)
    if start_method:
        metadata["gilbench_start_method"] = start_method
    if model.sized:  # bytes for a payload, seconds of work for a task size
        metadata["gilbench_size"] = model.local.size
        metadata["gilbench_checksum"] = gbpayload.describe(model.local.expected)
    if model.shared_state:
        # counted over the warm-up and LOST_UPDATE_ROUNDS rounds, before any clock runs
        metadata["gilbench_updates"] = model.updates
        metadata["gilbench_lost_updates"] = model.lost_updates
    return metadata


def make_model(name, workload_path, workers, start_method=None, size=None):
    """Build (not start) the model called ``name``; raise unsupported if it can't be had.

    ``size``: a sized workload's (gbpayload.py), bytes or seconds of work."""
    if name == "serial":
        return Serial(workload_path, workers, size)
    if name == "threads":
        return Threads(workload_path, workers, size)
    if name == "processes":
        return _sibling("gbprocess").Processes(workload_path, workers, start_method, size)
    if name == "processes-shm":
        return _sibling("gbshm").ProcessesShm(workload_path, workers, start_method, size)
    if name in ("subinterpreters", "subinterpreters-shared"):
        return _sibling("gbinterp").INTERP_MODELS[name](workload_path, workers, size=size)
    if name in ("threadpool", "processpool", "processpool-chunked", "interpool"):
        return _sibling("gbpool").make_pool(name, workload_path, workers, start_method, size)
    if name in ("asyncio", "asyncio-to-thread"):
        if sys.version_info < (3, 5):
            raise gbprotocol.unsupported("the asyncio models need async/await (Python 3.5+); "
                                         "this is " + gbprobe.implementation(),
                                         model_wide=True)  # fmt: skip
        return _sibling("gbasync").ASYNC_MODELS[name](workload_path, workers, size)
    raise gbprotocol.unsupported(
        "unknown model %r; gilbench knows %s" % (name, ", ".join(gbprotocol.MODELS)),
        model_wide=True,
    )
