"""Measure one workload under one model the way pyperf does, for interpreters pyperf can't run.

pyperf 2.x needs Python 3.9+, so Jython 2.7 and IronPython 3.4 get this runner instead. It
follows pyperf's method and writes pyperf's JSON schema, so the host reads its files with
``pyperf.BenchmarkSuite.load`` and they flow through the same tables as every other row:

1. a calibration worker process finds the loop count that makes one value last at least
   ``--min-time``, then runs warm-up values until they stop changing (the JVM's JIT keeps
   compiling for seconds, and its compiler threads compete with ours for the cores);
2. ``--processes`` fresh worker processes each run that many warm-ups, then ``--values``
   timed values;
3. their runs are appended to the benchmark of the same name in the ``--append`` file.

Each worker starts and warms the model's W workers before any clock runs, as runner.py
does, so JVM start-up and pool start-up are inside no timed value.

Same-syntax rule: this file must parse on Python 2.7 and 3.4+ (see gbcore.py).
"""

from __future__ import division, print_function

import argparse
import json
import os
import platform
import shlex
import subprocess
import sys
import tempfile
import time
from datetime import datetime

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import gbcore  # noqa: E402

PYPERF_JSON_VERSION = "1.0"  # pyperf's suite format, as BenchmarkSuite.load expects it
STABLE_SPREAD = 0.05  # warm-ups stop when 3 in a row lie within 5% of their median
MIN_WARMUPS = 3
MAX_WARMUP_SECONDS = 30.0  # give up waiting for a JIT to settle after this long


def _clock():
    """The best monotonic clock the implementation has, in seconds."""
    perf_counter = getattr(time, "perf_counter", None)
    if perf_counter is not None:
        return perf_counter
    if platform.system() == "Java":  # Jython: time.time() has only millisecond resolution
        from java.lang import System  # novm

        return lambda: System.nanoTime() / 1e9
    return time.time


clock = _clock()


