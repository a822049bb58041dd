"""Run one benchmark: one runner process tree, killed at its timeout, classified when it ends.

Whatever happens to the benchmark, an ``Outcome`` comes back and nothing is raised: a
crash, a hang or a wrong checksum is a status with its reason, and the run goes on.
pyperf writes the attempt's values into a piece of its own, ``raw/<impl>/<pass>-<bench>.json``
(store.piece_path), which no later attempt touches.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from harness import store
from harness.provision.impls import Impl
from harness.provision.packages import packages_environ, refusal
from harness.run.confine import LOG_LIMIT, confine, kill_leftovers, signal_name
from harness.run.plan import POOL_MODELS, Bench, Profile
from harness.run.protocol import (
    EXIT_STATUSES,
    MODEL_WIDE_LINE,
    NOTE_PREFIX,
    PURE_RUNNER,
    RUNNER,
    STATUS_PREFIX,
)
from harness.run.workloads import script_command, script_environ
from harness.status import Status, parse_status

DETAIL_LIMIT = 300  # characters of a runner's last line kept as the reason it failed
# pyperf's metadata keys for a calibration run's findings (pyperf/_worker.py).
CALIBRATION = ("calibrate_loops", "recalibrate_loops", "calibrate_warmups", "recalibrate_warmups")


@dataclass(frozen=True)
class Outcome:
    status: Status
    detail: str
    elapsed_s: float
    model_wide: bool = False  # the implementation lacks the model, whatever the workload


def runner_command(
    bench: Bench, python: Path, raw: Path, profile: Profile, calibration: Sequence[str] = ()
) -> list[str]:
    """The command that measures ``bench`` and writes its runs into ``raw``."""
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
        *bench.size_args,
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

    ``raw`` is an implementation's folder of pieces, or one pyperf file (format 2).

    Later passes reuse a benchmark's own calibration, as pyperf's own worker processes do.
    A benchmark not yet calibrated borrows:

    - loops from its workload's serial 1-worker cell: a round of W units never takes less
      than one unit, so each value still lasts at least pyperf's ``--min-time``, and the
      cell is spared a calibration process of its own. Not a pool's: each of its tasks
      costs a hand-off on top of the unit (inside/gbpool.py), up to a hundred times a
      10 us task's time, and serial's loops would make every value last that much longer;
    - a JIT's warm-up count from a cell with the same workload and model at another worker
      count. How long a JIT takes to settle depends on the code it runs, which is the
      workload's plus the model's own (PyPy's event loop needs 12 warm-up rounds on
      io_echo where its serial cell needs 4).
    """
    workload, model, _ = name.split("/")
    suite = _suite(raw, workload)
    loops, warmups = _calibrated(suite, name)
    baseline = f"{workload}/serial/1"
    if loops is None and name != baseline and model not in POOL_MODELS:
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


def _suite(raw: Path, workload: str) -> dict[str, Any]:
    """The benchmarks of ``workload`` in ``raw`` as one pyperf suite, oldest pass first; a
    piece that can't be read (an attempt cut off) gives nothing."""
    pieces = [raw] if not raw.is_dir() else sorted(
        p for p in raw.glob("*.json") if p.name.partition("-")[2].startswith(f"{workload}-")
    )  # fmt: skip
    benchmarks: list[Any] = []
    for piece in pieces:
        try:
            suite = json.loads(piece.read_text())
            common = suite.get("metadata", {})
            for bench in suite.get("benchmarks", []):
                benchmarks.append({**bench, "metadata": {**common, **bench.get("metadata", {})}})
        except (OSError, ValueError, AttributeError, TypeError):
            continue
    return {"benchmarks": benchmarks}


def _calibrated(suite: dict[str, Any], name: str) -> tuple[object | None, object | None]:
    """(loops, warm-ups) that pyperf calibrated for benchmark ``name``; None where it didn't."""
    found: dict[str, object] = {}
    for bench in suite.get("benchmarks", []):
        meta = {**suite.get("metadata", {}), **bench.get("metadata", {})}
        if meta.get("name") != name:
            continue
        # pyperf calibrates loops and (on a JIT) warm-ups in separate runs; take the last.
        for run in bench.get("runs", []):
            meta_run = run.get("metadata", {})
            found.update({k: meta_run[k] for k in CALIBRATION if k in meta_run})
    return (
        found.get("recalibrate_loops", found.get("calibrate_loops")),
        found.get("recalibrate_warmups", found.get("calibrate_warmups")),
    )


