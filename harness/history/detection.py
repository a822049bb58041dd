"""How well the change-point rules find real changes, and how often they cry wolf: a
benchmark that prints figures (``nox -s detection-bench``), not a test.

The noise is real: every simulated run of a series is one real run's figure and interval
of a real series, drawn at random from a history measured on one machine. By default,
three (``FIXTURES``): the frozen quick nightlies (tests/data/history), whose intervals are
wide; frozen adaptive runs measured to a +-2% target (`--precision 2%`,
tests/data/history-precise), on the cells this VM gets precise within minutes; and frozen
full runs of three workloads, 23 to 56 minutes apart over two hours
(tests/data/history-hours). The figures are printed for each. Onto that noise go, in one
series of ten:

- nothing (A/A);
- a step of 5%, 10% or 20% from a known run on;
- slow creep: 1% a run for 10 runs.

Each history is then read as a nightly would read it, one run more each night, and what
the rules report (changes.find_changes, over every series at once) is compared with what
was injected, beside the naive rule "this run against the previous one, beyond a
threshold". Printed: the share of changes found within 2 runs, within 3 and at all, the
mean delay in runs (the run of the change counts as 1), and false alarms per series-run,
each share with the counts behind it (a rate of 0.003% is one alarm); for the rules also
on the series whose runs are precise enough for the report's findings (a 95% interval
within WIDE_CI of the figure), and the share of changes whose runs either side had
disjoint intervals, the most the interval rule lets through. ``score`` returns the
same figures, which tests/test_detection.py holds to what docs/measurements.md states.
After each noise's figures, alternating.py's: the 10% step and A/A on two classes of
machine alternating night by night, as hosted runners do.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from harness import store
from harness.compare.cells import WIDE_CI
from harness.history import archive
from harness.history.changes import find_changes
from harness.history.decision import DEFAULT_RULES, Rules
from harness.history.series import HIGHER_IS_BETTER, KEY

FIXTURE = store.ROOT / "tests" / "data" / "history"  # quick nightlies
# Adaptive runs measured to a +-2% target (--precision 2%), on the cells this VM gets precise.
PRECISE_FIXTURE = store.ROOT / "tests" / "data" / "history-precise"
# Full runs (20 passes) of three workloads on 3.14 and 3.14t, 23 to 56 minutes apart.
HOURS_FIXTURE = store.ROOT / "tests" / "data" / "history-hours"
FIXTURES = (FIXTURE, PRECISE_FIXTURE, HOURS_FIXTURE)
RUNS = 30  # runs per simulated history
STEP_AT = 20  # the first run of a step
CREEP = (15, 10, 0.01)  # first run, runs, per run
SHARE = 10  # one series in SHARE carries the change
NAIVE = (0.05, 0.10)
# Found within 2 runs: the fewest a change must hold for (Rules.persist); within 3: the
# fewest on which a shuffle test among many series can show it (changes.py).
WITHIN = (2, 3)


@dataclass(frozen=True)
class Scenario:
    name: str
    start: int  # first changed run; -1 for none
    factors: tuple[float, ...]  # multiplier per run, from run 0 (1.0 before the change)


def scenarios() -> list[Scenario]:
    flat = (1.0,) * RUNS
    found = [Scenario("A/A (no change)", -1, flat)]
    for size in (0.05, 0.10, 0.20):
        found.append(
            Scenario(
                f"step of {size:.0%}",
                STEP_AT,
                tuple(1.0 if r < STEP_AT else 1 - size for r in range(RUNS)),
            )
        )
    first, count, rate = CREEP
    creep = tuple((1 - rate) ** min(max(r - first + 1, 0), count) for r in range(RUNS))
    found.append(Scenario(f"creep of {rate:.0%} a run for {count} runs", first, creep))
    return found


def real_noise(history: Path) -> list[pd.DataFrame]:
    """Each real series with 4 runs or more: its runs' figures and intervals over its median."""
    points = archive.points(archive.entries(history))
    points = points[points["metric"] != "instructions"]  # counts: instructionsbench.py's
    pools = []
    for _, rows in points.groupby([*KEY, "fingerprint"], sort=True):
        if len(rows) >= 4 and (rows["value"] > 0).all():
            scale = float(rows["value"].median())
            pools.append(
                rows[["metric", "value", "ci_low", "ci_high"]].assign(
                    value=rows["value"] / scale,
                    ci_low=rows["ci_low"] / scale,
                    ci_high=rows["ci_high"] / scale,
                )
            )
    return pools


