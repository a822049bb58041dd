"""Run a workload's units serially, so that the host can count their instructions.

Started by path under valgrind's cachegrind (harness/run/counts.py), with the interpreter,
flags and environment a timed serial run uses:

    valgrind --tool=cachegrind --cache-sim=no ... python counter.py \
        --workload workloads/nbody.py --units 3 --impl 3.14 --expect-gil 1

It starts the serial model exactly as a timed run's worker does (gbmeasure.start_measured:
the workload loaded as from its .pyc, one warm-up unit, the GIL state checked after it),
runs ``--units`` units back to back with ``Model.round``, the very call a timed value
makes, each unit checked against the workload's CHECKSUM, and prints one COUNT_PREFIX
line of JSON (the units, the checksum, the GIL state, the seconds and CPU seconds the
units took). The host runs it for N and for N+k units and takes the difference, so that
start-up, imports and the warm-up round, the same in both, cancel. It then leaves by
os._exit, so that neither run's count holds the interpreter's finalization.

A failure prints gbprotocol's status line and exits with its status, as runner.py does.

Same-syntax rule: this file must parse on Python 2.7 and 3.4+ (see gbprotocol.py).
"""

from __future__ import print_function

import argparse
import gc
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import gbmeasure  # noqa: E402
import gbprobe  # noqa: E402
import gbprotocol  # noqa: E402

# CPU seconds of this process: what valgrind's slowdown multiplies (a wait is as long
# counted as not). time.clock is CPU time on Python 2's Unix builds.
cpu_clock = getattr(time, "process_time", None) or getattr(time, "clock", time.time)


def gc_collections():
    """The cyclic collector's collections so far, all generations; None where gc can't say.

    3.14t's collector skips a due collection while the process's memory (VmRSS) has grown
    less than 10% since the last one, and mimalloc gives memory back on a timer: a loaded
    machine can then take a collection out of one run's start-up and not the other's."""
    try:
        return sum(generation["collections"] for generation in gc.get_stats())  # novm
    except (AttributeError, KeyError, TypeError):  # Python 2, PyPy: no such statistics
        return None


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workload", required=True, help="path of the workload file")
    parser.add_argument("--units", type=int, required=True, help="units after the warm-up")
    parser.add_argument("--impl", required=True, help="gilbench implementation id")
    parser.add_argument("--build", default="", help="build flags (as runner.py takes them)")
    parser.add_argument("--expect-gil", choices=("0", "1", "any"), default="any")
    args = parser.parse_args(argv)
    # What start_measured reads of a timed run's options: the serial baseline cell.
    args.model, args.workers, args.start_method = "serial", 1, None
    return args


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        model, metadata = gbmeasure.start_measured(args)
        collections = gc_collections()
        start, cpu_start = gbprobe.clock(), cpu_clock()
        if args.units:
            model.round(args.units)  # each unit checked against CHECKSUM (gbunits.check)
        seconds, cpu_seconds = gbprobe.clock() - start, cpu_clock() - cpu_start
        model.close()
    except gbprotocol.WorkloadFailure as exc:
        gbprotocol.report_status(exc.status, exc.detail, exc.model_wide)
        sys.stdout.flush()
        os._exit(gbprotocol.exit_code(exc.status))
    line = {
        "units": args.units,
        "checksum": metadata["gilbench_checksum"],
        "gil_enabled": metadata["gil_enabled"],
        "seconds": seconds,  # the host sizes k from a run outside valgrind
        "cpu_seconds": cpu_seconds,
        "collections": collections,  # before the units: the host checks both runs agree
    }
    print(gbprotocol.COUNT_PREFIX + " " + json.dumps(line, sort_keys=True))
    sys.stdout.flush()
    # Leave without finalizing the interpreter, in both of a count's runs: finalization is
    # no unit, and what it frees and the allocator (mimalloc) then purges depends on when
    # the last waits ended. On 3.14t it took 46 M instructions after io_sleep's units, and
    # two runs under one hash seed differed there by up to 17 K.
    os._exit(0)


if __name__ == "__main__":
    main()
