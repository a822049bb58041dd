"""The default worker counts: powers of two up to the CPUs, the CPU count and one
oversubscribed count, as many as the budget's first passes can take."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

from harness.provision.impls import Impl
from harness.run import plan as planning
from harness.run.plan import Profile
from harness.run.shards import Costs
from harness.run.sweep import drop_order, fit_sweep, fit_workers, pilot_s
from harness.run.workloads import load_workloads

IMPL = Impl(id="3.14", family="cpython", python=Path(sys.executable))
COSTS = Costs({"3.14": (2.0, 1.0)}, "test costs")  # a cell's pilot of 3 passes: 4 s
PILOT = 3


def test_the_default_sweep_leads_up_to_the_cpu_count_and_one_step_past_it() -> None:
    """Powers of two below the CPUs, the CPU count itself, and twice it."""
    assert planning.default_workers(1) == (1, 2)
    assert planning.default_workers(2) == (1, 2, 4)
    assert planning.default_workers(6) == (1, 2, 4, 6, 12)
    assert planning.default_workers(16) == (1, 2, 4, 8, 16, 32)
    assert planning.quick_workers(16) == (1, 16) and planning.quick_workers(1) == (1, 2)


def test_a_budget_gives_up_the_oversubscribed_count_first_and_never_1_or_the_cpu_count() -> None:
    """Dropped in turn: 32, then 8, 4, 2; 1 and 16 are kept whatever the budget."""
    assert drop_order([1, 2, 4, 8, 16, 32], 16) == [32, 8, 4, 2]
    assert drop_order([1, 2, 4], 2) == [4]
    assert drop_order([1, 2], 1) == [2]


def _replan(counts: list[int]) -> list[planning.Bench]:
    workload = load_workloads()[0]
    return planning.plan([IMPL], [workload], ["serial", "threads"], counts)


def test_the_counts_a_budget_keeps_are_those_its_pilot_can_take() -> None:
    """2 cells a count at 4 s each: 48 s for six counts; 39 s keeps four, 1 s keeps 1 and
    the CPU count, and says which were dropped and what to do."""
    counts = [1, 2, 4, 8, 16, 32]
    assert pilot_s(_replan(counts), COSTS, PILOT) == 48.0
    said: list[str] = []
    assert fit_workers(counts, _replan, 48.0, COSTS, cpus=16, say=said.append) == counts
    assert said == []
    assert fit_workers(counts, _replan, 39.0, COSTS, cpus=16, say=said.append) == [1, 2, 4, 16]
    assert fit_workers(counts, _replan, 1.0, COSTS, cpus=16) == [1, 16]
    assert said == [
        "the budget's first 3 passes can't take every default worker count: measuring at "
        "1, 2, 4, 16 workers, not at 8, 32 (test costs); give more --budget, or choose --workers"
    ]


@dataclass(frozen=True)
class Asked:
    workers: list[int]
    profile: Profile = field(default_factory=lambda: planning.PROFILES["adaptive"])


def test_a_request_keeps_every_default_count_its_budget_covers(tmp_path: Path) -> None:
    """With no earlier run the default costs hold: the adaptive budget of 90 min takes a
    small selection's whole sweep; one of 30 s drops some (7.4 s a cell)."""
    asked = Asked([1, 2, 4, 8])
    kept = fit_sweep(asked, lambda a: _replan(a.workers), tmp_path, lambda _: None)
    assert kept == asked
    short = Asked([1, 2, 4, 8], Profile("adaptive", 200, (), 900.0, budget_s=30.0))
    fitted = fit_sweep(short, lambda a: _replan(a.workers), tmp_path, lambda _: None)
    assert fitted.workers[0] == 1 and len(fitted.workers) < 4
