"""A history read for rendering: its runs, the points of every series, and the decisions
taken on them once. Pure but for reading the history folder (archive.py).

``read_history`` is the one place the changes are decided: every change point over all
the runs (changes.find_changes), and once more without the newest run, to tell which
decisions the newest run brought (``new``, what ``--fail-on-regression`` reads). Each is a
regression or an improvement (decision.py); report/ renders them and decides nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from harness.history import archive
from harness.history.changes import find_changes, new_changes
from harness.history.decision import ALERTED, DEFAULT_RULES, KINDS, Change, Kind, Rules
from harness.history.series import KEY


@dataclass(frozen=True)
class History:
    """The history as the site shows it: its runs, their points, the changes decided."""

    entries: list[archive.Entry]  # oldest first
    points: pd.DataFrame  # archive.points
    changes: list[Change]  # every change decided, newest first
    new: list[Change]  # those the newest run brought to light
    rules: Rules

    @property
    def newest(self) -> archive.Entry:
        return self.entries[-1]

    @property
    def alerts(self) -> list[Change]:
        """The newest run's regressions: what ``--fail-on-regression`` exits 1 for."""
        return [c for c in self.new if c.kind == ALERTED]

    def counts(self, changes: list[Change] | None = None) -> dict[Kind, int]:
        """How many of ``changes`` (every change, by default) are of each kind."""
        found = self.changes if changes is None else changes
        return {kind: sum(c.kind == kind for c in found) for kind in KINDS}

    def followed(self) -> int:
        """How many series the newest run has a point in."""
        return int(
            self.points.loc[self.points["run"] == self.newest.id, KEY].drop_duplicates().shape[0]
        )

    def comparable(self) -> tuple[archive.Entry | None, bool]:
        """The run before the newest, and whether it was measured on the same machines."""
        if len(self.entries) < 2:
            return None, False
        before, newest = self.entries[-2], self.entries[-1]
        return before, run_fingerprints(before) == run_fingerprints(newest)


def run_fingerprints(entry: archive.Entry) -> set[str]:
    """The fingerprints of the machines that measured a run."""
    return {str(m["fingerprint"]) for m in entry.record["machines"].values()}


def read_history(folder: Path, rules: Rules = DEFAULT_RULES) -> History:
    """The history's runs and points, with its changes decided once over all of them."""
    found = archive.entries(folder)
    if not found:
        raise archive.HistoryError(f"{folder} holds no run yet; add one with 'history add'")
    points = archive.points(found)
    changes = find_changes(points, rules)
    earlier = find_changes(points[points["order"] < len(found) - 1], rules)
    return History(found, points, changes, new_changes(changes, earlier), rules)
