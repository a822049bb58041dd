"""What the history site says of the changes decided: summary.md's section, changes.json
and the Atom feed (changes.atom). Pure: strings out.

A change is a decision, a regression or an improvement (history/decision.py); any other
move is undecided, and nothing here words it as a change.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Collection, Mapping
from datetime import UTC, datetime
from urllib.parse import quote

from harness.formats import VERSIONS
from harness.history.decision import KINDS, Kind
from harness.history.read import History, run_classes
from harness.report.format import format_count
from harness.report.markdown import format_md
from harness.report.pages import environment

NAMESPACE = uuid.UUID("6f1c1c4e-7a43-4c55-9b1e-6a1b5d0e0b7e")  # gilbench's, for Atom ids


def run_link(run_id: str, paged: Collection[str], base: str = "") -> str:
    """Where the site shows a run: its own pages while the history keeps them
    (archive.KEEP_PAGES), else its row in the runs index; the id quoted for a URL."""
    quoted = quote(run_id)
    return (
        f"{base}runs/{quoted}/index.html" if run_id in paged else f"{base}index.html#run-{quoted}"
    )


def format_history_summary(history: History, run_summary: str) -> str:
    """The newest run's summary.md, then the section on what changed."""
    return run_summary.rstrip("\n") + "\n\n" + format_changes_section(history)


def format_changes_section(history: History) -> str:
    """summary.md's section "Changes since the last comparable run"."""
    lines = ["## Changes since the last comparable run\n"]
    before = history.comparable()
    newest = history.newest
    if len(history.entries) < 2:
        lines.append("This is the history's first run: there is nothing to compare it with.")
    elif before is None:
        lines.append(
            f"Run {newest.id} is the history's first on its class of machine "
            f"({'; '.join(sorted(run_classes(newest)))}; run {history.entries[-2].id} was on "
            f"{'; '.join(sorted(run_classes(history.entries[-2])))}): its series start here, "
            "and nothing is compared with another class's runs."
        )
    elif not history.new:
        lines.append(
            f"No regression or improvement since run {before.id}: {history.followed()} series "
            f"of run {newest.id} followed, and none brought a decision (a move of at least "
            f"{history.rules.min_change:.0%}, held for {history.rules.persist} runs, that passes "
            "the permutation test). Any other move is undecided and not alerted."
        )
    else:
        lines.append(f"Against the runs up to {before.id}, on the same class of machine:\n")
        lines += [
            ("- ⚠ " if c.kind == "regression" else "- ") + format_md(c.describe())
            for c in history.new
        ]
    return "\n".join(lines) + "\n"


def format_decided(counts: Mapping[Kind, int]) -> str:
    """``2 regressions and 1 improvement``, ``no regression or improvement``: the changes
    decided, in the only words a change has."""
    named = [format_count(counts[kind], kind) for kind in KINDS if counts.get(kind)]
    return " and ".join(named) or "no regression or improvement"


def format_changes_json(history: History) -> str:
    new = {(c.series, c.machine_class, c.after_run) for c in history.new}
    return (
        json.dumps(
            {
                "format": VERSIONS["changes.json"],
                "runs": len(history.entries),
                "newest_run": history.newest.id,
                "rules": vars(history.rules),
                "changes": [
                    {**c.as_dict(), "new": (c.series, c.machine_class, c.after_run) in new}
                    for c in history.changes
                ],
                "events": [e.as_dict() for e in history.events],
            },
            indent=2,
        )
        + "\n"
    )


def _atom_id(*parts: object) -> str:
    return f"urn:uuid:{uuid.uuid5(NAMESPACE, '/'.join(map(str, parts)))}"


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def _iso(text: str) -> str:
    """An Atom date: RFC 3339, in UTC."""
    return _utc(text).strftime("%Y-%m-%dT%H:%M:%SZ")


def format_atom(history: History, site_url: str = "") -> str:
    """changes.atom: an entry per change found, newest first, for feed readers."""
    env = environment()
    base = site_url.rstrip("/") + "/" if site_url else ""
    created = {e.id: str(e.record["created"]) for e in history.entries}
    paged = {e.id for e in history.entries if e.has_pages}
    entries = [
        {
            "id": _atom_id(*c.series, c.fingerprint, c.after_run),
            "title": c.describe().split(", from run")[0],
            "text": c.describe(),
            "updated": _iso(created.get(c.after_run, str(history.newest.record["created"]))),
            "link": run_link(c.after_run, paged, base),
        }
        for c in history.changes
    ]
    return env.get_template("changes.atom.j2").render(
        feed_id=_atom_id("gilbench-changes", site_url),
        base=base,
        entries=entries,
        updated=max(
            [e["updated"] for e in entries] or [_iso(str(history.newest.record["created"]))]
        ),
    )
