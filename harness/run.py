"""Run the benchmark matrix: one runner process per (implementation, workload, model, workers).

Every benchmark runs in its own process tree with a timeout. Whatever happens to it, one
line goes to ``outcomes.jsonl`` before the next starts, and pyperf appends its values to
``raw/<impl>.json``: a crash, a hang or a wrong checksum is recorded and the run goes on,
and what was measured before is never rewritten.
"""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from harness import store
from harness.cpuspeed import Sampler
from harness.impls import Impl
from harness.workloads import Workload, script_command, script_environ

INSIDE = Path(__file__).resolve().parent / "inside"
RUNNER = INSIDE / "runner.py"  # pyperf front end, run by the measured interpreter's venv
PURE_RUNNER = INSIDE / "pure_runner.py"  # pyperf's method without pyperf (Jython, IronPython)
# inside/gbcore.py's MODELS, in the order the report shows them
MODELS = ("serial", "threads", "processes", "subinterpreters", "asyncio", "asyncio-to-thread")


def default_workers(cpus: int | None = None) -> tuple[int, ...]:
    """1, 2 and twice the CPUs this process may use: the last point is oversubscribed."""
    if cpus is None:
        affinity = getattr(os, "sched_getaffinity", None)
        cpus = len(affinity(0)) if affinity is not None else (os.cpu_count() or 1)
    return tuple(sorted({1, 2, 2 * cpus}))


STATUS_PREFIX = "GILBENCH-STATUS"  # printed by inside/gbcore.py:report_status
MODEL_WIDE_LINE = "GILBENCH-SCOPE model"  # gbcore: the status after it holds for any workload
CALIBRATION = ("calibrate_loops", "recalibrate_loops", "calibrate_warmups", "recalibrate_warmups")
# Exit statuses of inside/gbcore.py, for when a worker dies before it can print a line.
EXIT_STATUSES = {17: "wrong-checksum", 18: "gil-mismatch", 19: "unsupported"}


@dataclass(frozen=True)
class Profile:
    """How hard pyperf works for each benchmark.

    The matrix runs in ``passes``: each pass runs every benchmark once, with
    ``pyperf_args``, and pyperf appends that pass's runs to the same benchmark. A shared
    machine drifts by tens of percent over minutes; spreading every cell's processes over
    the whole run makes the drift hit all cells alike, so speedups (ratios between cells)
    stay honest.
    """

    name: str
    passes: int
    pyperf_args: tuple[str, ...]  # for one pass
    timeout_s: float  # a benchmark still running after this is killed and marked "timeout"
    start_method: str | None = None  # multiprocessing start method for the processes model
    # Warm-up values per process on a JIT implementation: None lets pyperf (or pure_runner)
    # calibrate them for each workload x model; a number fixes them (the quick profile).
    jit_warmups: int | None = None


# What --quick measures unless told otherwise: one headline workload for each kind of work
# where the GIL question comes out differently (pure-Python CPU, C that releases the GIL,
# I/O), at 1 and 2 workers. The whole matrix, every implementation, takes hours honestly
# measured on 2 cores (a PyPy cell alone spends ~20 s calibrating its JIT's warm-up).
QUICK_TAG = "quick"
QUICK_WORKERS = (1, 2)
# asyncio-to-thread, a variant for CPU work, is left to full runs; every other model is
# measured at 2 workers against serial at 1, the baseline every finding is built on.
QUICK_MODELS = ("serial", "threads", "processes", "subinterpreters", "asyncio")

PROFILES = {
    # 3 passes x 1 process x 3 values: pyperf's minimum of 3 processes (3 hash seeds).
    # A JIT gets a fixed 12 warm-up values a process: the most any cell here needed when
    # pyperf's search wasn't fooled by noise (PyPy's event loop on io_echo; nbody's JIT
    # compiles its loops within the first value). On this VM that search returned anything
    # from 1 to 111 warm-ups for the same cell and cost up to 40 s a process; quick would
    # have taken 20 minutes instead of 10.
    "quick": Profile(
        "quick", 3, ("--processes", "1", "--values", "3"), timeout_s=120.0, jit_warmups=12
    ),
    # 20 passes x 1 process x 3 values: pyperf's default 20 processes x 3 values, each
    # process at another moment of the run. This machine's host slows it down in bursts of
    # seconds; with 4 processes a pass, a cell's pass fell inside one burst, skewing ratios.
    "full": Profile("full", 20, ("--processes", "1", "--values", "3"), timeout_s=900.0),
}


@dataclass(frozen=True)
class Bench:
    impl: Impl
    workload: Workload
    model: str
    workers: int

    @property
    def name(self) -> str:
        """pyperf's benchmark name: the same on every implementation, for compare_to."""
        return f"{self.workload.name}/{self.model}/{self.workers}"


@dataclass(frozen=True)
class Outcome:
    status: str  # ok, crashed, timeout, wrong-checksum, gil-mismatch, unsupported
    detail: str
    elapsed_s: float
    model_wide: bool = False  # the implementation lacks the model, whatever the workload


