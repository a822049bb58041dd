"""What gbprobe reads of the running interpreter: the GIL state, the CPUs, the one clock."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import gbmodels
import gbprobe
import pyperf
import pytest

from tests.helpers import TEST_WORKLOADS, require_or_skip

pytestmark = pytest.mark.real  # it runs real interpreters: never beside another test

INSIDE = Path(__file__).resolve().parent.parent / "harness" / "inside"
READ_GIL = "import sys; sys.path.insert(0, %r); import gbprobe; print(gbprobe.gil_enabled())"


def test_the_host_interpreter_reads_gil_enabled() -> None:
    """The tests' CPython 3.11 is a GIL build: gil_enabled() is 1."""
    assert gbprobe.gil_enabled() == 1


def _gil_read_by(python: object, **environ: str) -> str:
    env = {k: v for k, v in os.environ.items() if k != "PYTHON_GIL"}
    done = subprocess.run(
        [str(python), "-c", READ_GIL % str(INSIDE)],
        capture_output=True, text=True, timeout=60, check=False, env={**env, **environ},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_the_free_threaded_build_reads_no_gil_unless_python_gil_1_restores_it(
    cpython_builds: tuple[object, object],
) -> None:
    """3.14t reads 0, and 1 with PYTHON_GIL=1 in its environment; the default 3.14 reads 1."""
    default, free_threaded = (build.python for build in cpython_builds)  # type: ignore[attr-defined]
    assert _gil_read_by(free_threaded) == "0"
    assert _gil_read_by(free_threaded, PYTHON_GIL="1") == "1"
    assert _gil_read_by(default) == "1"


def test_cpu_affinity_is_recorded_as_ranges() -> None:
    """The affinity is written as taskset writes it, and usable_cpus counts the same CPUs."""
    assert gbprobe.format_cpus({6, 0, 1, 2, 3, 9, 10}) == "0-3,6,9-10"
    assert gbprobe.cpu_affinity() == gbprobe.format_cpus(os.sched_getaffinity(0))
    assert gbprobe.usable_cpus() == len(os.sched_getaffinity(0))


def test_affinity_is_never_empty_where_os_cannot_tell(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without os.sched_getaffinity (PyPy, Jython) the affinity is still a non-empty string.

    pyperf refuses empty metadata values, which once crashed every PyPy benchmark.
    """
    expected = gbprobe.format_cpus(os.sched_getaffinity(0))  # what Linux's kernel also reports
    monkeypatch.delattr(gbprobe.os, "sched_getaffinity")
    assert gbprobe.cpu_affinity() == expected


def test_the_one_clock_is_the_function_pyperf_times_with() -> None:
    """Where time.perf_counter exists, gbprobe.clock is it, and so is pyperf.perf_counter."""
    assert gbprobe.clock is time.perf_counter is pyperf.perf_counter


def test_thread_workers_time_their_busy_seconds_on_the_one_clock(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A thread worker's busy time is the difference of two gbprobe.clock readings."""
    readings = iter([10.0, 10.25, 20.0, 20.5])
    monkeypatch.setattr(gbprobe, "clock", lambda: next(readings))
    pool = gbmodels.make_model("threads", str(TEST_WORKLOADS / "tiny.py"), 1)
    pool.start()  # the warm-up round reads 10.0 and 10.25
    try:
        assert pool.busy == [0.25]
        pool.round(3)
        assert pool.busy == [0.5]
    finally:
        pool.close()


JYTHON_STEP = """
import sys
sys.path.insert(0, %r)
import gbprobe
steps = []
last = gbprobe.clock()
while len(steps) < 50:
    now = gbprobe.clock()
    if now != last:
        steps.append(now - last)
        last = now
print(min(steps))
"""


def test_on_jython_the_one_clock_resolves_well_below_a_millisecond() -> None:
    """Jython's clock is the JVM's nanoTime, not time.time's milliseconds."""
    jython = shutil.which("jython")
    require_or_skip(jython is not None, "Jython")
    done = subprocess.run(
        [str(jython), "-c", JYTHON_STEP % str(INSIDE)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert 0 < float(done.stdout.strip()) < 1e-4
