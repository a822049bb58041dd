"""Do short runs' decisions agree with a long run's? Counted, not assumed.

``nox -s agreement-bench -- REFERENCE RUN [RUN ...]`` reads each run folder through the
pipeline the report uses (results, cells.summarize, verdicts.compare_run) and sets every
decision of each RUN beside the REFERENCE's decision about the same figure (``topic`` and
``subject``, Comparison.decisions):

- a **contradiction** is a decision the reference decides otherwise: "gains" where it says
  "loses" or "equivalent", "equivalent" where it says "gains" or "loses", and so on; or a
  fastest model the reference names another. An undecided figure contradicts nothing, on
  either side. The goal is none.
- the **share made** is, of the reference's decisions, those the run makes too (the same
  way). The goal is 90% for the questions the report leads with.

It measures nothing: the runs are measured first (a long adaptive run as the reference,
several quick runs of the same selection beside it) and read here as often as wanted.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from harness.compare.cells import summarize
from harness.compare.decisions import DECIDED
from harness.compare.verdicts import compare_run
from harness.results import ResultsError, load_run
from harness.store import StoreError

TOPICS = ("scaling", "overhead", "break-even", "models", "headline", "answer throughput",
          "answer break-even", "answer overhead")  # fmt: skip


@dataclass(frozen=True)
class Agreement:
    """One run's decisions against the reference's."""

    run: str
    made: int  # decisions the run makes
    undecided: int  # figures it states undecided
    contradicted: list[str]  # "topic subject: ours vs theirs"
    shared: dict[str, tuple[int, int]]  # topic -> (reference decisions also made, of those)

    def share(self, topics: Sequence[str] = TOPICS) -> tuple[int, int]:
        """(reference decisions the run made too, reference decisions) over ``topics``."""
        pairs = [self.shared.get(t, (0, 0)) for t in topics]
        return sum(a for a, _ in pairs), sum(b for _, b in pairs)


def decisions(run_dir: Path) -> pd.DataFrame:
    """A run's decisions, as its report takes them."""
    return compare_run(summarize(load_run(run_dir))).decisions()


def _word(row: pd.Series) -> str:
    """A decision with what it names: the fastest model's name is part of a models row."""
    word = str(row["decision"])
    return f"{word} ({row['claim']})" if row["claim"] and word == "gains" else word


def agree(reference: pd.DataFrame, run: pd.DataFrame, name: str) -> Agreement:
    """``run``'s decisions set beside ``reference``'s, figure by figure."""
    theirs = {(r["topic"], r["subject"]): r for _, r in reference.iterrows()}
    contradicted = []
    for _, row in run.iterrows():
        other = theirs.get((row["topic"], row["subject"]))
        if other is None or row["decision"] not in DECIDED or other["decision"] not in DECIDED:
            continue
        if _word(row) != _word(other):
            contradicted.append(f"{row['topic']} {row['subject']}: {_word(row)} here, "
                                f"{_word(other)} in the reference")  # fmt: skip
    ours = {(r["topic"], r["subject"]): _word(r) for _, r in run.iterrows()
            if r["decision"] in DECIDED}  # fmt: skip
    shared: dict[str, tuple[int, int]] = {}
    for (topic, subject), row in theirs.items():
        if row["decision"] not in DECIDED:
            continue
        made, of = shared.get(topic, (0, 0))
        shared[topic] = (made + int(ours.get((topic, subject)) == _word(row)), of + 1)
    made = int(run["decision"].isin(list(DECIDED)).sum())
    return Agreement(name, made, len(run) - made, contradicted, shared)


def format_agreement(found: Agreement) -> str:
    made, of = found.share()
    lines = [
        f"{found.run}: {found.made} decisions made, {found.undecided} undecided; "
        f"{len(found.contradicted)} contradicted by the reference; made "
        f"{made} of the reference's {of} decisions ({made / of:.0%})" if of else
        f"{found.run}: {found.made} decisions made, {found.undecided} undecided; "
        f"{len(found.contradicted)} contradicted by the reference"
    ]  # fmt: skip
    for topic in TOPICS:
        a, b = found.shared.get(topic, (0, 0))
        if b:
            lines.append(f"  {topic}: {a} of {b} ({a / b:.0%})")
    lines += [f"  contradicted: {text}" for text in found.contradicted]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="agreement-bench",
        description="Count the decisions of runs that a reference run contradicts.")  # fmt: skip
    parser.add_argument("reference", type=Path, help="the long run's folder")
    parser.add_argument("runs", type=Path, nargs="+", help="the runs to check against it")
    args = parser.parse_args(argv)
    try:
        reference = decisions(args.reference)
        found = [agree(reference, decisions(r), r.name) for r in args.runs]
    except (OSError, ResultsError, StoreError) as exc:
        print(f"agreement-bench: {exc}", file=sys.stderr)
        return 2
    made = int(reference["decision"].isin(list(DECIDED)).sum())
    print(f"reference {args.reference.name}: {made} decisions made, "
          f"{len(reference) - made} undecided")  # fmt: skip
    for one in found:
        print(format_agreement(one))
    total = sum(len(f.contradicted) for f in found)
    pairs = [f.share() for f in found]
    print(f"in all: {total} contradictions over {len(found)} runs; the runs made "
          f"{sum(a for a, _ in pairs)} of the reference's {sum(b for _, b in pairs)} "
          "decisions between them")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