def simulate(
    pools: Sequence[pd.DataFrame], scenario: Scenario, series: int, rng: np.random.Generator
) -> tuple[pd.DataFrame, set[int], set[int]]:
    """One history of ``series`` series x RUNS runs, which series carry the change, and
    which draw on a real series precise enough for the report's findings (its runs'
    intervals no wider than WIDE_CI of the figure, as a rule)."""
    changed = {s for s in range(series) if scenario.start >= 0 and s % SHARE == 0}
    precise: set[int] = set()
    rows = []
    for s in range(series):
        pool = pools[int(rng.integers(len(pools)))]
        if float(((pool["ci_high"] - pool["ci_low"]) / pool["value"]).median()) <= WIDE_CI:
            precise.add(s)
        picks = pool.iloc[rng.integers(len(pool), size=RUNS)]
        metric = str(pool["metric"].iloc[0])
        # a regression: the figure falls where higher is better, rises where it isn't
        factors = np.array(scenario.factors) if s in changed else np.ones(RUNS)
        if not HIGHER_IS_BETTER.get(metric, True):
            factors = 1 / factors
        for r, (value, low, high) in enumerate(picks[["value", "ci_low", "ci_high"]].to_numpy()):
            rows.append(
                {
                    "metric": metric,
                    "impl": f"s{s}",
                    "workload": "w",
                    "model": "m",
                    "workers": 2,
                    "fingerprint": "f",
                    "value": value * factors[r],
                    "ci_low": low * factors[r],
                    "ci_high": high * factors[r],
                    "run": f"r{r:03d}",
                    "order": r,
                }
            )
    return pd.DataFrame(rows), changed, precise


@dataclass
class Tally:
    """What one detector did in one scenario: changes injected and found, false alarms."""

    changes: int = 0  # changed series
    found: int = 0  # of them, found at all
    delays: list[int] = field(default_factory=list)  # runs to each one found (its own is 1)
    false: int = 0  # alarms that are no injected change (first reports)
    series_runs: int = 0  # chances to raise one: series x runs after the first

    def within(self, runs: int) -> int:
        """How many changes were found within ``runs`` runs."""
        return sum(delay <= runs for delay in self.delays)

    def share_within(self, runs: int) -> float:
        return self.within(runs) / self.changes if self.changes else math.nan

    @property
    def false_rate(self) -> float:
        return self.false / self.series_runs if self.series_runs else math.nan

    def line(self, label: str) -> str:
        counts = [*(self.within(runs) for runs in WITHIN), self.found]
        found = " ".join(
            f"{_count(count, self.changes) if self.changes else '-':>17}" for count in counts
        )
        delay = f"{np.mean(self.delays):5.2f}" if self.delays else "    -"
        false = f"{self.false_rate:.3%} ({self.false}/{self.series_runs})"
        return f"  {label:<26} {found}  {delay}  {false:>20}"


def _count(part: int, whole: int) -> str:
    return f"{part / whole:.1%} ({part}/{whole})"


@dataclass(frozen=True)
class Figures:
    """One scenario's figures on one noise: the rules on every series and on the precise
    ones, the naive rule per threshold, and how many changed series had disjoint
    intervals in the runs either side of the change."""

    scenario: Scenario
    rules: Tally
    precise: Tally
    naive: dict[float, Tally]
    apart: int


def disjoint(points: pd.DataFrame, changed: set[int], at: int) -> int:
    """How many changed series have disjoint intervals at runs ``at - 1`` and ``at``: the
    most that any detector held to the interval rule could report at the change."""
    count = 0
    for s in changed:
        rows = points[points["impl"] == f"s{s}"].set_index("order")
        before, after = rows.loc[at - 1], rows.loc[at]
        count += bool(before["ci_high"] < after["ci_low"] or after["ci_high"] < before["ci_low"])
    return count


def _window(scenario: Scenario) -> tuple[int, int]:
    """Runs where a report places a real change: the change's own, give or take."""
    if scenario.start < 0:
        return (1, 0)
    end = scenario.start + (CREEP[1] if "creep" in scenario.name else 1)
    return (scenario.start - 1, end)


def detect_rules(points: pd.DataFrame, rules: Rules) -> dict[tuple[int, int], int]:
    """Read the history one night at a time, as the nightly does: (series, run of the
    change) -> the night it was first reported."""
    first_seen: dict[tuple[int, int], int] = {}
    for night in range(3, RUNS):
        for change in find_changes(points[points["order"] <= night], rules):
            first_seen.setdefault((int(change.impl[1:]), int(change.after_run[1:])), night)
    return first_seen


def detect_naive(points: pd.DataFrame, threshold: float) -> dict[tuple[int, int], int]:
    """Each night against the one before: an alarm beyond ``threshold``, that very night."""
    first_seen: dict[tuple[int, int], int] = {}
    for impl, rows in points.groupby("impl", sort=False):
        values = rows.sort_values("order")["value"].to_numpy()
        for night in range(1, RUNS):
            if abs(values[night] / values[night - 1] - 1) > threshold:
                first_seen[(int(str(impl)[1:]), night)] = night
    return first_seen


