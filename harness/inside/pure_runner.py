"""Measure one workload under one model the way pyperf does, for interpreters pyperf can't run.

pyperf 2.x needs Python 3.9+, so Jython 2.7 and IronPython 3.4 get this runner instead. It
follows pyperf's method and writes pyperf's JSON schema, so the host reads its files with
``pyperf.BenchmarkSuite.load`` and they flow through the same tables as every other row:

1. a calibration worker process finds the loop count that makes one value last at least
   ``--min-time``, then runs warm-up values until they stop changing, by pyperf's own test
   (gbwarmup.py): the JVM's JIT keeps compiling for seconds, and its compiler threads
   compete with ours for the cores;
2. ``--processes`` fresh worker processes each run that many warm-ups, then ``--values``
   timed values;
3. their runs are appended to the benchmark of the same name in the ``--append`` file.

Each worker starts and warms the model's W workers before any clock runs, as runner.py
does, so JVM start-up and pool start-up are inside no timed value, and every value is one
step of the same gbmeasure.RoundTimer as runner.py's, on the same clock (gbprobe.clock).

Same-syntax rule: this file must parse on Python 2.7 and 3.4+ (see gbprotocol.py).
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
from datetime import datetime

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import gbmeasure  # noqa: E402
import gbprobe  # noqa: E402
import gbprotocol  # noqa: E402
import gbwarmup  # noqa: E402

PYPERF_JSON_VERSION = "1.0"  # pyperf's suite format, as BenchmarkSuite.load expects it


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
    parser.add_argument("--size", type=gbmeasure.parse_size, default=None, help="see runner.py")
    parser.add_argument("--name", default=None, help="see runner.py")
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
    gbprotocol.report_status(status, detail, model_wide)
    os._exit(code)


def _start(args):
    """gbmeasure.start_measured, plus what pyperf itself would record about the interpreter."""
    model, metadata = gbmeasure.start_measured(args)
    metadata.update(_environment_metadata())
    return model, metadata


def measure_values(timer, loops, warmups, values):
    """pyperf's worker loop: ``warmups`` warm-up values, then ``values`` values.

    Returns them as a pyperf run holds them: warm-ups as ``[loops, seconds]`` pairs, values
    as seconds, each per round (pyperf's value is per loop too). ``timer`` is the worker's
    gbmeasure.RoundTimer, told ``warmups``: it pairs each value with serial units.
    """
    warm = [[loops, timer(loops) / loops] for _ in range(warmups)]
    return warm, [timer(loops) / loops for _ in range(values)]


def calibrate(timer, args, clock=None):
    """Find loops (a value >= min_time) and, unless given, the warm-up count.

    Returns (loops, warm-up count, every value taken as ``[loops, seconds]``: the
    calibration run's warm-ups). The warm-up count is pyperf's (gbwarmup.py), counted at
    the calibrated loops; ``clock`` (gbprobe.clock) bounds how long that may take.
    """
    warmups = []
    loops = max(args.loops, 1)
    while True:
        value = timer(loops) / loops
        warmups.append([loops, value])
        if args.loops or value * loops >= args.min_time:
            break
        loops *= 2
    if args.warmups is not None:  # already calibrated (another cell of this workload)
        return loops, args.warmups, warmups

    def one_value():
        return timer(loops) / loops

    nwarmup, values, settled = gbwarmup.calibrate_warmups(one_value, clock or gbprobe.clock)
    warmups.extend([loops, value] for value in values)
    if not settled:  # the log says so; the workers warm up as long as this did
        sys.stderr.write(
            "gilbench: the warm-up values did not settle within %d values; measuring after "
            "%d warm-ups\n" % (len(values), nwarmup)
        )
    return loops, nwarmup, warmups


def run_worker(args):
    try:
        model, metadata = _start(args)
        started = gbprobe.clock()
        if args.calibrate:
            # no warm-up count: calibration values are never paired
            loops, nwarmup, warmups = calibrate(gbmeasure.RoundTimer(model), args)
            run = {
                "warmups": warmups,
                "metadata": {"calibrate_loops": loops, "calibrate_warmups": nwarmup},
            }
        else:
            pairing = None
            if gbmeasure.wants_pairing(args):
                pairing = gbmeasure.Pairing(args, args.paired, model)
            timer = gbmeasure.RoundTimer(model, pairing, args.warmups)
            warmups, values = measure_values(timer, args.loops, args.warmups, args.values)
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
        run["metadata"]["duration"] = gbprobe.clock() - started
        run["metadata"]["date"] = datetime.now().isoformat(" ")
        model.close()
    except gbprotocol.WorkloadFailure as exc:
        _fail(exc.status, exc.detail, gbprotocol.exit_code(exc.status), exc.model_wide)
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
        "cpu_count": gbprobe.machine_cpus(),
        "perf_version": "gilbench pure_runner %d" % gbprotocol.METADATA_VERSION,
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
    name = "%s/%s/%d" % (gbmeasure.workload_name(args), args.model, args.workers)
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
