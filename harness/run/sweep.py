"""As many of the default worker counts (plan.default_workers: powers of two up to the
CPU count, the count itself and twice it) as the budget's first passes can take.

An adaptive run first measures every cell for a few passes (the pilot) before it decides
what to measure again; a pilot the budget can't take is cut at the highest counts, the CPU
count among them. So counts are dropped from the sweep until the pilot fits: the
oversubscribed count first, then the powers of two between 1 and the CPU count, the largest
first. 1 (every speedup's baseline) and the CPU count (the answer's) are always kept.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, ClassVar, Protocol, TypeVar

from harness.run.plan import Bench, Profile, usable_cpus
from harness.run.shards import Costs, load_costs


class Asked(Protocol):
    """What a command was asked to measure (cli.Request): its counts and its effort."""

    __dataclass_fields__: ClassVar[dict[str, Any]]

    @property
    def workers(self) -> list[int]: ...

    @property
    def profile(self) -> Profile: ...


A = TypeVar("A", bound=Asked)


def drop_order(counts: Sequence[int], cpus: int) -> list[int]:
    """The counts a budget gives up, in turn: oversubscribed ones (the largest first), then
    those between 1 and the CPU count (the largest first); never 1 or the CPU count."""
    over = sorted((n for n in counts if n > cpus), reverse=True)
    between = sorted((n for n in counts if 1 < n < cpus), reverse=True)
    return over + between


def pilot_s(benches: Sequence[Bench], costs: Costs, passes: int) -> float:
    """Seconds the first ``passes`` passes of ``benches`` take, by ``costs``."""
    total = 0.0
    for bench in benches:
        if bench.impl.available:
            first, later = costs.of(bench)
            total += first + later * (passes - 1)
    return total


def fit_workers(counts: Sequence[int], replan: Callable[[list[int]], list[Bench]],
                budget_s: float, costs: Costs, cpus: int | None = None,
                say: Callable[[str], None] | None = None) -> list[int]:  # fmt: skip
    """``counts`` less those the budget's pilot can't take (``drop_order``); ``replan``
    gives the cells of a set of counts. Says which were dropped, and why."""
    from harness.run.allocation import MIN_PASSES  # numpy: only once a run is measured

    cpus = cpus or usable_cpus()
    kept, dropped = sorted(set(counts)), []
    for count in drop_order(kept, cpus):
        if pilot_s(replan(kept), costs, MIN_PASSES) <= budget_s:
            break
        kept.remove(count)
        dropped.append(count)
    if dropped and say is not None:
        said = ", ".join(map(str, sorted(dropped)))
        say(f"the budget's first {MIN_PASSES} passes can't take every default worker count: "
            f"measuring at {', '.join(map(str, kept))} workers, not at {said} "
            f"({costs.source}); give more --budget, or choose --workers")  # fmt: skip
    return kept


def fit_sweep(asked: A, replan: Callable[[A], list[Bench]], reports: Path,
              say: Callable[[str], None]) -> A:  # fmt: skip
    """``asked`` with the default counts its budget's pilot can take, the costs of each
    cell measured in the newest run under ``reports`` (or the defaults)."""
    from harness import nightly  # run/ is imported by the parser, nightly by the commands

    budget = asked.profile.budget_s or math.inf
    costs = load_costs(nightly.latest_run(reports))
    kept = fit_workers(asked.workers, lambda w: replan(dataclasses.replace(asked, workers=w)),
                       budget, costs, say=say)  # fmt: skip
    return dataclasses.replace(asked, workers=kept)
