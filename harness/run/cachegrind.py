"""One run of inside/counter.py, natively or under valgrind's cachegrind (run/counts.py).

cachegrind runs with its cache simulation off: it then counts the instructions executed
(event Ir) and nothing else, about 35 times slower than the interpreter runs natively.
``-q`` keeps valgrind's banner and totals out of the counter's output, whose one
COUNT_PREFIX line the host reads; the total comes from cachegrind's output file.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.provision.impls import Impl
from harness.provision.packages import packages_environ
from harness.run.bench import classify, runner_environ
from harness.run.confine import confine, kill_leftovers
from harness.run.plan import Bench
from harness.run.protocol import COUNT_PREFIX, COUNTER

VALGRIND_ARGS = ("--tool=cachegrind", "--cache-sim=no", "-q")  # -q: errors only, no banner
RUN_TIMEOUT_S = 900.0  # one run under valgrind; a cell over this is marked timeout
NATIVE_TIMEOUT_S = 120.0  # the check outside valgrind: a warm-up round and N units


# What pyperf passes on to the worker processes whose values are timed (its
# create_environ, with the locale): a count's runs get these variables of the runner's
# environment and no others. A variable of the caller's then can't make the counted
# interpreter differ from the timed one: PYTHONDONTWRITEBYTECODE, left in a shell here,
# had the counted runs of 3.14 compile inside/ from source, whose heap then gave the
# collector less work in io_sleep's units (30.1 K instructions a unit, against 34.1 K
# reading the .pyc files as timed runs do).
WORKER_ENVIRON = ("PATH", "HOME", "TEMP", "COMSPEC", "SystemRoot", "SystemDrive",
                  "PYTHONPATH", "PYTHON_CPU_COUNT", "PYTHON_GIL", "LANG", "LC_ADDRESS",
                  "LC_ALL", "LC_COLLATE", "LC_CTYPE", "LC_IDENTIFICATION", "LC_MEASUREMENT",
                  "LC_MESSAGES", "LC_MONETARY", "LC_NAME", "LC_NUMERIC", "LC_PAPER",
                  "LC_TELEPHONE", "LC_TIME")  # fmt: skip


def count_environ(impl: Impl, hash_seed: int, runner: Mapping[str, str] | None = None,
                  ) -> dict[str, str]:  # fmt: skip
    """A timed worker's environment (PYTHON_GIL=1 for 3.14t+gil...), with the repeat's
    hash seed: WORKER_ENVIRON of the runner's, and the implementation's own variables."""
    runner = runner_environ(impl) if runner is None else runner
    env = {name: runner[name] for name in WORKER_ENVIRON if name in runner}
    return {**env, **impl.env, "PYTHONHASHSEED": str(hash_seed)}


def bench_environ(bench: Bench, hash_seed: int) -> dict[str, str]:
    """``count_environ`` from the runner's environment a timed run of ``bench`` gets: with
    its workload's packages first on PYTHONPATH (provision.packages), as when timed."""
    runner = packages_environ(bench, runner_environ(bench.impl))
    return count_environ(bench.impl, hash_seed, runner)


def counter_args(bench: Bench, python: Path, units: int) -> list[str]:
    """inside/counter.py's command for ``units`` units of ``bench`` (without valgrind)."""
    impl = bench.impl
    expect = "any" if impl.expect_gil is None else str(impl.expect_gil)
    return [str(python), str(COUNTER), "--workload", str(bench.workload.path),
            "--units", str(units), "--impl", impl.id, f"--build={impl.build}",
            "--expect-gil", expect]  # fmt: skip


def count_command(valgrind: Path, out: Path, bench: Bench, python: Path, units: int) -> list[str]:
    """The counter's command under cachegrind, which writes its totals into ``out``."""
    return [str(valgrind), *VALGRIND_ARGS, f"--cachegrind-out-file={out}",
            *counter_args(bench, python, units)]  # fmt: skip


def parse_cachegrind(text: str) -> int:
    """The instructions (event Ir) in a cachegrind output file's ``summary:`` line."""
    events: list[str] = []
    summary: list[str] = []
    for line in text.splitlines():
        if line.startswith("events:"):
            events = line.split()[1:]
        elif line.startswith("summary:"):
            summary = line.split()[1:]
    if "Ir" not in events or len(summary) != len(events):
        raise ValueError("no 'events:' line naming Ir and 'summary:' line matching it")
    return int(summary[events.index("Ir")])


@dataclass(frozen=True)
class Ran:
    """One run of the counter: its status, and what it said."""

    status: str
    detail: str
    said: dict[str, Any]  # the COUNT_PREFIX line's JSON; {} if it failed
    elapsed_s: float


def run_counter(cmd: Sequence[str], env: Mapping[str, str], log: Path, timeout_s: float) -> Ran:
    """Run the counter's ``cmd`` in a session of its own, its output appended to ``log``;
    never raises for the run's own failure (a timeout, a crash, a status line)."""
    started = time.monotonic()
    with log.open("a") as out:
        out.write("$ " + " ".join(cmd) + "\n")
        out.flush()
        try:
            proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, env=dict(env), text=True,
                                    errors="replace", start_new_session=True)  # fmt: skip
        except OSError as exc:
            return Ran("crashed", f"could not start {cmd[0]} ({exc.strerror})", {}, 0.0)
        confine(proc.pid)
        try:
            output, _ = proc.communicate(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            output, _ = proc.communicate()
            out.write(output)
            return Ran("timeout", f"still running after {timeout_s:.0f} s; killed", {},
                       time.monotonic() - started)  # fmt: skip
        except BaseException:  # Ctrl-C: the run goes with the count
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            raise
        kill_leftovers(proc.pid)
        out.write(output)
    elapsed = time.monotonic() - started
    outcome = classify(proc.returncode, output)
    if outcome.status != "ok":
        return Ran(outcome.status, outcome.detail, {}, elapsed)
    said = [line for line in output.splitlines() if line.startswith(COUNT_PREFIX + " ")]
    try:
        line = json.loads(said[-1][len(COUNT_PREFIX) + 1 :]) if said else None
    except ValueError:
        line = None
    if not isinstance(line, dict):
        return Ran("crashed", f"the counter printed no {COUNT_PREFIX} line of JSON", {}, elapsed)
    return Ran("ok", "", line, elapsed)


def run_counted(bench: Bench, python: Path, valgrind: Path, units: int, env: Mapping[str, str],
                log: Path) -> tuple[Ran, int]:  # fmt: skip
    """One run of ``units`` units under cachegrind: the run, and the instructions it took."""
    with tempfile.TemporaryDirectory(prefix="gilbench-count-") as folder:
        out = Path(folder) / "cachegrind.out"
        ran = run_counter(
            count_command(valgrind, out, bench, python, units), env, log, RUN_TIMEOUT_S
        )
        if ran.status != "ok":
            return ran, 0
        try:
            return ran, parse_cachegrind(out.read_text(errors="replace"))
        except (OSError, ValueError) as exc:
            why = f"valgrind left no instruction total in {out.name} ({exc})"
            return Ran("crashed", why, {}, ran.elapsed_s), 0
