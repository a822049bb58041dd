"""How fast each CPU runs, sampled between benchmarks: evidence for or against the speedups.

A virtual machine's CPUs can slow down on their own, one at a time, for seconds, when the
host gives their time to someone else; a guest sees no steal time for it. On the 2-vCPU VM
gilbench was built on, a pinned spin loop ran at 24 M or 45 M iterations a second on the
same vCPU, minutes apart, with the other vCPU idle. A round of W workers waits for the
slowest, so a parallel cell measured while one CPU crawls reads low however it is timed.
gilbench can't prevent that; it samples every CPU's speed during the run and the report
says how steady the machine was.

A sample starts one process per CPU, pins it there, and has them all spin together for a
fraction of a second, between benchmarks, never inside a timed region. Samples go to
``reports/<run>/cpu_speed.jsonl``, one line each, appended and never rewritten.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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
SLOW = 0.8  # a CPU below this share of the fastest rate seen is "slowed"


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
        line = {"time": round(time.time(), 3), "rates": rounded}
        with self.path.open("a") as out:
            out.write(json.dumps(line, sort_keys=True) + "\n")


@dataclass(frozen=True)
class Steadiness:
    """How steady the CPUs' speed was over a run's samples, as shares of the fastest rate."""

    samples: int
    cpus: int
    slowest: float  # the lowest share any CPU ran at in any sample
    median: float  # the median share over every CPU in every sample
    slowed: int  # samples in which some CPU ran below SLOW

    @property
    def steady(self) -> bool:
        return self.slowed == 0

    def sentence(self) -> str:
        """One line for the report."""
        if not self.samples:
            return "CPU speed was not sampled during this run."
        head = (
            f"{self.samples} samples of all {self.cpus} CPUs spinning together: each CPU ran at "
            f"{self.slowest:.0%} to 100% of the fastest rate seen (median {self.median:.0%})"
        )
        if self.steady:
            return head + "; the machine held its speed."
        return (
            f"{head}; in {self.slowed} of {self.samples} a CPU was below {SLOW:.0%}. A round "
            "of W workers waits for the slowest CPU, so speedups above 1 worker may read low "
            "on this machine."
        )


def steadiness(samples: Iterable[Mapping[Any, float]]) -> Steadiness:
    """Summarize samples (CPU -> rate each); the fastest rate seen anywhere is 100%."""
    rows = [[float(r) for r in s.values()] for s in samples if s]
    if not rows:
        return Steadiness(0, 0, 1.0, 1.0, 0)
    top = max(max(row) for row in rows)
    shares = [r / top for row in rows for r in row]
    return Steadiness(
        samples=len(rows),
        cpus=max(len(row) for row in rows),
        slowest=min(shares),
        median=statistics.median(shares),
        slowed=sum(min(row) / top < SLOW for row in rows),
    )
