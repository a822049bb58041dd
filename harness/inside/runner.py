"""Measure one workload under one concurrency model with pyperf.

Started by path inside the measured interpreter's virtualenv (which has pyperf):

    python runner.py --workload workloads/nbody.py --model threads --workers 2 \
        --impl 3.14t --expect-gil 0 --append raw/3.14t.json [pyperf options]

pyperf's master process spawns worker processes that re-run this file with ``--worker``.
Each worker loads the workload, starts and warms the model's W workers, reads the GIL
state that is actually in force, and only then hands pyperf a time function that times
``loops`` units on each of the W workers, handed over at once (gbmodels.Model.round), and
pairs each value with serial units (gbmeasure.RoundTimer). Interpreter start-up, imports
and pool start-up are therefore outside every timed value.

Same-syntax rule: this file must parse on Python 2.7 and 3.4+ (see gbprotocol.py).
"""

from __future__ import print_function

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import gbmeasure  # noqa: E402
import gbprotocol  # noqa: E402


def _add_options(parser):
    parser.add_argument("--workload", required=True, help="path of the workload file")
    parser.add_argument("--model", required=True, choices=gbprotocol.MODELS)
    parser.add_argument("--workers", type=int, required=True)
    parser.add_argument("--impl", required=True, help="gilbench implementation id")
    parser.add_argument("--build", default="", help="build flags, recorded as metadata")
    parser.add_argument(
        "--expect-gil",
        choices=("0", "1", "any"),
        default="any",
        help="refuse to measure unless the GIL state in force is this",
    )
    parser.add_argument("--start-method", default=None, help="multiprocessing start method")
    parser.add_argument(
        "--paired",
        default=None,
        help="JSON-lines file for serial units timed after each value (gbmeasure.Pairing)",
    )
    parser.add_argument("--size", type=gbmeasure.parse_size, default=None,
                        help="a sized workload's size: bytes, or seconds of work")  # fmt: skip
    parser.add_argument("--name", default=None, help="the cell's workload name, if not the file's")


def _pass_options(cmd, args):
    """Hand our own options on to pyperf's worker processes."""
    cmd.extend(
        [
            "--workload",
            args.workload,
            "--model",
            args.model,
            "--workers",
            str(args.workers),
            "--impl",
            args.impl,
            "--build=" + args.build,  # "=": build flags start with "--"
            "--expect-gil",
            args.expect_gil,
        ]
    )
    if args.start_method:
        cmd.extend(["--start-method", args.start_method])
    if args.paired:
        cmd.extend(["--paired", args.paired])
    if args.size is not None:
        cmd.extend(["--size", repr(args.size)])
    if args.name:
        cmd.extend(["--name", args.name])


def _fail(status, detail, exit_code, model_wide=False):
    gbprotocol.report_status(status, detail, model_wide)
    sys.stdout.flush()
    # os._exit: worker threads and processes may still be parked on their queues.
    os._exit(exit_code)


def main():
    import pyperf

    # warmups=None: pyperf then calibrates warmups on JIT implementations (PyPy); its
    # default of 1 would skip that calibration (psf/pyperf#245).
    runner = pyperf.Runner(warmups=None, add_cmdline_args=_pass_options)
    _add_options(runner.argparser)
    args = runner.parse_args()
    name = "%s/%s/%d" % (gbmeasure.workload_name(args), args.model, args.workers)

    if not args.worker:
        # The master process only spawns workers and collects their values.
        runner.bench_time_func(name, None)
        return

    try:
        model, metadata = gbmeasure.start_measured(args)
    except gbprotocol.WorkloadFailure as exc:  # unsupported, a wrong checksum, a crash
        _fail(exc.status, exc.detail, gbprotocol.exit_code(exc.status), exc.model_wide)
    runner.metadata.update(metadata)
    pairing = None
    warmups = _unpaired_calls(runner.args)
    if warmups is not None and gbmeasure.wants_pairing(args):
        try:
            pairing = gbmeasure.Pairing(args, args.paired, model)
        except gbprotocol.WorkloadFailure as exc:
            _fail(exc.status, exc.detail, gbprotocol.exit_code(exc.status), exc.model_wide)
        runner.metadata["gilbench_pairing"] = pairing.token
    # gbprobe.clock is time.perf_counter here, the very function pyperf times with.
    timer = gbmeasure.RoundTimer(model, pairing, warmups)

    def time_rounds(loops):
        try:
            return timer(loops)
        except gbprotocol.WorkloadFailure as exc:
            _fail(exc.status, exc.detail, gbprotocol.exit_code(exc.status), exc.model_wide)

    runner.bench_time_func(name, time_rounds)
    if pairing is not None:
        pairing.write()
        pairing.close()
    model.close()


def _unpaired_calls(pyperf_args):
    """How many calls of the time function come before the values, or None if none do.

    A pyperf worker that calibrates loops or warm-ups records no values; any other runs
    ``--warmups`` warm-up calls, then ``--values`` values (pyperf's _worker.py).
    """
    calibrating = (
        pyperf_args.calibrate_loops
        or pyperf_args.recalibrate_loops
        or pyperf_args.calibrate_warmups
        or pyperf_args.recalibrate_warmups
    )
    return None if calibrating else (pyperf_args.warmups or 0)


if __name__ == "__main__":
    main()
