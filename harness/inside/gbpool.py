"""The pool models: W workers of a ``concurrent.futures`` executor, one task a unit.

Where the other models hand each worker its round's units at once, a pool model submits
them one task at a time, as ``executor.map(f, items)`` does, and the executor decides which
worker takes which. What each task costs on top of its work (submitting it, waking a worker,
moving its argument and result, the executor's own threads and queues) is then inside every
unit, and it is what these models measure:

- ``threadpool``: ``ThreadPoolExecutor``;
- ``processpool``: ``ProcessPoolExecutor``, ``map``'s chunk size at 1, its default;
- ``processpool-chunked``: the same pool, ``map``'s chunk size as ``multiprocessing.Pool.map``
  picks it by default (the tasks over four times the workers, rounded up): the batching a
  program gets from the other standard pool;
- ``interpool``: ``InterpreterPoolExecutor`` (CPython 3.14+, PEP 734).

``map``'s chunk size means something only to ``ProcessPoolExecutor``: the thread and
interpreter pools take their tasks one by one whatever it is, so they have one variant each.
A sized workload's tasks take its arguments and give back its outputs, which are checked
here; any other workload's tasks take its service's argument (or nothing) and check their
own checksums.

Start-up is outside every clock: ``start()`` has every worker run a unit and then wait at a
barrier until all W have (a worker waiting there can't take another task, so the pool must
start all W), and only then runs its warm-up round.
"""

import os
import sys
import threading

import gbload
import gbmodels
import gbpayload
import gbprobe
import gbprotocol
import gbunits

try:
    xrange
except NameError:  # Python 3
    xrange = range

BARRIER_TIMEOUT = 120  # seconds for all W workers to start: a spawned CPython takes < 1 s

_state = {}  # in each worker process or interpreter: "module", "barrier", "sized", "unit"


def init(workload_path, size=None, barrier=None):
    """A worker's initializer: load the workload once (a sized one with data of its own)."""
    module = gbload.load_workload(workload_path)
    if gbpayload.sized(module):
        gbpayload.prepare(module, size)
    _state["module"] = module
    _state["barrier"] = barrier
    _state["sized"] = gbpayload.sized(module)  # looked up once, not in each task
    _state["unit"] = gbunits.runner(module)


def enter_interpreter(here, workload_path, size):
    """An InterpreterPoolExecutor's initializer. It uses no globals, so PEP 734 copies its
    code into each new interpreter rather than pickling a reference to this module, which
    the interpreter can't import until this has put it on sys.path."""
    import sys

    if here not in sys.path:
        sys.path.insert(0, here)
    import gbpool

    gbpool.init(workload_path, size)


def _worker():
    return "%d:%d" % (os.getpid(), threading.current_thread().ident)


def task(item):
    """One unit as one task: (status, value or output, seconds, worker).

    ``item`` is a sized workload's argument, whose output is returned for the caller to
    check; any other workload's service argument, its unit checked here."""
    start = gbprobe.clock()
    if _state["sized"]:
        status, value = gbpayload.run_kernel(_state["module"], item)
    else:
        status, value = gbunits.attempt(_state["unit"], item)
    return (status, value, gbprobe.clock() - start, _worker())


def alone(service, units):
    """``units`` units back to back in the worker that takes this task, timed there."""
    done, seconds = gbunits.timed_outcomes(_state["module"], service, units)
    return tuple(tuple(one) for one in done), seconds


def warm(item):
    """Run a unit, then wait until every worker has (``init``'s barrier)."""
    outcome = task(item)
    _state["barrier"].wait(BARRIER_TIMEOUT)
    return outcome


def warm_interpreter(item, arrived, release):
    """``warm`` in an interpreter, with two PEP 734 queues for a barrier."""
    outcome = task(item)
    arrived.put(1)
    release.get(timeout=BARRIER_TIMEOUT)
    return outcome


def pool_chunks(tasks, workers):
    """``multiprocessing.Pool.map``'s default chunk size for ``tasks`` over ``workers``."""
    chunks, extra = divmod(tasks, workers * 4)
    return chunks + 1 if extra else max(chunks, 1)


