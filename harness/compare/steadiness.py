"""How steady the CPUs' speed was over a run, from the samples run/cpuspeed.py took. Pure.

A round of W workers waits for the slowest CPU, so a machine whose CPUs slow down one at
a time (a shared VM, a laptop throttling one core) reads low at every parallel cell. The
report says so in one sentence, computed here once.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

SLOW = 0.8  # a CPU below this share of the fastest rate seen is "slowed"


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
