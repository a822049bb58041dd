"""What a run measures: the cells of the matrix, and how hard pyperf works on each.

A cell is one implementation x workload x model x worker count. ``plan`` lists them, the
unavailable implementations' too (they become ``unavailable`` rows of the report), in the
order the matrix runs them.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from harness.provision.impls import Impl
from harness.run.protocol import MODELS
from harness.run.sizes import PAYLOAD, TASK_SIZE
from harness.run.workloads import Workload

__all__ = ["MODELS", "PAYLOAD_MODELS", "POOL_MODELS", "PROFILES", "QUICK_MODELS", "QUICK_TAG",
           "Bench", "Profile", "default_workers", "models_for", "plan", "quick_workers",
           "usable_cpus"]  # fmt: skip

# Variants that differ from their model only in how a unit's data travels (shared memory,
# buffers shared between interpreters): measured beside it wherever there is a payload.
PAYLOAD_MODELS = ("processes-shm", "subinterpreters-shared")
# One task a unit, handed to an executor (inside/gbpool.py): what small tasks cost.
POOL_MODELS = ("threadpool", "processpool", "processpool-chunked", "interpool")


def usable_cpus() -> int:
    """The CPUs this process may run on: its affinity, else the machine's count."""
    affinity = getattr(os, "sched_getaffinity", None)
    return len(affinity(0)) if affinity is not None else (os.cpu_count() or 1)


def default_workers(cpus: int | None = None) -> tuple[int, ...]:
    """Powers of two below the usable CPUs, the CPU count, and twice it (oversubscribed):
    the answer is read at the CPU count (compare/answer.py), so the sweep leads up to it
    and goes one step past it. 1, 2, 4 on 2 CPUs; 1, 2, 4, 8, 16, 32 on 16; 1, 2, 4, 6, 12
    on 6. run/sweep.py drops some where the budget can't take them."""
    cpus = cpus or usable_cpus()
    counts, power = {1, cpus, 2 * cpus}, 2
    while power < cpus:
        counts.add(power)
        power *= 2
    return tuple(sorted(counts))


def quick_workers(cpus: int | None = None) -> tuple[int, ...]:
    """--quick's counts: serial's 1 and the CPU count, the answer's (2 on one CPU)."""
    return (1, max(2, cpus or usable_cpus()))


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
    # Adaptive effort (run/adaptive.py): passes go on, for the cells that undecided
    # figures rest on (and, with a precision, the cells whose figures aren't yet known to
    # +-precision), until there are none or budget_s is spent; ``passes`` caps them.
    precision: float | None = None
    budget_s: float | None = None
    # Count the instructions of every serial cell before the timed passes (run/counts.py);
    # --count and --no-count choose, whatever the profile.
    count: bool = False


# What --quick measures unless told otherwise: one headline workload for each kind of work
# where the GIL question comes out differently (pure-Python CPU, C that releases the GIL,
# I/O), at 1 worker and the CPU count. The whole matrix, every implementation, takes
# hours honestly measured on 2 cores (a PyPy cell alone spends ~20 s calibrating its JIT's warm-up).
QUICK_TAG = "quick"
# --budget's default. See README "Precision and budget" for the measurements behind it.
DEFAULT_BUDGET_S = 90 * 60.0
# asyncio-to-thread, a variant for CPU work, is left to full runs; every other model is
# measured at the CPU count against serial at 1, the baseline every finding is built on.
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
    "full": Profile("full", 20, ("--processes", "1", "--values", "3"), timeout_s=900.0, count=True),
    # The default: measured until every figure the findings state is decided, within the
    # budget; no width is asked of a cell (--precision asks one as well). Values per
    # process follow each cell's own variance (run/adaptive.py); a JIT's warm-ups are
    # fixed as in quick, for the reason given there. 200 passes: decisions.MAX_PASSES, past
    # which more passes are no practical way to decide a figure.
    "adaptive": Profile(
        "adaptive",
        200,
        ("--processes", "1", "--values", "3"),
        timeout_s=900.0,
        jit_warmups=12,
        budget_s=DEFAULT_BUDGET_S,
        count=True,
    ),
}


@dataclass(frozen=True)
class Bench:
    """One cell of the matrix, as the runners measure it."""

    impl: Impl
    workload: Workload
    model: str
    workers: int

    @property
    def size_args(self) -> list[str]:
        """A sized variant's size and name, for the runners (inside/gbpayload.py)."""
        if self.workload.size is None:
            return []
        return ["--size", repr(self.workload.size), "--name", self.workload.name]

    @property
    def name(self) -> str:
        """pyperf's benchmark name: the same on every implementation, for compare_to."""
        return f"{self.workload.name}/{self.model}/{self.workers}"

    @property
    def cell(self) -> tuple[str, str, str, int]:
        """(impl, workload, model, workers): the key of the cell in every table."""
        return (self.impl.id, self.workload.name, self.model, self.workers)


def models_for(workload: Workload, models: Sequence[str]) -> list[str]:
    """The models a workload is measured under when the user named none.

    A task-size workload is for the pools: serial (the baseline) and POOL_MODELS. A
    payload workload gets ``models`` and the PAYLOAD_MODELS, which show the cheaper way to
    move its data. Any other gets ``models`` without either (the variants would move
    nothing; the pools are asked for by name).
    """
    if workload.sweep == TASK_SIZE:
        return ["serial", *POOL_MODELS]
    kept = [m for m in models if m not in PAYLOAD_MODELS and m not in POOL_MODELS]
    return kept + list(PAYLOAD_MODELS) if workload.sweep == PAYLOAD else kept


def plan(
    impls: Iterable[Impl],
    workloads: Iterable[Workload],
    models: Iterable[str],
    workers: Iterable[int],
    sparse: bool = False,
    by_workload: bool = False,
) -> list[Bench]:
    """Every cell, in a stable order: implementation, workload, model, workers.

    Unavailable implementations are planned too: their cells are the report's
    ``unavailable`` rows, and the matrix skips them. ``sparse`` (the quick profile's
    default) measures serial only at 1 worker, the baseline of every speedup, and the
    other models only at the other counts, but for the pools, whose one worker's time
    per task over serial's is their per-task overhead. ``by_workload`` (no model was
    named): each workload's models are ``models_for`` it.
    """
    counts = sorted(set(workers))
    models = list(models)
    workloads = list(workloads)
    return [
        Bench(impl, w, m, n)
        for impl in impls
        for w in workloads
        for m in (models_for(w, models) if by_workload else models)
        for n in counts
        if not (sparse and n == 1 and m != "serial" and m not in POOL_MODELS)
        and not (sparse and n > 1 and m == "serial")
    ]
