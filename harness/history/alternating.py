"""The detection benchmark on hosted runners' terms: two classes of machine alternating
night by night, a change on one of them. Part of ``nox -s detection-bench`` (detection.py
prints it after each noise's figures).

Hosted runners alternate between CPU models from one night to the next. Each simulated
history here has two classes of machine, the first measuring the even nights and the
second the odd ones, 2 x RUNS nights in all, so that each class has RUNS runs, as each
series of detection.py's one-class design has. Every run of a series on a class is a real
run's figure and interval, drawn from a real series of its own (detection.real_noise:
the same frozen values), the second class's CLASS_LEVEL times higher. The change goes onto
the first class only, from its run STEP_AT on; delays and false alarms are counted in
runs of the class (the run of the change counts as 1; a class-series-run is a chance).

Each history is read night by night, as the nightly reads it, three ways:

- one class: detection.py's design on the same noise (the figures it printed above: the
  figures before);
- alternating, per class: each series followed per class over that class's nights
  (series.py);
- alternating, old segments: a new segment wherever the machine's fingerprint changed
  from the run before, as the history did before classes: every run is a segment of its
  own.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from harness.history.changes import find_changes
from harness.history.decision import DEFAULT_RULES, Rules
from harness.history.detection import (
    RUNS,
    SHARE,
    WITHIN,
    Scenario,
    Tally,
    scenarios,
    score,
    tally,
)
from harness.history.series import HIGHER_IS_BETTER

CLASSES = ("A", "B")  # A measures the even nights, B the odd ones
# B's figures over A's: a level apart, so that the alternation alone moves every series by
# 20% from night to night; a series followed per class never sees it.
CLASS_LEVEL = 1.2
CHOSEN = ("A/A (no change)", "step of 10%")
READINGS = ("one class", "alternating, per class", "alternating, old segments")


def simulate_alternating(
    pools: Sequence[pd.DataFrame], scenario: Scenario, series: int, rng: np.random.Generator
) -> tuple[pd.DataFrame, set[int]]:
    """One history of ``series`` series x 2 classes x RUNS runs a class, the classes night
    by night, and which series carry the change (on class A)."""
    changed = {s for s in range(series) if scenario.start >= 0 and s % SHARE == 0}
    rows = []
    for s in range(series):
        for offset, cls in enumerate(CLASSES):
            pool = pools[int(rng.integers(len(pools)))]
            picks = pool.iloc[rng.integers(len(pool), size=RUNS)]
            metric = str(pool["metric"].iloc[0])
            factors = np.array(scenario.factors) if s in changed and cls == "A" else np.ones(RUNS)
            if not HIGHER_IS_BETTER.get(metric, True):
                factors = 1 / factors  # a regression, whichever way the metric is better
            level = CLASS_LEVEL if cls == "B" else 1.0
            figures = picks[["value", "ci_low", "ci_high"]].to_numpy()
            for k, (value, low, high) in enumerate(figures):
                night, scale = 2 * k + offset, level * factors[k]
                row = {"metric": metric, "impl": f"s{s}", "workload": "w", "model": "m",
                       "workers": 2, "machine_class": cls, "fingerprint": f"f{cls}",
                       "value": value * scale, "ci_low": low * scale, "ci_high": high * scale,
                       "run": f"r{night:03d}", "order": night}  # fmt: skip
                rows.append(row)
    return pd.DataFrame(rows), changed


def per_fingerprint(points: pd.DataFrame) -> pd.DataFrame:
    """The history as it was read before classes: the fingerprint changes every night, so
    every run starts a segment, which is a class of its own here."""
    return points.assign(machine_class=points["machine_class"] + "@" + points["run"])


def detect_classes(points: pd.DataFrame, rules: Rules) -> dict[tuple[int, int], int]:
    """Read the history night by night: (class-series, its run of the change) -> its run
    (the latest of its class) on the night the change was first reported. A class-series
    is a series on class A (its number) or on B (its number + the series count)."""
    series = points["impl"].nunique()
    first_seen: dict[tuple[int, int], int] = {}
    for night in range(3, 2 * RUNS):
        for change in find_changes(points[points["order"] <= night], rules):
            offset = CLASSES.index(change.machine_class.split("@")[0])
            ident = int(change.impl[1:]) + offset * series
            at = int(change.after_run[1:]) // 2  # nights 2k and 2k + 1 are run k of A and B
            first_seen.setdefault((ident, at), (night - offset) // 2)
    return first_seen


def score_alternating(
    pools: Sequence[pd.DataFrame],
    series: int,
    histories: int,
    seed: int,
    before: Mapping[str, Tally] | None = None,
    rules: Rules = DEFAULT_RULES,
) -> dict[str, dict[str, Tally]]:
    """Per scenario of CHOSEN, each reading's tally (READINGS), over ``histories``
    histories of ``series`` series; the one-class tallies ``before`` (detection.score's,
    by scenario), or scored here with ``seed``."""
    chosen = [s for s in scenarios() if s.name in CHOSEN]
    if before is None:
        one = score(pools, series, histories, np.random.default_rng(seed), chosen, rules)
        before = {figures.scenario.name: figures.rules for figures in one}
    rng = np.random.default_rng(seed)
    found: dict[str, dict[str, Tally]] = {}
    for scenario in chosen:
        per_class, per_print = Tally(), Tally()
        everyone = set(range(2 * series))
        for _ in range(histories):
            points, changed = simulate_alternating(pools, scenario, series, rng)
            tally(detect_classes(points, rules), changed, everyone, scenario, per_class)
            tally(detect_classes(per_fingerprint(points), rules), changed, everyone, scenario,
                  per_print)  # fmt: skip
        tallies = (before[scenario.name], per_class, per_print)
        found[scenario.name] = dict(zip(READINGS, tallies, strict=True))
    return found


def bench(history: Path, pools: Sequence[pd.DataFrame], series: int, histories: int,
          seed: int, before: Mapping[str, Tally] | None = None) -> None:  # fmt: skip
    """Print each reading's figures for CHOSEN on the noise of ``history`` (the one-class
    tallies ``before``, if detection.bench has them)."""
    started = time.monotonic()
    print(
        f"alternating classes of machine, on the noise of {history}: {histories} histories x "
        f"{series} series x 2 classes x {RUNS} runs a class ({2 * RUNS} nights, the classes "
        f"night by night, the second {CLASS_LEVEL - 1:.0%} higher); the change on the first "
        "class only; runs and delays counted in runs of the class"
    )
    within = " ".join(f"{f'within {runs} runs':>17}" for runs in WITHIN)
    print(f"  {'scenario / reading':<26} {within} {'found':>17}  {'delay':>5}  "
          "false alarms per series-run")  # fmt: skip
    for name, readings in score_alternating(pools, series, histories, seed, before).items():
        print(f"{name}:")
        for reading, counted in readings.items():
            print(counted.line(reading))
    print(f"took {time.monotonic() - started:.0f} s")
