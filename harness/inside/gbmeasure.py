"""What both runners do in a worker process: start the model, time its rounds, pair them.

runner.py hands pyperf a time function and pyperf decides which calls are calibration,
warm-ups or values; pure_runner.py runs the same calls itself. Either way each call is
one ``RoundTimer`` step: ``model.round(loops)`` timed with gbprobe.clock, then, after a
value, as many serial units where the model's workers run (``Pairing``), outside the
timed value.
"""

import numbers
import os

import gbload
import gbmodels
import gbprobe
import gbprotocol

try:
    unicode
except NameError:  # Python 3: every str is text
    unicode = str


def checksum_text(value):
    """A workload's CHECKSUM in the metadata, as a plain value: a string as itself, a whole
    number in decimal (Python 2's long without its L), "" for none; otherwise its repr."""
    if value is None:
        return ""
    if isinstance(value, (str, unicode)):
        return value
    if isinstance(value, numbers.Integral):
        return "%d" % value
    return repr(value)


def start_measured(args):
    """Start and warm the model, then check the GIL state in force: (model, metadata).

    Both runners call this in each worker process before any clock runs. The GIL state is
    read after every import (the workload's included) and after the warm-up round: an
    extension module can turn a free-threaded build's GIL back on. A state that breaks
    the implementation's promise raises gil-mismatch, and nothing is measured, unless an
    import the workload made turned it on (gbload.gil_note): that is measured, and noted.
    """
    module = gbload.load_workload(args.workload)
    size = getattr(args, "size", None)  # a sized workload's (gbpayload.py)
    model = gbmodels.make_model(args.model, args.workload, args.workers, args.start_method,
                                size)  # fmt: skip
    model.start()  # every worker started and warmed: one full round
    gil = gbprobe.gil_enabled()
    note = gbload.gil_note(gil)  # "numpy re-enabled the GIL": measured so, and marked
    if args.expect_gil != "any" and gil != int(args.expect_gil) and not note:
        model.close()
        raise gbprotocol.WorkloadFailure(
            "gil-mismatch",
            "%s promises GIL %s but the GIL in force is %s"
            % (
                args.impl,
                "enabled" if args.expect_gil == "1" else "disabled",
                "enabled" if gil else "disabled",
            ),
        )
    cpus = gbprobe.usable_cpus()
    metadata = {
        "gilbench_version": gbprotocol.METADATA_VERSION,
        "gilbench_impl": args.impl,
        "gilbench_build": args.build or "-",
        "gilbench_workload": workload_name(args),
        "gilbench_model": args.model,
        "gilbench_workers": args.workers,
        "gilbench_checksum": checksum_text(getattr(module, "CHECKSUM", None)),
        "gilbench_cpus": cpus,
        "gilbench_affinity": gbprobe.cpu_affinity(),
        "gilbench_cpu_count": gbprobe.machine_cpus(),
        "gilbench_oversubscribed": int(args.workers > cpus),
        "gil_enabled": gil,
    }
    # the start method of processes; updates made and lost, for shared-state workloads
    metadata.update(gbmodels.model_metadata(model))
    metadata.update({"gilbench_gil_note": note} if note else {})
    return model, metadata


def parse_size(text):
    """``--size``: a whole number of bytes, or seconds of work (a float)."""
    try:
        return int(text)
    except ValueError:
        return float(text)


def workload_name(args):
    """The cell's workload: the file's name, or the name the host gave a sized variant
    (``payload_bytes@64KiB``)."""
    return getattr(args, "name", None) or os.path.splitext(os.path.basename(args.workload))[0]