def plan(
    impls: Iterable[Impl],
    workloads: Iterable[Workload],
    models: Iterable[str],
    workers: Iterable[int],
    baseline_only_at_one: bool = False,
) -> list[Bench]:
    """Every combination, in a stable order: implementation, workload, model, workers.

    ``baseline_only_at_one`` (the quick profile's default selection) measures only serial
    at 1 worker, the baseline of every speedup, and the other models at their other counts.
    """
    counts = sorted(set(workers))
    models = list(models)
    workloads = list(workloads)
    return [
        Bench(impl, w, m, n)
        for impl in impls
        if impl.available
        for w in workloads
        for m in models
        for n in counts
        if not (baseline_only_at_one and n == 1 and m != "serial")
        and not (baseline_only_at_one and n > 1 and m == "serial")
    ]


def runner_command(
    bench: Bench, python: Path, raw: Path, profile: Profile, calibration: Sequence[str] = ()
) -> list[str]:
    """The command that measures ``bench`` and appends its runs to ``raw``."""
    impl = bench.impl
    expect = "any" if impl.expect_gil is None else str(impl.expect_gil)
    if impl.runner == "pure":
        # The master runs on the host (no JVM start of its own); workers on the impl.
        head = [sys.executable, str(PURE_RUNNER),
                "--interpreter", shlex.join(impl.command or (str(python),))]  # fmt: skip
    else:
        head = [str(python), str(RUNNER)]
    start = ["--start-method", profile.start_method] if profile.start_method else []
    return [
        *head,
        *start,
        "--workload", str(bench.workload.path),
        "--model", bench.model,
        "--workers", str(bench.workers),
        "--impl", impl.id,
        # "=" form: build flags start with "--", which argparse would take for an option
        f"--build={impl.build}",
        "--expect-gil", expect,
        "--append", str(raw),
        "--paired", str(store.paired_path(raw)),
        "--quiet",
        *profile.pyperf_args,
        *calibration,
    ]  # fmt: skip


def calibration_args(raw: Path, name: str) -> list[str]:
    """``--loops``/``--warmups`` for ``name``: its own calibration, else borrowed ones.

    Later passes reuse a benchmark's own calibration, as pyperf's own worker processes do.
    A benchmark not yet calibrated borrows:

    - loops from its workload's serial 1-worker cell: a round of W units never takes less
      than one unit, so each value still lasts at least pyperf's ``--min-time``, and the
      cell is spared a calibration process of its own;
    - a JIT's warm-up count from a cell with the same workload and model at another worker
      count. How long a JIT takes to settle depends on the code it runs, which is the
      workload's plus the model's own (PyPy's event loop needs 12 warm-up rounds on
      io_echo where its serial cell needs 4).
    """
    try:
        suite = json.loads(raw.read_text())
    except (OSError, ValueError):
        return []
    loops, warmups = _calibrated(suite, name)
    workload, model, _ = name.split("/")
    baseline = f"{workload}/serial/1"
    if loops is None and name != baseline:
        loops = _calibrated(suite, baseline)[0]
    if warmups is None:
        names = [str(b.get("metadata", {}).get("name", "")) for b in suite.get("benchmarks", [])]
        for other in names:
            if other != name and other.startswith(f"{workload}/{model}/") and warmups is None:
                warmups = _calibrated(suite, other)[1]
    return (["--loops", str(loops)] if loops is not None else []) + (
        ["--warmups", str(warmups)] if warmups is not None else []
    )


def jit_calibration(bench: Bench, raw: Path, profile: Profile) -> list[str]:
    """calibration_args, with the profile's fixed warm-up count on a JIT if it has one."""
    args = calibration_args(raw, bench.name)
    if profile.jit_warmups is not None and bench.impl.jit:
        loops = args[:2] if args[:1] == ["--loops"] else []
        return [*loops, "--warmups", str(profile.jit_warmups)]
    return args


def _calibrated(suite: dict[str, Any], name: str) -> tuple[object | None, object | None]:
    """(loops, warm-ups) that pyperf calibrated for benchmark ``name``; None where it didn't."""
    for bench in suite.get("benchmarks", []):
        meta = {**suite.get("metadata", {}), **bench.get("metadata", {})}
        if meta.get("name") != name:
            continue
        # pyperf calibrates loops and (on a JIT) warm-ups in separate runs; take the last.
        found: dict[str, object] = {}
        for run in bench.get("runs", []):
            meta_run = run.get("metadata", {})
            found.update({k: meta_run[k] for k in CALIBRATION if k in meta_run})
        return (
            found.get("recalibrate_loops", found.get("calibrate_loops")),
            found.get("recalibrate_warmups", found.get("calibrate_warmups")),
        )
    return (None, None)