def _options(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workload", required=True)
    parser.add_argument("--model", required=True)
    parser.add_argument("--workers", type=int, required=True)
    parser.add_argument("--impl", required=True)
    parser.add_argument("--build", default="")
    parser.add_argument("--expect-gil", choices=("0", "1", "any"), default="any")
    parser.add_argument("--start-method", default=None)
    parser.add_argument("--paired", default=None, help="see runner.py")
    parser.add_argument("--append", help="pyperf JSON file to add this benchmark's runs to")
    parser.add_argument(
        "--interpreter",
        help="command that starts the measured interpreter for the worker processes, e.g. "
        "'jython' or 'java -jar jython.jar' (default: the one running this file)",
    )
    parser.add_argument("-p", "--processes", type=int, default=20)
    parser.add_argument("-n", "--values", type=int, default=3)
    parser.add_argument("-w", "--warmups", type=int, default=None)
    parser.add_argument("-l", "--loops", type=int, default=0)
    parser.add_argument("--min-time", type=float, default=0.1)
    parser.add_argument("-q", "--quiet", action="store_true")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--calibrate", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--result", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def _fail(status, detail, code, model_wide=False):
    gbcore.report_status(status, detail, model_wide)
    os._exit(code)


def _start(args):
    """gbcore.start_measured, plus what pyperf itself would record about the interpreter."""
    model, metadata = gbcore.start_measured(args)
    metadata.update(_environment_metadata())
    return model, metadata


def _timed(model, loops):
    """Seconds per round, over ``loops`` rounds (pyperf's value is per loop too).

    The workers get their ``loops`` units at once and run them back to back, as in
    runner.py (gbcore.Model.round).
    """
    start = clock()
    model.round(loops)
    return (clock() - start) / loops


def _settled(values):
    if len(values) < MIN_WARMUPS:
        return False
    last = sorted(values[-MIN_WARMUPS:])
    middle = last[len(last) // 2]
    return (last[-1] - last[0]) <= STABLE_SPREAD * middle


def _calibrate(model, args):
    """Find loops (a value >= min_time) and warm-ups (values stop changing)."""
    warmups = []
    loops = max(args.loops, 1)
    while True:
        value = _timed(model, loops)
        warmups.append([loops, value])
        if args.loops or value * loops >= args.min_time:
            break
        loops *= 2
    if args.warmups is not None:  # already calibrated (another cell of this workload)
        return loops, args.warmups, warmups
    values = []
    started = clock()
    while not _settled(values) and clock() - started < MAX_WARMUP_SECONDS:
        value = _timed(model, loops)
        warmups.append([loops, value])
        values.append(value)
    return loops, len(values), warmups


def run_worker(args):
    try:
        model, metadata = _start(args)
        started = clock()
        if args.calibrate:
            loops, nwarmup, warmups = _calibrate(model, args)
            run = {
                "warmups": warmups,
                "metadata": {"calibrate_loops": loops, "calibrate_warmups": nwarmup},
            }
        else:
            pairing = None
            if gbcore.wants_pairing(args):
                pairing = gbcore.Pairing(args, args.paired, clock)
            warmups = []
            for _ in range(args.warmups):
                warmups.append([args.loops, _timed(model, args.loops)])
                if pairing is not None and pairing.warms(model):  # warms only; not kept
                    pairing.after(args.loops, keep=False)
            values = []
            for _ in range(args.values):
                values.append(_timed(model, args.loops))
                if pairing is not None:  # serial units right after each value, untimed
                    pairing.after(args.loops, busy=model.busy)
            if pairing is not None:
                pairing.write()
                pairing.close()
            run = {"warmups": warmups, "values": values, "metadata": {}}
            if pairing is not None:  # which paired line holds this run's serial units
                run["metadata"]["gilbench_pairing"] = pairing.token
        # Counts differ from worker to worker, so they belong to the run, as in pyperf.
        for key in ("gilbench_updates", "gilbench_lost_updates"):
            if key in metadata:
                run["metadata"][key] = metadata.pop(key)
        run["metadata"]["duration"] = clock() - started
        run["metadata"]["date"] = datetime.now().isoformat(" ")
        model.close()
    except gbcore.WorkloadFailure as exc:
        _fail(exc.status, exc.detail, gbcore.exit_code(exc.status), exc.model_wide)
    with open(args.result, "w") as out:
        json.dump({"run": run, "metadata": metadata}, out)
    sys.stdout.flush()
    os._exit(0)  # worker threads may still be parked on their queues


def _spawn(interpreter, argv, extra):
    """Run one worker process; return what it reported, or exit as it did."""
    handle, result = tempfile.mkstemp(prefix="gilbench-", suffix=".json")
    os.close(handle)
    try:
        code = subprocess.call(
            interpreter
            + [os.path.abspath(__file__)]
            + argv
            + extra
            + ["--worker", "--result", result]
        )
        if code != 0:
            sys.exit(code)  # the worker already printed its GILBENCH-STATUS line
        with open(result) as stream:
            return json.load(stream)
    finally:
        os.remove(result)


def _strip(argv, valued, flags):
    """argv without the options in ``valued`` (and their values) and in ``flags``."""
    kept, skip = [], False
    for arg in argv:
        if skip:
            skip = False
        elif arg in flags or arg.split("=")[0] in valued:
            skip = arg in valued  # "--opt value"; "--opt=value" is one word
        else:
            kept.append(arg)
    return kept


def _environment_metadata():
    return {
        "python_implementation": platform.python_implementation().lower(),
        "python_version": platform.python_version(),
        "python_executable": sys.executable,
        "platform": platform.platform(),
        "cpu_count": gbcore.machine_cpus(),
        "perf_version": "gilbench pure_runner %d" % gbcore.METADATA_VERSION,
        "unit": "second",
    }


def append_benchmark(path, name, metadata, runs):
    """Add ``runs`` to benchmark ``name`` in the pyperf file at ``path`` (atomically)."""
    suite = {"version": PYPERF_JSON_VERSION, "metadata": {}, "benchmarks": []}
    if os.path.exists(path):
        with open(path) as stream:
            suite = json.load(stream)
    for bench in suite["benchmarks"]:
        if bench["metadata"].get("name") == name:
            bench["runs"].extend(runs)
            break
    else:
        suite["benchmarks"].append({"metadata": metadata, "runs": runs})
    tmp = path + ".tmp"
    with open(tmp, "w") as out:
        json.dump(suite, out, sort_keys=True)
    replace = getattr(os, "replace", None)
    if replace is not None:
        replace(tmp, path)
    else:  # Python 2: rename doesn't overwrite an existing file on every platform
        if os.path.exists(path):
            os.remove(path)
        os.rename(tmp, path)


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    args = _options(argv)
    if args.worker:
        run_worker(args)
        return
    name = "%s/%s/%d" % (
        os.path.splitext(os.path.basename(args.workload))[0],
        args.model,
        args.workers,
    )
    base = _strip(
        argv, ("--append", "-l", "--loops", "-w", "--warmups", "--interpreter"), ("-q", "--quiet")
    )
    # The master may run on another interpreter (the host's CPython, sparing a JVM start);
    # only the workers, which do all the timing, run on the measured one.
    interpreter = shlex.split(args.interpreter) if args.interpreter else [sys.executable]
    runs = []
    loops, warmups = args.loops, args.warmups
    if not loops or warmups is None:
        known = (["--loops", str(loops)] if loops else []) + (
            ["--warmups", str(warmups)] if warmups is not None else []
        )
        calibration = _spawn(interpreter, base, ["--calibrate"] + known)
        runs.append(calibration["run"])
        loops = loops or calibration["run"]["metadata"]["calibrate_loops"]
        if warmups is None:
            warmups = calibration["run"]["metadata"]["calibrate_warmups"]
    metadata = None
    for _ in range(args.processes):
        result = _spawn(interpreter, base, ["--loops", str(loops), "--warmups", str(warmups)])
        runs.append(result["run"])
        metadata = result["metadata"]
        if not args.quiet:
            sys.stdout.write(".")
            sys.stdout.flush()
    metadata["name"] = name
    metadata["loops"] = loops
    if args.append:
        append_benchmark(args.append, name, metadata, runs)
    if not args.quiet:
        print("\n%s: %d values" % (name, sum(len(r.get("values", [])) for r in runs)))


if __name__ == "__main__":
    main()
