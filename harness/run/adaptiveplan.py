"""What the adaptive profile says before and between its passes: the order of the first
passes, the plan, the decisions made and the precision still owed. Pure formatting."""

from __future__ import annotations

from collections.abc import Iterable

from harness.compare.estimate import Cell
from harness.compare.sampling import Choice, format_figures
from harness.run.allocation import MIN_PASSES
from harness.run.plan import Bench
from harness.run.shards import Costs


def spread(benches: list[Bench]) -> list[Bench]:
    """The first passes' order: serial at 1 worker everywhere (the baseline every figure
    rests on), then each worker count in turn, the implementations taken in turn within
    it, so that a budget's cut falls across the matrix's most-worker cells."""
    impls = list(dict.fromkeys(b.impl.id for b in benches))
    workloads = list(dict.fromkeys(b.workload.name for b in benches))
    models = list(dict.fromkeys(b.model for b in benches))
    return sorted(benches, key=lambda b: (b.workers, b.model != "serial", workloads.index(
        b.workload.name), models.index(b.model), impls.index(b.impl.id)))  # fmt: skip


def first_plan(measured: list[Bench], costs: Costs, budget: float,
               target: float | None) -> str:  # fmt: skip
    """The plan before anything is measured: the cells, what their first passes cost,
    and the cells that a budget too short for them leaves out."""
    from harness.run.progress import format_duration

    cost = [costs.of(b)[0] + (MIN_PASSES - 1) * costs.of(b)[1] for b in measured]
    first = sum(cost)
    to = f" to ±{target:.0%}" if target is not None else ""
    head = (f"{len(measured)} cells to measure{to} within {format_duration(budget)}; their "
            f"first {MIN_PASSES} passes take about {format_duration(first)} "
            f"({costs.source})")  # fmt: skip
    if first <= budget:
        until = " and every cell is at the precision asked" if target is not None else ""
        return (f"{head}; then the cells that undecided figures rest on are measured again, "
                f"the cheapest to decide first, until every figure is decided{until}")  # fmt: skip
    spent, fits = 0.0, 0
    for seconds in cost:
        if spent + seconds > budget:
            break
        spent, fits = spent + seconds, fits + 1
    cut = measured[fits:]
    counts = sorted({b.workers for b in cut})
    where = ", ".join(map(str, counts))
    return (f"{head}: the budget covers about {fits} of them, so about {len(cut)} cells "
            f"at {where} worker{'s' if counts != [1] else ''} will not be measured, on "
            f"every implementation alike; give more --budget, or select fewer cells")  # fmt: skip


def format_decided(decided: int, undecided: int) -> str:
    """How many figures are decided: "12 of 19 figures decided, 7 undecided"."""
    total = decided + undecided
    return f"{decided} of {total} figure{'s' if total != 1 else ''} decided, {undecided} undecided"


def plan_line(choice: Choice, left_s: float, after: int) -> str:
    """What the first look says of the rest of the run: the figures decided, how long
    the others the budget can decide should take, and those it can't."""
    from harness.run.progress import format_duration

    head = f"after pass {after}: {format_decided(choice.decided, choice.undecided)}"
    if not choice.undecided:
        return f"{head}; nothing is left to measure"
    parts = []
    if choice.reachable:
        parts.append(f"about {format_duration(choice.seconds)} more should decide "
                     f"{len(choice.reachable)} of them, within the {format_duration(left_s)} "
                     "left")  # fmt: skip
    far = choice.out_of_reach
    if far:
        parts.append(f"{len(far)} out of the budget's reach or beyond what more passes "
                     f"resolve here (measured while budget is to spare): "
                     f"{format_figures(far)}")  # fmt: skip
    return f"{head}; " + "; ".join(parts)


def format_precision(more_s: float, short: Iterable[Cell], target: float) -> str:
    """With a precision target: what the cells short of their goal still take."""
    from harness.run.progress import format_duration

    count = len(list(short))
    if not count:
        return f"; every cell's figures are at ±{target:.0%}"
    return (f"; {count} cell{'s' if count != 1 else ''} short of ±{target:.0%}, about "
            f"{format_duration(more_s)} more")  # fmt: skip
