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
import gbprobe
import gbprotocol
import gbunits

# Run in each new interpreter, before the warm-up: the workload is imported here, once.
SETUP = "import sys\nsys.path.insert(0, %r)\nimport gbinterp\ngbinterp.enter(%r)\n"
REPORT = "import gbinterp\ngbinterp.report_here(%d, %r, %d)\n"
MAX_DETAIL = 16000  # characters of a traceback sent back: a pipe holds 64 KiB unread

_workload = []  # in a subinterpreter: the workload module that ``enter`` loaded


def enter(workload_path):
    """In a subinterpreter: load the workload that this interpreter's units run."""
    _workload.append(gbload.load_workload(workload_path))


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

    def __init__(self, workload_path, workers, prefer=None):
        self.api = find_api(prefer)
        gbmodels.Threads.__init__(self, workload_path, workers)
        self.interps = []

    def _start_workers(self):
        setup = SETUP % (gbmodels.HERE, os.path.abspath(self.workload_path))
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

    def _stop_workers(self):
        gbmodels.Threads._stop_workers(self)
        while self.interps:
            self.api.close(self.interps.pop())