def runner_environ(impl: Impl, base: Mapping[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ if base is None else base)
    for name in impl.unset_env:
        env.pop(name, None)
    env.update(impl.env)
    return env


def classify(returncode: int, output: str) -> Outcome:
    """Turn a finished runner's exit status and output into an outcome (elapsed unset).

    A measured cell's detail is its runners' note, if any: "numpy re-enabled the GIL"."""
    lines = output.splitlines()
    if returncode == 0:
        notes = [line[len(NOTE_PREFIX) + 1 :].strip() for line in lines
                 if line.startswith(NOTE_PREFIX + " ")]  # fmt: skip
        return Outcome("ok", notes[-1] if notes else "", 0.0)
    for number in range(len(lines) - 1, -1, -1):
        line = lines[number]
        if line.startswith(STATUS_PREFIX + " "):
            status, _, detail = line[len(STATUS_PREFIX) + 1 :].partition(": ")
            wide = number > 0 and lines[number - 1] == MODEL_WIDE_LINE and status == "unsupported"
            return Outcome(parse_status(status), detail.strip(), 0.0, wide)
    last = [line for line in lines if line.strip()][-1:] or ["no output"]
    died = EXIT_STATUSES.get(returncode, "crashed")
    said = last[0].strip()
    said = said if len(said) <= DETAIL_LIMIT else said[:DETAIL_LIMIT] + " [...]"
    if returncode == -signal.SIGXFSZ:
        return Outcome(died, f"killed by SIGXFSZ: it wrote more than {LOG_LIMIT // 2**20} MiB "
                       f"of output; its last line: {said}", 0.0)  # fmt: skip
    how = f"killed by {signal_name(returncode)}" if returncode < 0 else f"exit status {returncode}"
    worker = re.search(r"failed with exit code (-\d+)", said)  # pyperf, of its worker
    if worker:
        how += f", its worker killed by {signal_name(int(worker[1]))}"
    return Outcome(died, f"{how}: {said}", 0.0)


def unsupported(bench: Bench) -> Outcome | None:
    """The reason ``bench`` can't run at all, known before starting anything, if any."""
    lacking = refusal(bench)  # its packages: pip's reason, given before the run began
    if lacking:
        return Outcome("unsupported", lacking, 0.0)
    if bench.workload.kind != "pyperf":
        return None
    if bench.impl.runner == "pure":
        return Outcome("unsupported", "a pyperf script needs pyperf, which needs Python 3.9+", 0.0)
    if (bench.model, bench.workers) != ("serial", 1):
        return Outcome("unsupported", "a pyperf script runs as itself: serial, 1 worker", 0.0)
    return None


def run_bench(bench: Bench, python: Path, run_dir: Path, profile: Profile,
              number: int = 1) -> Outcome:  # fmt: skip
    """Run pass ``number`` of one benchmark to completion, failure or timeout, into a piece
    of its own; never raises for its failures."""
    run_dir = run_dir.resolve()  # named whole on its command line: what a resume looks for
    raw = store.piece_path(run_dir, bench.impl.id, bench.name, number)
    log = store.log_path(run_dir, bench.impl.id, bench.name)
    raw.parent.mkdir(parents=True, exist_ok=True)
    for stale in (raw, store.paired_path(raw)):  # an attempt cut off before its outcome line
        stale.unlink(missing_ok=True)
    log.parent.mkdir(parents=True, exist_ok=True)
    env = packages_environ(bench, runner_environ(bench.impl))
    if bench.workload.kind == "pyperf":
        expect = "any" if bench.impl.expect_gil is None else str(bench.impl.expect_gil)
        cmd = script_command(bench.workload, python, raw, profile.pyperf_args)
        env = script_environ(bench.workload, bench.impl.id, bench.impl.build, expect, env)
    else:
        calibration = jit_calibration(bench, raw.parent, profile)
        cmd = runner_command(bench, python, raw, profile, calibration)
    started = time.monotonic()
    with log.open("w") as out:
        out.write("$ " + " ".join(cmd) + "\n")
        out.flush()
        # A session of its own, so a timeout kills pyperf's workers and their pools too.
        try:
            proc = subprocess.Popen(
                cmd,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
                start_new_session=True,
            )
        except OSError as exc:  # the interpreter went away after it was provisioned
            detail = (f"could not start {cmd[0]} ({exc.strerror}): it was removed after it "
                      "was provisioned; 'nox -s compare' provisions it again")  # fmt: skip
            return Outcome("crashed", detail, time.monotonic() - started)
        confine(proc.pid)
        try:
            returncode = proc.wait(timeout=profile.timeout_s)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            elapsed = time.monotonic() - started
            detail = f"still running after {profile.timeout_s:.0f} s; killed"
            return Outcome("timeout", detail, elapsed)
        except BaseException:  # a second Ctrl-C: the benchmark goes with the run
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            raise
        left = kill_leftovers(proc.pid)
    if log.stat().st_size >= LOG_LIMIT:  # a flood: keep its head, not 64 MiB of it
        with log.open("r+b") as flood:
            head = flood.read(2**20)
            flood.seek(0)
            flood.truncate()
            flood.write(head + b"\n[gilbench: the rest of this flood of output was dropped]\n")
    outcome = classify(returncode, log.read_text(errors="replace"))
    if left and outcome.status == "ok":
        stray = f"{left} process{'es' if left > 1 else ''}"
        outcome = Outcome("crashed", f"it left {stray} running after it ended (a fork that "
                          "outlived it); killed", 0.0)  # fmt: skip
    return replace(outcome, elapsed_s=time.monotonic() - started)
