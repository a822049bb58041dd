"""Change points in a history's series, found by ruptures and kept only when they hold up.

Per series (metric, implementation, workload, model, workers) and per segment (a stretch
of runs measured on machines with one fingerprint; nothing is ever compared across two),
ruptures' binary segmentation (Binseg) on the log of the figures proposes where the level moved. A
proposed change is reported only when all of these hold (``Rules``):

- its size, the geometric mean after over the geometric mean before, is at least
  ``min_change`` (5%) away from 1;
- the 95% intervals of the last run before it and the first run after it don't overlap;
- it persists: each of the first ``persist`` (2) runs after it is on its own at least
  ``min_change`` away from the level before, the same way;
- a Student's t-test of the runs before against the runs after survives the
  Benjamini-Hochberg correction (``alpha``, a false discovery rate) over every series
  segment tested at once, each counted even where no change was proposed.

The search's penalty is ``penalty`` x sigma^2 x log(n), sigma the series' own noise read
robustly from its run-to-run differences: the search is told how noisy each series is,
and the gates above, not the penalty, hold the false alarms down (detection_bench.py
measures both).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
import ruptures
from scipy import stats

from harness.history.series import HIGHER_IS_BETTER, KEY, METRIC_LABELS

Kind = Literal["regression", "improvement"]


@dataclass(frozen=True)
class Rules:
    min_change: float = 0.05
    persist: int = 2
    alpha: float = 0.05
    penalty: float = 3.0


DEFAULT_RULES = Rules()


@dataclass(frozen=True)
class Change:
    """A change point that held up: where, how big, and how sure."""

    metric: str
    impl: str
    workload: str
    model: str
    workers: int
    fingerprint: str
    before_run: str  # the last run before the change
    after_run: str  # the first run after it
    runs_before: int
    runs_after: int
    before: float  # geometric mean of the figures before and after
    after: float
    ratio: float  # after / before
    ci_low: float  # 95% interval of the ratio (Student's t, pooled variance, on logs)
    ci_high: float
    p_value: float
    q_value: float  # Benjamini-Hochberg adjusted
    kind: Kind

    @property
    def series(self) -> tuple[str, str, str, str, int]:
        return (self.metric, self.impl, self.workload, self.model, self.workers)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def describe(self) -> str:
        """A change in one line: which series, how far it moved, how sure."""
        what = METRIC_LABELS.get(self.metric, self.metric).split(" (")[0]
        where = (
            f"{self.impl} {self.workload}/{self.model}/{self.workers}"
            if self.metric != "overhead"
            else self.impl
        )
        return (
            f"{self.kind}: {where} {what} {self.before:.3g} → {self.after:.3g} "
            f"({self.ratio - 1:+.1%}, 95% interval {self.ci_low - 1:+.1%} to "
            f"{self.ci_high - 1:+.1%}; q = {self.q_value:.2g}), from run {self.after_run} "
            f"({self.runs_before} runs before, {self.runs_after} after)"
        )


@dataclass(frozen=True)
class _Proposal:
    group: int  # which series segment
    index: int  # first point after the change
    low: int  # the stretch tested: [low, index) before, [index, high) after
    high: int


def segments(points: pd.DataFrame) -> pd.DataFrame:
    """``points`` in run order, with ``segment``: a number that grows, per series, wherever
    the fingerprint differs from the previous run's."""
    ordered = points.sort_values([*KEY, "order"], kind="stable").reset_index(drop=True)
    keys = ordered[KEY]
    starts = (keys != keys.shift()).any(axis=1)
    moved = starts | (ordered["fingerprint"] != ordered["fingerprint"].shift())
    return ordered.assign(segment=moved.astype(int).groupby(starts.cumsum()).cumsum())


def find_changes(points: pd.DataFrame, rules: Rules = DEFAULT_RULES) -> list[Change]:
    """Every change point that holds up, newest first."""
    if points.empty:
        return []
    ordered = segments(points)
    groups = [g for _, g in ordered.groupby([*KEY, "segment"], sort=False)]
    proposals: list[tuple[_Proposal, int]] = []  # each with its place among the tests
    tested: list[float] = []  # one p-value per hypothesis: each segment, each proposal
    for number, group in enumerate(groups):
        y = np.log(group["value"].to_numpy(dtype=float))
        found = list(_proposals(number, y, rules))
        for proposal in found:
            proposals.append((proposal, len(tested)))
            tested.append(_p_value(y, proposal))
        if not found and len(y) >= 2 * rules.persist:
            tested.append(1.0)  # tested, nothing proposed: it still counts in the family
    if not proposals:
        return []
    q_values = stats.false_discovery_control(np.array(tested), method="bh")
    changes = []
    for proposal, place in proposals:
        p, q = tested[place], float(q_values[place])
        change = _judge(groups[proposal.group], proposal, p, q, rules)
        if change is not None:
            changes.append(change)
    return sorted(changes, key=lambda c: (c.after_run, c.series), reverse=True)