def tally(first_seen: dict[tuple[int, int], int], changed: set[int], among: set[int],
          scenario: Scenario, into: Tally) -> None:  # fmt: skip
    """Count, over the series ``among``, the changes found and the false alarms."""
    low, high = _window(scenario)
    into.series_runs += len(among) * (RUNS - 1)
    for s in changed & among:
        nights = [night for (t, at), night in first_seen.items()
                  if t == s and low <= at <= high and night >= scenario.start]  # fmt: skip
        into.changes += 1
        if nights:
            delay = min(nights) - scenario.start + 1
            into.found += 1
            into.delays.append(delay)
    into.false += sum(1 for (t, at) in first_seen
                      if t in among and (t not in changed or not low <= at <= high))  # fmt: skip


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="detection-bench", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--history",
        type=Path,
        action="append",
        help="a history of real runs, measured on one machine; may be given more than once "
        "(default: the frozen quick nightlies, the frozen precise runs, then the frozen "
        "full runs spread over two hours)",
    )
    parser.add_argument("--series", type=int, default=100, help="series per history")
    parser.add_argument("--histories", type=int, default=10, help="histories per scenario")
    parser.add_argument("--seed", type=int, default=20261202)
    args = parser.parse_args(argv)
    for history in args.history or FIXTURES:
        try:
            pools = real_noise(history)
        except archive.HistoryError as exc:
            print(f"detection-bench: error: {exc}", file=sys.stderr)
            return 2
        if not pools:
            print(f"detection-bench: error: {history} has no series of 4 runs or more; "
                  "add more runs to it", file=sys.stderr)  # fmt: skip
            return 2
        found = bench(history, pools, args.series, args.histories,
                      np.random.default_rng(args.seed))  # fmt: skip
        # imported here: alternating.py builds on this module's design
        from harness.history import alternating

        before = {figures.scenario.name: figures.rules for figures in found}
        alternating.bench(history, pools, args.series, args.histories, args.seed, before)
    return 0


def score(
    pools: Sequence[pd.DataFrame],
    series: int,
    histories: int,
    rng: np.random.Generator,
    chosen: Sequence[Scenario] | None = None,
    rules: Rules = DEFAULT_RULES,
) -> list[Figures]:
    """Each scenario's figures (all of ``scenarios()`` unless ``chosen``) over ``histories``
    simulated histories of ``series`` series on the noise of ``pools``."""
    figures = []
    for scenario in chosen or scenarios():
        ours, sharp, naive = Tally(), Tally(), {t: Tally() for t in NAIVE}
        apart = 0
        for _ in range(histories):
            points, changed, precise = simulate(pools, scenario, series, rng)
            everyone = set(range(series))
            if scenario.start >= 0:
                apart += disjoint(points, changed, scenario.start)
            found = detect_rules(points, rules)
            tally(found, changed, everyone, scenario, ours)
            tally(found, changed, precise, scenario, sharp)
            for threshold in NAIVE:
                tally(detect_naive(points, threshold), changed, everyone, scenario,
                      naive[threshold])  # fmt: skip
        figures.append(Figures(scenario, ours, sharp, naive, apart))
    return figures


def bench(history: Path, pools: Sequence[pd.DataFrame], series: int, histories: int,
          rng: np.random.Generator) -> list[Figures]:  # fmt: skip
    """Print the figures of every scenario on the noise of ``history``; return them."""
    started = time.monotonic()
    runs = max(len(p) for p in pools)
    widths = [float(((p["ci_high"] - p["ci_low"]) / p["value"]).median()) for p in pools]
    print(
        f"noise: {len(pools)} real series of {history} ({runs} runs each at most; median "
        f"95% interval {np.median(widths):.1%} of the figure); {histories} histories x "
        f"{series} series x {RUNS} runs per scenario, one series in {SHARE} changed"
    )
    print(f"rules: {DEFAULT_RULES}")
    within = " ".join(f"{f'within {runs} runs':>17}" for runs in WITHIN)
    print(
        f"  {'scenario / detector':<26} {within} {'found':>17}  {'delay':>5}  "
        "false alarms per series-run"
    )
    found = score(pools, series, histories, rng)
    for figures in found:
        print(f"{figures.scenario.name}:")
        print(figures.rules.line("gilbench's rules"))
        print(figures.precise.line(f"  on series within {WIDE_CI:.0%}"))
        for threshold, counted in figures.naive.items():
            print(counted.line(f"naive, previous run >{threshold:.0%}"))
        if figures.rules.changes:
            apart = _count(figures.apart, figures.rules.changes)
            print(f"  (the intervals either side of the change were disjoint in {apart} of the "
                  "changed series)")  # fmt: skip
    print(f"took {time.monotonic() - started:.0f} s")
    return found


if __name__ == "__main__":
    raise SystemExit(main())
