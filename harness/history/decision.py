"""A history's change is a decision, in the words every statement of gilbench uses.

A series that moved is decided a ``regression`` or an ``improvement`` only when the move
passes every test changes.py makes (its size, its persistence, the intervals either side,
the permutation test under a false discovery rate). Any other move is undecided: it is
drawn on the trends, as every figure is, and never reported or alerted as a change.
These are the only two words a ``Change`` carries, and the only ones changes.html,
changes.json, the Atom feed, summary.md and ``--fail-on-regression`` use for one.

A change is found on one class of machine (its series'), and names as possible causes
what else changed in that class's setup between its runs either side (events.py): a new
kernel, runner image, package or implementation version. Those are named, never decided.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any, Literal

from harness.history.series import METRIC_LABELS

Kind = Literal["regression", "improvement"]
KINDS: tuple[Kind, ...] = ("regression", "improvement")
ALERTED: Kind = "regression"  # what --fail-on-regression exits 1 for


@dataclass(frozen=True)
class Rules:
    """The tests a move must pass to be decided (changes.py sets out each)."""

    min_change: float = 0.05
    persist: int = 2
    alpha: float = 0.05


DEFAULT_RULES = Rules()


def kind_of(rose: bool, higher_is_better: bool) -> Kind:
    """A decided move's kind: an improvement if it went the better way."""
    return "improvement" if rose == higher_is_better else "regression"


@dataclass(frozen=True)
class Change:
    """A change point that held up, decided a regression or an improvement: where, how
    big, and how sure."""

    metric: str
    impl: str
    workload: str
    model: str
    workers: int
    machine_class: str  # the class of machine its series is followed on
    fingerprint: str  # the setup of the machine that measured its first run after
    before_run: str  # the last run before the change
    after_run: str  # the first run after it
    runs_before: int
    runs_after: int
    before: float  # geometric mean of the figures before and after
    after: float
    ratio: float  # after / before
    ci_low: float  # 95% interval of the ratio (Student's t, pooled variance, on logs)
    ci_high: float
    p_value: float  # the permutation test of the stretch it was found in
    q_value: float  # Benjamini-Hochberg adjusted, over every series segment
    kind: Kind
    # what else changed in the class's setup between before_run and after_run (events.py)
    causes: tuple[str, ...] = ()
    # an instruction series' change: the step its noise set (instructions.py), p and q NaN
    threshold: float = math.nan
    # a serial cell's change: what the other tier (time or instructions) did at its run
    counterpart: str = ""

    @property
    def series(self) -> tuple[str, str, str, str, int]:
        return (self.metric, self.impl, self.workload, self.model, self.workers)

    @property
    def decision(self) -> Kind:
        """What was decided: the change's kind, under the name every statement uses."""
        return self.kind

    def as_dict(self) -> dict[str, Any]:
        """changes.json's record: every field, and the decision named as such."""
        found = {**asdict(self), "causes": list(self.causes), "decision": self.decision}
        # JSON has no NaN: a test's p and q, or a threshold, that the change hasn't are null
        return {k: None if isinstance(v, float) and math.isnan(v) else v
                for k, v in found.items()}  # fmt: skip

    def describe(self) -> str:
        """A change in one line: the decision, which series, how far it moved, how sure."""
        what = METRIC_LABELS.get(self.metric, self.metric).split(" (")[0]
        where = (
            f"{self.impl} {self.workload}/{self.model}/{self.workers}"
            if self.metric != "overhead"
            else self.impl
        )
        shown = ".3g"
        if math.isnan(self.threshold):
            how = (f"{self.ratio - 1:+.1%}, 95% interval {self.ci_low - 1:+.1%} to "
                   f"{self.ci_high - 1:+.1%}; q = {self.q_value:.2g}")  # fmt: skip
        else:
            how = (f"{self.ratio - 1:+.2%}, beyond its threshold of {self.threshold:.2%} "
                   "set by the counts' measured spread")  # fmt: skip
            shown = ".4g"  # a count's small step needs its digits
        return (
            f"{self.kind}: {where} {what} {self.before:{shown}} → {self.after:{shown}} "
            f"({how}), from run {self.after_run} "
            f"({self.runs_before} runs before, {self.runs_after} after)"
            + (f"; {self.counterpart}" if self.counterpart else "")
            + (f"; possible causes: {', '.join(self.causes)}" if self.causes else "")
        )
