"""A history read for rendering: its runs, the points of every series, and the decisions
taken on them once. Pure but for reading the history folder (archive.py).

``read_history`` is the one place the changes are decided: every change point over all
the runs (instructions.find_all: changes.find_changes on the timed figures, noise-based
steps on the instruction counts), and once more without the newest run, to tell which
decisions the newest run brought (``new``, what ``--fail-on-regression`` reads). Each is a
regression or an improvement (decision.py), and names the events of its machine class
that coincide with it (events.py) as possible causes; report/ renders them and decides
nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from harness.history import archive
from harness.history.changes import new_changes
from harness.history.decision import ALERTED, DEFAULT_RULES, KINDS, Change, Kind, Rules
from harness.history.events import Event, class_setups, find_events, with_causes
from harness.history.instructions import find_all
from harness.history.series import KEY


@dataclass(frozen=True)
class History:
    """The history as the site shows it: its runs, their points, the changes decided."""

    entries: list[archive.Entry]  # oldest first
    points: pd.DataFrame  # archive.points
    changes: list[Change]  # every change decided, newest first
    new: list[Change]  # those the newest run brought to light
    rules: Rules
    events: list[Event]  # what changed in each machine class's setup, in run order

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

    def comparable(self) -> archive.Entry | None:
        """The newest earlier run measured on a class of machine the newest run was
        measured on too (not always the run before: hosted runners alternate), or None."""
        classes = run_classes(self.newest)
        earlier = [e for e in self.entries[:-1] if run_classes(e) & classes]
        return earlier[-1] if earlier else None


def run_classes(entry: archive.Entry) -> set[str]:
    """The classes of the machines that measured a run."""
    return set(class_setups(entry))


def read_history(folder: Path, rules: Rules = DEFAULT_RULES) -> History:
    """The history's runs and points, with its changes decided once over all of them."""
    found = archive.entries(folder)
    if not found:
        raise archive.HistoryError(f"{folder} holds no run yet; add one with 'history add'")
    points = archive.points(found)
    events = find_events(found)
    order_of = {e.id: i for i, e in enumerate(found)}
    changes = with_causes(find_all(points, rules), events, order_of)
    earlier = find_all(points[points["order"] < len(found) - 1], rules)
    return History(found, points, changes, new_changes(changes, earlier), rules, events)
