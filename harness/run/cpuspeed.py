"""How fast each CPU runs, sampled between benchmarks: evidence for or against the speedups.

A virtual machine's CPUs can slow down on their own, one at a time, for seconds, when the
host gives their time to someone else; a guest sees no steal time for it. On the 2-vCPU VM
gilbench was built on, a pinned spin loop ran at 24 M or 45 M iterations a second on the
same vCPU, minutes apart, with the other vCPU idle. A round of W workers waits for the
slowest, so a parallel cell measured while one CPU crawls reads low however it is timed.
gilbench can't prevent that; it samples every CPU's speed during the run and the report
says how steady the machine was (compare/steadiness.py).

A sample starts one process per CPU, pins it there, and has them all spin together for a
fraction of a second, between benchmarks, never inside a timed region. Samples go to
``reports/<run>/cpu_speed.jsonl``, one line each, appended and never rewritten.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from harness import store

# Run by the host Python: pin to CPU argv[1] (-1: leave it), wait for the shared start time
# argv[2], spin for argv[3] seconds, print loop iterations per second.
SPIN = """\
import os, sys, time
def spin(seconds):
    n = 0
    t0 = time.perf_counter()
    end = t0 + seconds
    while time.perf_counter() < end:
        for _ in range(2000):
            n += 1
    return n / (time.perf_counter() - t0)
cpu, start, seconds = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])
if cpu >= 0 and hasattr(os, "sched_setaffinity"):
    os.sched_setaffinity(0, {cpu})
while time.time() < start:
    time.sleep(0.005)
print(spin(seconds))
"""
SAMPLE_S = 0.25  # spin time of one sample
EVERY_S = 30.0  # between samples during a run


def machine_cpus() -> list[int]:
    """The CPUs this process may run on (all of them where affinity can't be read)."""
    affinity = getattr(os, "sched_getaffinity", None)
    return sorted(affinity(0)) if affinity is not None else list(range(os.cpu_count() or 1))


def sample(cpus: Sequence[int], seconds: float = SAMPLE_S) -> dict[int, float]:
    """Spin on every CPU in ``cpus`` at once; iterations per second per CPU ({} on failure).

    Without CPU affinity (not Linux) the processes are left where the OS puts them, and
    the CPU numbers only count them.
    """
    pin = hasattr(os, "sched_setaffinity")
    start = time.time() + 0.1 + 0.02 * len(cpus)  # every process started and waiting
    args = [repr(start), repr(seconds)]
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", SPIN, str(cpu if pin else -1), *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        for cpu in cpus
    ]
    rates: dict[int, float] = {}
    for cpu, proc in zip(cpus, procs, strict=True):
        try:
            out, _ = proc.communicate(timeout=10 + seconds + len(cpus))
            rates[cpu] = float(out.strip())
        except (subprocess.TimeoutExpired, ValueError):
            proc.kill()
            proc.wait()
    return rates if len(rates) == len(cpus) else {}


class Sampler:
    """Takes a sample when one is due and appends it to ``path``; never fails the run."""

    def __init__(
        self,
        path: Path,
        cpus: Sequence[int] | None = None,
        every_s: float = EVERY_S,
        measure: Callable[[Sequence[int]], Mapping[int, float]] = sample,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.path = path
        self.cpus = list(machine_cpus() if cpus is None else cpus)
        self.every_s = every_s
        self.measure = measure
        self.clock = clock
        self.last: float | None = None

    def maybe(self) -> None:
        """Sample if none was taken yet or the last is ``every_s`` old."""
        if self.last is None or self.clock() - self.last >= self.every_s:
            self.take()

    def take(self) -> None:
        self.last = self.clock()
        rates = self.measure(self.cpus)
        if not rates:
            return
        rounded = {str(cpu): round(rate) for cpu, rate in rates.items()}
        store.append_line(self.path, {"time": round(time.time(), 3), "rates": rounded})


def watch(seconds: float) -> None:
    """``nox -s cpus``: sample all CPUs together about once a second for ``seconds``, print
    each sample, then the steadiness verdict."""
    from harness.compare.steadiness import steadiness

    cpus, samples = machine_cpus(), []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        rates = sample(cpus)
        if rates:
            samples.append(rates)
            print("  ".join(f"cpu{c} {r / 1e6:5.1f} M/s" for c, r in sorted(rates.items())))
        time.sleep(0.75)
    print(steadiness(samples).sentence())