def _proposals(group: int, y: np.ndarray, rules: Rules) -> Iterator[_Proposal]:
    """Where the search puts the breaks, each with the stretch between its neighbours."""
    n, size = len(y), rules.persist
    if n < 2 * size or not np.all(np.isfinite(y)):
        return
    sigma = _noise(y)
    search = ruptures.Binseg(model="l2", min_size=size, jump=1).fit(y.reshape(-1, 1))
    breaks = [0, *search.predict(pen=rules.penalty * sigma**2 * math.log(n))]
    for low, index, high in zip(breaks, breaks[1:], breaks[2:], strict=False):
        yield _Proposal(group, index, low, high)


def _noise(y: np.ndarray) -> float:
    """The series' run-to-run noise: the median absolute difference of neighbours, scaled
    to a standard deviation (robust to the steps being looked for)."""
    spread = float(np.median(np.abs(np.diff(y)))) / (0.6745 * math.sqrt(2))
    return max(spread, 1e-4)  # identical figures: still a finite penalty


def _pooled(before: np.ndarray, after: np.ndarray) -> tuple[float, float, int]:
    """Student's two-sample terms on the logs: the shift in mean, its standard error with
    pooled variance, and the degrees of freedom."""
    na, nb = len(after), len(before)
    dof = na + nb - 2
    pooled = ((na - 1) * after.var(ddof=1) + (nb - 1) * before.var(ddof=1)) / dof
    return float(after.mean() - before.mean()), math.sqrt(pooled * (1 / na + 1 / nb)), dof


def _p_value(y: np.ndarray, proposal: _Proposal) -> float:
    """Student's t-test of the logs after against those before: scipy's t distribution on
    the statistic, computed here so that ties give p = 1, not a warning."""
    before, after = y[proposal.low : proposal.index], y[proposal.index : proposal.high]
    shift, error, dof = _pooled(before, after)
    if error <= 1e-6 * max(1.0, abs(shift)):  # identical figures: no evidence either way
        return 1.0 if abs(shift) < 1e-12 else 0.0
    return float(2 * stats.t.sf(abs(shift / error), dof))


def _judge(
    group: pd.DataFrame, proposal: _Proposal, p: float, q: float, rules: Rules
) -> Change | None:
    """The change ``proposal`` stands for, if it passes every gate; else None."""
    values = group["value"].to_numpy(dtype=float)
    y = np.log(values)
    before, after = y[proposal.low : proposal.index], y[proposal.index : proposal.high]
    shift = float(after.mean() - before.mean())
    ratio = math.exp(shift)
    if abs(ratio - 1) < rules.min_change or q > rules.alpha:
        return None
    first = values[proposal.index : proposal.index + rules.persist] / math.exp(before.mean())
    held = first - 1 >= rules.min_change if shift > 0 else 1 - first >= rules.min_change
    if not held.all():
        return None
    low, high = group["ci_low"].to_numpy(dtype=float), group["ci_high"].to_numpy(dtype=float)
    last, next_ = proposal.index - 1, proposal.index
    if not _apart(low[last], high[last], low[next_], high[next_]):
        return None
    ci_low, ci_high = _ratio_interval(before, after)
    row = group.iloc[proposal.index]
    better = HIGHER_IS_BETTER.get(str(row["metric"]), True)
    runs = group["run"].tolist()
    return Change(
        metric=str(row["metric"]),
        impl=str(row["impl"]),
        workload=str(row["workload"]),
        model=str(row["model"]),
        workers=int(row["workers"]),
        fingerprint=str(row["fingerprint"]),
        before_run=str(runs[last]),
        after_run=str(runs[next_]),
        runs_before=len(before),
        runs_after=len(after),
        before=math.exp(before.mean()),
        after=math.exp(after.mean()),
        ratio=ratio,
        ci_low=ci_low,
        ci_high=ci_high,
        p_value=p,
        q_value=q,
        kind="improvement" if (shift > 0) == better else "regression",
    )


def _apart(low_a: float, high_a: float, low_b: float, high_b: float) -> bool:
    """Whether two 95% intervals are disjoint; an unknown interval can't be."""
    if not all(math.isfinite(v) for v in (low_a, high_a, low_b, high_b)):
        return False
    return high_a < low_b or high_b < low_a


def _ratio_interval(before: np.ndarray, after: np.ndarray) -> tuple[float, float]:
    """95% interval of after/before: Student's t with pooled variance, on the logs."""
    shift, error, dof = _pooled(before, after)
    half = float(stats.t.ppf(0.975, dof)) * error
    return math.exp(shift - half), math.exp(shift + half)


def new_changes(found: Sequence[Change], earlier: Sequence[Change]) -> list[Change]:
    """The changes ``found`` with the newest run that weren't found without it."""
    seen = {(c.series, c.fingerprint, c.after_run) for c in earlier}
    return [c for c in found if (c.series, c.fingerprint, c.after_run) not in seen]
