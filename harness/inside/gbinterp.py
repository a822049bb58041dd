"""The subinterpreters model: W interpreters in one process, each with its own GIL.

- CPython 3.14+: ``concurrent.interpreters`` (PEP 734). Results come back from
  ``Interpreter.call``.
- CPython 3.13: the private ``_interpreters`` module, the same machinery one level down.
  Its ``call`` discards the return value, so each worker reads its result from a pipe.
- Anything else (PyPy, Jython, CPython before 3.13): unsupported, with the reason.

Both create "isolated" interpreters: own GIL, own allocator, no daemon threads. Each worker
is a thread of the main interpreter that owns one subinterpreter and runs its units there,
so a round hands W units to W interpreters on W threads at once.

Everything that costs time happens in ``start()``: creating each interpreter, importing
gbinterp (and the gb* modules it needs) and the workload into it (by path, through
``sys.path``), then a warm-up round. Creating the second interpreter inside the timed
region cost a quarter of the speedup on this project's machines (NOTES.md). A workload
whose imports refuse subinterpreters (an extension module without multi-phase init) is
reported unsupported.

This module is imported twice: by gbmodels.make_model in the main interpreter, and by each
subinterpreter, where ``enter`` loads the workload and ``run_here``/``report_here`` run the
round's units. Same-syntax rule: this file must parse on Python 2.7 and 3.4+ (see
gbprotocol.py).
"""

import ast
import os
import platform
import traceback

import gbload
import gbmodels
import gbpayload
import gbprobe
import gbprotocol
import gbunits

# Run in each new interpreter, before the warm-up: the workload is imported here, once.
SETUP = "import sys\nsys.path.insert(0, %r)\nimport gbinterp\ngbinterp.enter(%r, %r)\n"
REPORT = "import gbinterp\ngbinterp.report_here(%d, %r, %d)\n"
MAX_DETAIL = 16000  # characters of a traceback sent back: a pipe holds 64 KiB unread

_workload = []  # in a subinterpreter: the workload module that ``enter`` loaded


def enter(workload_path, size=None):
    """In a subinterpreter: load the workload that this interpreter's units run (a sized
    one with data of its own, for the paired serial units)."""
    module = gbload.load_workload(workload_path)
    if gbpayload.sized(module):
        gbpayload.prepare(module, size)
    _workload.append(module)


def data_here(argument):
    """In a subinterpreter: one unit on ``argument``, which PEP 734's call copied in:
    ``(seconds, status, output)``, the output copied back out by the same call."""
    (status, output), seconds = gbpayload.timed_kernel(_workload[0], argument)
    if status != "ok":
        output = str(output)[-MAX_DETAIL:]
    return (seconds, status, output)


def shared_here(argument, out):
    """In a subinterpreter: one unit on ``argument``, a buffer shared with the main
    interpreter (no copy), its output copied into ``out``, another such buffer:
    ``(seconds, status, output length or failure)``."""
    start = gbprobe.clock()
    status, output = gbpayload.run_kernel(_workload[0], argument)
    if status == "ok":
        size = len(output)
        if size > len(out):
            status, output = "crashed", "an output of %d bytes overflows its %d-byte " \
                "buffer" % (size, len(out))  # fmt: skip
        else:
            out[:size] = output
            output = size
    else:
        output = str(output)[-MAX_DETAIL:]
    return (gbprobe.clock() - start, status, output)


def run_here(service, units=1):
    """In a subinterpreter: ``units`` units back to back, timed here: ``[seconds, runs]``.

    The interpreter times its own units on gbprobe.clock (gbunits.timed_outcomes), so the
    call into it is outside its busy time, as a pipe is outside a worker process's.
    Outcomes come back as ``[count, status, value]`` runs of equal ones (see ``expand``):
    a round's units all return the same checksum, and 3.13's result pipe must hold the
    line before anyone reads it.
    """
    done, seconds = gbunits.timed_outcomes(_workload[0], service, units)
    runs = []
    for status, value in done:
        if status != "ok":
            value = str(value)[-MAX_DETAIL:]
        if runs and runs[-1][1:] == [status, value]:
            runs[-1][0] += 1
        else:
            runs.append([1, status, value])
    return [seconds, runs]


def expand(runs):
    """The (status, value) outcomes that ``run_here`` squeezed into runs."""
    done = []
    for count, status, value in runs:
        done.extend([(status, value)] * count)
    return done


def report_here(fd, service, units=1):
    """In a subinterpreter (3.13): ``run_here``'s answer, written to ``fd`` as a line."""
    os.write(fd, (repr(run_here(service, units)) + "\n").encode("utf-8"))


class Pep734(object):
    """CPython 3.14+: ``concurrent.interpreters``."""

    def __init__(self, interpreters):
        self.interpreters = interpreters

    def create(self):
        return self.interpreters.create()

    def setup(self, interp, code):
        getattr(interp, "exec")(code)  # getattr: "exec" is a keyword in Python 2.7

    def run(self, interp, service, units):
        return interp.call(run_here, service, units)

    def data(self, interp, argument):
        return interp.call(data_here, argument)

    def shared(self, interp, argument, out):
        return interp.call(shared_here, memoryview(argument), out)

    def close(self, interp):
        interp.close()