class RoundTimer(object):
    """The one measuring step: time ``loops`` rounds, then pair a value with serial units.

    Call it with ``loops``; it returns the seconds that ``model.round(loops)`` took on the
    clock, read right before and right after that call and nowhere else (pyperf divides
    by ``loops`` itself; pure_runner.py does too). Calls are counted: the first
    ``warmups`` are warm-ups, the rest values. After each value, ``pairing.after`` times
    ``loops`` serial units and keeps them with the model's busy times; warm-ups get none
    (``Pairing``: the serial units run code that the warm-up rounds have warmed).
    ``warmups=None`` marks a calibration run (loops or warm-ups): its calls are neither,
    and never paired.
    """

    def __init__(self, model, pairing=None, warmups=None, clock=None):
        self.model = model
        self.pairing = pairing
        self.warmups = warmups
        self.clock = clock or gbprobe.clock
        self.calls = 0

    def __call__(self, loops):
        start = self.clock()
        self.model.round(loops)  # each worker runs its loops units back to back
        elapsed = self.clock() - start
        self.calls += 1
        if self.pairing is not None and self.warmups is not None and self.calls > self.warmups:
            self.pairing.after(loops, busy=self.model.busy)
        return elapsed


class Pairing(object):
    """Serial units timed right after each of a cell's values, where its workers run.

    A parallel cell's speedup divides by a serial time. Taken from the serial cell's own
    processes, that time comes from other moments of the run, and a shared machine's speed
    drifts (this project's 2-vCPU VM runs the same unit at 90 or 125 ms for seconds at a
    time): the ratio then measures the drift as much as the model. So every value of a
    non-baseline cell is followed by ``loops`` serial units, and their time per unit is
    kept. The speedup's two sides then come from the same moments, interleaved.

    The serial units run where the measured units ran, so that the ratio compares the
    model's work with the same work done alone, not two places:

    - threads and asyncio (``Model.shares_memory``): their workers run in this process,
      so a separate serial model runs the units on the calling thread, timed with
      ``clock``. It shares the workload module with the measured model, so a JIT's
      compiled code serves both, as it would serve a serial run.
    - processes and subinterpreters: one of the model's own workers runs them while the
      others wait, and times them itself (``Model.time_alone``). A baseline in the
      benchmark process ran with another heap, allocator state and JIT than the units it
      was compared with, and the speedup measured that difference too.

    Either way the serial units run code that the model's warm-up rounds have just run in
    the same process or interpreter, so warm-ups need none; calibration runs get none
    either. The units are outside every timed value. ``write()`` appends one JSON line
    per worker process to ``path``, under ``token``, which the runner also writes into
    this process's run metadata (``gilbench_pairing``): the host joins each value with
    the serial units timed right after it. The line's ``serial_in`` says where they ran.
    """

    def __init__(self, args, path, model, clock=None):
        import random

        self.path = path
        self.clock = clock or gbprobe.clock
        # names this worker process's run among all of the cell's, over every pass
        self.token = "%x-%08x" % (os.getpid(), random.SystemRandom().getrandbits(32))
        self.key = {
            "impl": args.impl,
            "workload": workload_name(args),
            "model": args.model,
            "workers": args.workers,
        }
        self.seconds = []
        self.busy = []  # each kept value's per-worker busy seconds (Model.busy)
        self.model = model
        self.baseline = None  # a serial model of this process's own, where one is needed
        if model.shares_memory:
            self.baseline = gbmodels.Serial(args.workload, 1, getattr(args, "size", None))
            self.baseline.start()

    def after(self, loops, busy=()):
        """Time ``loops`` serial units now; keep the time per unit, and ``busy``.

        ``busy``: the measured model's per-worker busy seconds in the value just timed.
        """
        if self.baseline is None:
            seconds = self.model.time_alone(loops)  # timed by the worker that ran them
        else:
            start = self.clock()
            self.baseline.round(loops)  # one worker: its loops units back to back
            seconds = self.clock() - start
        self.seconds.append(seconds / loops)
        self.busy.append([round(b, 6) for b in busy])

    def write(self):
        import json

        line = dict(self.key, pairing=self.token, seconds=self.seconds, busy=self.busy,
                    serial_in="a worker" if self.baseline is None else "this process")  # fmt: skip
        with open(self.path, "a") as out:
            out.write(json.dumps(line, sort_keys=True) + "\n")

    def close(self):
        if self.baseline is not None:
            self.baseline.close()


def wants_pairing(args):
    """True for every cell but the serial 1-worker baseline itself, when asked for."""
    return bool(getattr(args, "paired", None)) and (args.model, args.workers) != ("serial", 1)