def runner_environ(impl: Impl, base: Mapping[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ if base is None else base)
    for name in impl.unset_env:
        env.pop(name, None)
    env.update(impl.env)
    return env


def classify(returncode: int, output: str) -> Outcome:
    """Turn a finished runner's exit status and output into an outcome (elapsed unset)."""
    if returncode == 0:
        return Outcome("ok", "", 0.0)
    lines = output.splitlines()
    for number in range(len(lines) - 1, -1, -1):
        line = lines[number]
        if line.startswith(STATUS_PREFIX + " "):
            status, _, detail = line[len(STATUS_PREFIX) + 1 :].partition(": ")
            wide = number > 0 and lines[number - 1] == MODEL_WIDE_LINE and status == "unsupported"
            return Outcome(status, detail.strip(), 0.0, wide)
    last = [line for line in lines if line.strip()][-1:] or ["no output"]
    status = EXIT_STATUSES.get(returncode, "crashed")
    return Outcome(status, f"exit status {returncode}: {last[0].strip()}", 0.0)


def unsupported(bench: Bench) -> Outcome | None:
    """The reason ``bench`` can't run at all, known before starting anything, if any."""
    if bench.workload.kind != "pyperf":
        return None
    if bench.impl.runner == "pure":
        return Outcome("unsupported", "a pyperf script needs pyperf, which needs Python 3.9+", 0.0)
    if (bench.model, bench.workers) != ("serial", 1):
        return Outcome("unsupported", "a pyperf script runs as itself: serial, 1 worker", 0.0)
    return None


def run_bench(bench: Bench, python: Path, run_dir: Path, profile: Profile) -> Outcome:
    """Run one benchmark to completion, failure or timeout; never raises for its failures."""
    raw = run_dir / "raw" / f"{bench.impl.id}.json"
    log = run_dir / "logs" / bench.impl.id / (bench.name.replace("/", "-") + ".log")
    raw.parent.mkdir(parents=True, exist_ok=True)
    log.parent.mkdir(parents=True, exist_ok=True)
    env = runner_environ(bench.impl)
    if bench.workload.kind == "pyperf":
        expect = "any" if bench.impl.expect_gil is None else str(bench.impl.expect_gil)
        cmd = script_command(bench.workload, python, raw, profile.pyperf_args)
        env = script_environ(bench.workload, bench.impl.id, bench.impl.build, expect, env)
    else:
        cmd = runner_command(bench, python, raw, profile, jit_calibration(bench, raw, profile))
    started = time.monotonic()
    with log.open("w") as out:
        out.write("$ " + " ".join(cmd) + "\n")
        out.flush()
        # A session of its own, so a timeout kills pyperf's workers and their pools too.
        proc = subprocess.Popen(
            cmd,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            start_new_session=True,
        )
        try:
            returncode = proc.wait(timeout=profile.timeout_s)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            elapsed = time.monotonic() - started
            detail = f"still running after {profile.timeout_s:.0f} s; killed"
            return Outcome("timeout", detail, elapsed)
    outcome = classify(returncode, log.read_text(errors="replace"))
    return replace(outcome, elapsed_s=time.monotonic() - started)


def record(run_dir: Path, bench: Bench, outcome: Outcome, attempt: int = 1) -> None:
    """Append one outcome line; earlier lines are never rewritten."""
    line = {
        "impl": bench.impl.id,
        "workload": bench.workload.name,
        "model": bench.model,
        "workers": bench.workers,
        "pass": attempt,
        "status": outcome.status,
        "detail": outcome.detail,
        "elapsed_s": round(outcome.elapsed_s, 3),
    }
    with (run_dir / "outcomes.jsonl").open("a") as out:
        out.write(json.dumps(line, sort_keys=True) + "\n")


def run_matrix(
    benches: list[Bench],
    pythons: Mapping[str, Path],
    run_dir: Path,
    profile: Profile,
    on_done: Callable[[Bench, Outcome | None], None] = lambda b, o: None,
    sampler: Sampler | None = None,
) -> list[Outcome]:
    """Run every benchmark once per pass, recording each outcome as soon as it is known.

    A benchmark that fails is recorded and not tried again in later passes; the values
    of its earlier passes stay in the raw file. ``on_done`` gets None for a skipped try.
    ``sampler`` samples the CPUs' speed between benchmarks when due, and once at the end.
    A model that an implementation lacks altogether (``Outcome.model_wide``) is recorded as
    unsupported for its other workloads without starting the interpreter again.
    Returns each benchmark's last outcome, in ``benches`` order.
    """
    last: dict[tuple[str, str], Outcome] = {}
    lacking: dict[tuple[str, str], Outcome] = {}  # (impl, model) -> its model-wide outcome
    for attempt in range(1, profile.passes + 1):
        for bench in benches:
            key = (bench.impl.id, bench.name)
            if key in last and last[key].status != "ok":
                on_done(bench, None)
                continue
            outcome = unsupported(bench) or lacking.get((bench.impl.id, bench.model))
            if outcome is None:
                if sampler is not None:
                    sampler.maybe()
                outcome = run_bench(bench, pythons[bench.impl.id], run_dir, profile)
                if outcome.model_wide:
                    lacking[(bench.impl.id, bench.model)] = replace(outcome, elapsed_s=0.0)
            record(run_dir, bench, outcome, attempt)
            last[key] = outcome
            on_done(bench, outcome)
    if sampler is not None:
        sampler.take()
    return [last[(b.impl.id, b.name)] for b in benches]