class Pool(gbmodels.Model):
    """What the pools share: a round is one ``map`` over W x units tasks."""

    streams = False  # a sized workload's arguments go through map, as every item does
    chunked = False

    def _executor(self):
        raise NotImplementedError

    def _start_workers(self):
        self.executor = self._executor()

    def start(self):
        gbmodels.Model.start(self)
        self._warm_each()

    def _items(self, count):
        """The tasks' items: a sized workload's arguments, else its service's argument."""
        if self.sized:
            return [self.arguments[i % self.workers] for i in xrange(count)]
        return [self.service] * count

    def _warm_each(self):
        _state["barrier"] = threading.Barrier(self.workers)  # novm
        self._collect([self.executor.submit(warm, item) for item in self._items(self.workers)])

    def _collect(self, futures):
        try:
            done = [f.result() for f in futures]
        except Exception:
            import traceback

            raise gbprotocol.WorkloadFailure("crashed", traceback.format_exc())
        gbunits.collect([self._checked(d[0], d[1]) for d in done])

    def _checked(self, status, value):
        if status == "ok" and self.sized:
            return gbpayload.check_output(self.local.expected, value)
        return (status, value)

    def _round(self, units):
        count = self.workers * units
        items = self._items(count)
        extra = {"chunksize": pool_chunks(count, self.workers)} if self.chunked else {}
        done, busy = [], {}
        try:
            for status, value, seconds, worker in self.executor.map(task, items, **extra):
                busy[worker] = busy.get(worker, 0.0) + seconds
                done.append(self._checked(status, value))
                if done[-1][0] != "ok":
                    break
        except Exception:  # the pool itself broke: a worker died, a result wouldn't pickle
            import traceback

            done.append(("crashed", traceback.format_exc()))
        self.busy = list(busy.values())
        return done

    def _alone(self, index, units):
        try:
            done, seconds = self.executor.submit(alone, self.service, units).result()
        except Exception:
            import traceback

            return [("crashed", traceback.format_exc())], 0.0
        return list(done), seconds

    def _stop_workers(self):
        executor = getattr(self, "executor", None)
        if executor is not None:
            executor.shutdown(wait=True)


class ThreadPool(Pool):
    name = "threadpool"

    def _executor(self):
        from concurrent.futures import ThreadPoolExecutor  # novm

        init(self.workload_path, self.size)
        return ThreadPoolExecutor(max_workers=self.workers)


class ProcessPool(Pool):
    name = "processpool"
    shares_memory = False

    def __init__(self, workload_path, workers, start_method=None, size=None):
        processes = gbmodels._sibling("gbprocess")
        multiprocessing = processes._multiprocessing()
        Pool.__init__(self, workload_path, workers, size)
        self.context = multiprocessing.get_context(start_method)  # novm
        self.start_method = self.context.get_start_method()
        if self.start_method == "fork" and processes.fork_hazard():
            raise gbprotocol.unsupported("fork is unsafe here: " + processes.fork_hazard())
        from concurrent.futures import ProcessPoolExecutor  # novm

        if self.start_method != "fork" and not hasattr(
            ProcessPoolExecutor, "_adjust_process_count"
        ):
            # PyPy 3.9's submit() calls _adjust_process_count, which its module renamed
            raise gbprotocol.unsupported(
                "%s's ProcessPoolExecutor can't start %s workers (its submit() calls a "
                "method its own module lacks); use --start-method fork"
                % (gbprobe.implementation(), self.start_method), model_wide=True,
            )  # fmt: skip

    def _executor(self):
        from concurrent.futures import ProcessPoolExecutor  # novm

        self.barrier = self.context.Barrier(self.workers)
        return ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=self.context,
            initializer=init,
            initargs=(self.workload_path, self.size, self.barrier),
        )

    def _warm_each(self):  # the barrier came with each process, through init
        self._collect([self.executor.submit(warm, item) for item in self._items(self.workers)])


class ChunkedProcessPool(ProcessPool):
    name = "processpool-chunked"
    chunked = True


class InterpreterPool(Pool):
    name = "interpool"
    shares_memory = False

    def __init__(self, workload_path, workers, size=None):
        try:
            from concurrent.futures import InterpreterPoolExecutor  # novm  # noqa: F401
        except ImportError:
            raise gbprotocol.unsupported(
                "InterpreterPoolExecutor needs CPython 3.14+; this is "
                + gbprobe.implementation(), model_wide=True,
            )  # fmt: skip
        Pool.__init__(self, workload_path, workers, size)

    def _executor(self):
        from concurrent.futures import InterpreterPoolExecutor  # novm

        return InterpreterPoolExecutor(
            max_workers=self.workers, initializer=enter_interpreter,
            initargs=(gbmodels.HERE, os.path.abspath(self.workload_path), self.size),
        )  # fmt: skip

    def _warm_each(self):
        from concurrent import interpreters  # novm

        arrived, release = interpreters.create_queue(), interpreters.create_queue()
        futures = [self.executor.submit(warm_interpreter, item, arrived, release)
                   for item in self._items(self.workers)]  # fmt: skip
        try:
            for _ in xrange(self.workers):
                arrived.get(timeout=BARRIER_TIMEOUT)
        finally:
            for _ in xrange(self.workers):
                release.put(1)
        self._collect(futures)


def make_pool(name, workload_path, workers, start_method=None, size=None):
    """The pool model called ``name``; unsupported where the executor doesn't exist."""
    if sys.version_info < (3, 7):  # initializer and mp_context came with 3.7
        raise gbprotocol.unsupported(
            "the pool models need concurrent.futures with initializers (Python 3.7+); this "
            "is " + gbprobe.implementation(), model_wide=True,
        )  # fmt: skip
    if name == "threadpool":
        return ThreadPool(workload_path, workers, size)
    if name == "processpool":
        return ProcessPool(workload_path, workers, start_method, size)
    if name == "processpool-chunked":
        return ChunkedProcessPool(workload_path, workers, start_method, size)
    return InterpreterPool(workload_path, workers, size)