class Private(object):
    """CPython 3.13: ``_interpreters``, whose exec returns a failure instead of raising."""

    def __init__(self, module):
        self.module = module
        self.pipes = {}

    def _exec(self, interp, code):
        failure = getattr(self.module, "exec")(interp, code)  # a keyword in Python 2.7
        if failure is not None:
            raise RuntimeError(getattr(failure, "formatted", None) or str(failure))

    def create(self):
        interp = self.module.create()  # the default config is "isolated": its own GIL
        self.pipes[interp] = os.pipe()
        return interp

    def setup(self, interp, code):
        self._exec(interp, code)

    def run(self, interp, service, units):
        read, write = self.pipes[interp]
        self._exec(interp, REPORT % (write, service, units))
        line = b""
        while not line.endswith(b"\n"):
            chunk = os.read(read, 65536)
            if not chunk:
                raise RuntimeError("the subinterpreter closed its result pipe")
            line += chunk
        return ast.literal_eval(line.decode("utf-8"))

    def close(self, interp):
        self.module.destroy(interp)
        for fd in self.pipes.pop(interp):
            os.close(fd)


def find_api(prefer=None):
    """The subinterpreter API this interpreter has; ``prefer='private'`` forces 3.13's."""
    if platform.python_implementation() != "CPython":
        raise gbprotocol.unsupported(
            "%s has no subinterpreters (a CPython 3.13+ feature)" % gbprobe.implementation(),
            model_wide=True,
        )
    if prefer != "private":
        try:
            from concurrent import interpreters  # novm
        except ImportError:
            pass
        else:
            return Pep734(interpreters)
    try:
        import _interpreters  # novm
    except ImportError:
        raise gbprotocol.unsupported(
            "subinterpreters with their own GIL need CPython 3.13+; this is "
            + gbprobe.implementation(),
            model_wide=True,
        )
    return Private(_interpreters)


class Subinterpreters(gbmodels.Threads):
    """W threads of the main interpreter, each running its units in its own subinterpreter."""

    name = "subinterpreters"
    shares_memory = False

    def __init__(self, workload_path, workers, prefer=None, size=None):
        self.api = find_api(prefer)
        gbmodels.Threads.__init__(self, workload_path, workers, size)
        if self.sized and not hasattr(self.api, "data"):
            raise gbprotocol.unsupported(
                "moving a unit's data into a subinterpreter needs concurrent.interpreters "
                "(CPython 3.14+); this is " + gbprobe.implementation(), model_wide=True,
            )  # fmt: skip
        self.interps = []

    def _start_workers(self):
        setup = SETUP % (gbmodels.HERE, os.path.abspath(self.workload_path), self.size)
        for _ in range(self.workers):
            interp = self.api.create()
            self.interps.append(interp)
            try:
                self.api.setup(interp, setup)
            except Exception as exc:
                if "subinterpreter" in str(exc):
                    raise gbprotocol.unsupported(
                        "the workload can't be imported in a subinterpreter: "
                        + str(exc).strip().splitlines()[-1]
                    )
                raise gbprotocol.WorkloadFailure("crashed", traceback.format_exc())
        gbmodels.Threads._start_workers(self)

    def _units(self, index, units):
        try:
            seconds, runs = self.api.run(self.interps[index], self.service, units)
        except Exception:
            return [("crashed", traceback.format_exc())], 0.0
        return expand(runs), seconds

    def _data(self, index, argument):
        """One unit of a sized workload: the argument goes in, the output comes out, each
        copied by PEP 734's call (bytes, str, numbers and tuples of them are copied; other
        objects are pickled)."""
        try:
            seconds, status, output = self.api.data(self.interps[index], argument)
        except Exception:
            return ("crashed", traceback.format_exc()), 0.0
        return (status, output), seconds

    def _stop_workers(self):
        gbmodels.Threads._stop_workers(self)
        while self.interps:
            self.api.close(self.interps.pop())


class SubinterpretersShared(Subinterpreters):
    """Subinterpreters whose units' data is shared, not copied: each call passes the
    argument as a memoryview (PEP 734 shares a buffer between interpreters without a copy)
    and a memoryview of an output buffer of the main interpreter's, which the unit fills
    (one copy). The output is checked where it lies."""

    name = "subinterpreters-shared"
    needs_payload = True

    def __init__(self, workload_path, workers, prefer=None, size=None):
        Subinterpreters.__init__(self, workload_path, workers, prefer, size)
        capacity = max([1, len(self.local.expected)] + [len(a) for a in self.arguments])
        # per worker, an output buffer for each unit it may have in hand (gbpayload.AHEAD)
        self.outputs = [[bytearray(capacity) for _ in range(gbpayload.AHEAD)]
                        for _ in range(workers)]  # fmt: skip
        self.given = [0] * workers  # units handed to each worker: the next one's buffer

    def _give(self, index, argument):
        slot = self.given[index] % gbpayload.AHEAD
        self.given[index] += 1
        self.inboxes[index].put((argument, slot))

    def _data(self, index, argument, slot=0):
        buffer = self.outputs[index][slot]
        try:
            seconds, status, output = self.api.shared(self.interps[index], argument,
                                                      memoryview(buffer))  # fmt: skip
        except Exception:
            return ("crashed", traceback.format_exc()), 0.0
        if status == "ok":
            output = memoryview(buffer)[:output]
        return (status, output), seconds

    def _check(self, expected, output):
        try:  # one copy out: memoryview's == compares item by item, 20x slower (1 ms a MiB)
            return gbpayload.check_output(expected, output.tobytes())
        finally:
            output.release()


INTERP_MODELS = {"subinterpreters": Subinterpreters,
                 "subinterpreters-shared": SubinterpretersShared}  # fmt: skip
