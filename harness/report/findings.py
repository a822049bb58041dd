"""The report's findings, as plain sentences generated from the comparison tables.

A finding states a ratio only when every cell behind it is precise enough (no flag); the
rest become withheld findings that name the noisy cells. A ratio whose 95% interval holds 1
is reported as "no clear difference", never as faster or slower. Sentences are plain text:
the HTML and Markdown writers escape them, since they quote names taken from result files.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from harness.compare.cells import FDR
from harness.compare.estimate import direction
from harness.compare.verdicts import ALPHA, Comparison
from harness.report.format import (
    CATEGORY_PHRASES,
    format_category,
    format_count,
    format_interval,
    format_times,
    row_estimate,
)
from harness.results import records


@dataclass(frozen=True)
class Finding:
    """One sentence of the report; ``stated`` is False when the data is too noisy for it."""

    topic: str
    text: str
    stated: bool = True


def _by_category(table: pd.DataFrame) -> list[tuple[str, pd.DataFrame]]:
    """Groups in the order of ``CATEGORY_PHRASES``, unknown categories last by name."""
    known = list(CATEGORY_PHRASES)
    groups = [(str(c), g) for c, g in table.groupby("category", sort=False)]
    return sorted(
        groups, key=lambda cg: (known.index(cg[0]) if cg[0] in known else len(known), cg[0])
    )


def _withheld(topic: str, what: str, noisy: str) -> Finding:
    return Finding(topic, f"{what}: not stated; too noisy: {noisy}.", stated=False)


def _workloads_note(workloads: str) -> str:
    names = workloads.split(", ")
    return f"({names[0]})" if len(names) == 1 else f"(geometric mean over {len(names)} workloads)"


def _geomean_span(row: dict[str, object], missing: list[str]) -> str:
    """The workloads behind one implementation's geometric mean: ``over 3 workloads``, or
    ``over 2 of 3 workloads, without hash_sha256``."""
    done, of = int(str(row["workloads"])), int(str(row["of"]))
    if done == of:
        return f"over {format_count(done, 'workload')}"
    lacks = f", without {', '.join(missing)}" if missing else ""
    return f"over {done} of {format_count(of, 'workload')}{lacks}"


def format_headline(comparison: Comparison) -> list[Finding]:
    """What each implementation achieves with its best model, against the reference, over
    the workloads it completed (each mean's own count, and those it lacks)."""
    geo, ref, workers = comparison.geomeans, comparison.roles.reference, comparison.workers
    good = geo[(geo["noisy"] == "") & geo["ratio"].notna()].sort_values("ratio", ascending=False)
    out = [
        _withheld("headline", f"Best-model throughput of {row['impl']}", row["noisy"])
        for row in records(geo[geo["noisy"] != ""])
    ]
    if good.empty:
        return out
    # A workload is behind a mean exactly when its headline cell has a figure.
    headline = comparison.headline
    lacking = headline[headline["ratio"].isna()].groupby("impl", sort=False)["workload"]
    missing = {str(impl): [str(w) for w in names] for impl, names in lacking}
    single = int(geo["of"].max()) == 1  # one workload: its figure, no mean to qualify
    parts = [
        f"{row['impl']} does {format_times(row['ratio'])} "
        + ("" if single else f"{_geomean_span(row, missing.get(str(row['impl']), []))} ")
        + f"({format_interval(row)})"
        for row in records(good)
    ]
    what = (f"on {headline['workload'].iloc[0]}" if single
            else "a geometric mean over the workloads each completed")  # fmt: skip
    text = (
        f"With the best model for each workload at {format_count(workers, 'worker')}, "
        f"against {ref} on one worker ({what}): " + "; ".join(parts) + "."
    )
    return [Finding("headline", text), *out]


def format_scaling(comparison: Comparison) -> list[Finding]:
    """Per category: the work 2 (or N) threads do against one, per implementation."""
    workers = comparison.workers
    out: list[Finding] = []
    withheld: list[Finding] = []
    if workers < 2:
        return out
    for category, group in _by_category(comparison.scaling):
        phrase = format_category(category)
        good = records(
            group[(group["noisy"] == "") & group["ratio"].notna()].sort_values(
                "ratio", ascending=False
            )
        )
        for row in records(group[group["noisy"] != ""]):
            what = f"Thread scaling of {row['impl']} on {phrase}"
            withheld.append(_withheld("scaling", what, row["noisy"]))
        if not good:
            continue
        first, rest = good[0], good[1:]
        text = (
            f"On {phrase} {_workloads_note(first['workloads'])}, {first['impl']} with "
            f"{workers} threads does {format_times(first['ratio'])} the work of 1 thread "
            f"({format_interval(first)})"
        )
        text += "".join(
            f"; {row['impl']} does {format_times(row['ratio'])} ({format_interval(row)})"
            for row in rest
        )
        out.append(Finding("scaling", text + "."))
    return out + withheld


def format_overhead(comparison: Comparison) -> list[Finding]:
    """The free-threaded build's single-thread cost, per workload and as a geometric mean."""
    table, roles = comparison.overhead, comparison.roles
    if table.empty:
        return []
    ft = roles.free_threaded
    per_workload = table[table["workload"] != ""]
    geo = records(table[table["workload"] == ""])[0]
    withheld = [
        _withheld("overhead", f"Single-thread cost of {ft} on {row['workload']}", row["noisy"])
        for row in records(per_workload[per_workload["noisy"] != ""])
    ]
    parts = [
        f"{format_times(row['ratio'])} on {row['workload']} ({format_interval(row)})"
        for row in records(per_workload[per_workload["noisy"] == ""])
    ]
    if len(per_workload) > 1 and geo["noisy"]:
        what = f"Geometric mean of {ft}'s single-thread cost"
        withheld.append(_withheld("overhead", what, geo["noisy"]))
    elif len(per_workload) > 1:
        parts.append(
            f"{format_times(geo['ratio'])} as a geometric mean over "
            f"{format_count(len(per_workload), 'workload')} ({format_interval(geo)})"
        )
    if not parts:
        return withheld
    text = (
        f"Serial on one worker, {ft} takes this multiple of {roles.default}'s time: "
        + "; ".join(parts) + "."
    )  # fmt: skip
    return [Finding("overhead", text), *withheld]


def format_break_even(comparison: Comparison) -> list[Finding]:
    """The fewest workers at which free-threaded threads beat the default build's best."""
    table, roles = comparison.break_even, comparison.roles
    parts, out = [], []
    for workload, group in table.groupby("workload", sort=False):
        rows = records(group.sort_values("workers"))
        win = next((r for r in rows if r["noisy"] == "" and direction(row_estimate(r)) == "above"),
                   None)  # fmt: skip
        unsure = [r for r in rows if r["noisy"] != ""]
        if win is not None:
            before = [r for r in unsure if r["workers"] < win["workers"]]
            note = "; fewer workers too noisy to say" if before else ""
            parts.append(
                f"{win['workers']} on {workload} ({format_times(win['ratio'])} the throughput "
                f"of {win['rival']}, {format_interval(win)}{note})"
            )
        elif not unsure:
            parts.append(f"none up to {rows[-1]['workers']} workers on {workload}")
        else:
            what = f"Break-even of {roles.free_threaded} threads on {workload}"
            out.append(_withheld("break-even", what, "; ".join(r["noisy"] for r in unsure)))
    if parts:
        text = (
            f"Break-even, the fewest workers at which {roles.free_threaded} with threads "
            f"beats the best model on {roles.default}: " + "; ".join(parts) + "."
        )
        out.insert(0, Finding("break-even", text))
    return out


def format_models(comparison: Comparison) -> list[Finding]:
    """Per category: the fastest model on each implementation, and by how much."""
    out: list[Finding] = []
    withheld: list[Finding] = []
    for category, group in _by_category(comparison.models):
        phrase, parts = format_category(category), []
        for row in records(group):
            if row["noisy"]:
                what = f"Fastest model of {row['impl']} on {phrase}"
                withheld.append(_withheld("models", what, row["noisy"]))
            elif not row["runner_up"] or math.isnan(row["ratio"]):
                parts.append(f"{row['best']} on {row['impl']} (the only model measured)")
            elif direction(row_estimate(row)) == "above":
                parts.append(
                    f"{row['best']} on {row['impl']} ({format_times(row['ratio'])} the "
                    f"throughput of {row['runner_up']}, {format_interval(row)})"
                )
            else:
                parts.append(
                    f"{row['best']} ≈ {row['runner_up']} on {row['impl']} "
                    f"({format_times(row['ratio'])}, {format_interval(row)})"
                )
        if parts:
            text = (
                f"Fastest model for {phrase} at {format_count(comparison.workers, 'worker')}: "
                + "; ".join(parts) + "."
            )  # fmt: skip
            out.append(Finding("models", text))
    return out + withheld


def format_findings(comparison: Comparison) -> list[Finding]:
    """Every finding, stated ones first within each topic, in the order the report reads,
    then how many of their decisions and of the table's verdicts may be false."""
    findings = [
        *format_scaling(comparison),
        *format_overhead(comparison),
        *format_break_even(comparison),
        *format_models(comparison),
        *format_headline(comparison),
    ]
    return [*findings, *format_errors(comparison, findings)]


def format_errors(comparison: Comparison, findings: list[Finding]) -> list[Finding]:
    """How many false decisions to expect: each figure stated above decides at 95% (a pick
    among several at 95% for the pick), so where no difference is real it reads as one at
    most 5% of the time; the table's verdicts hold a 5% false discovery rate."""
    stated = " ".join(f.text for f in findings if f.stated)
    decisions = stated.count("95% CI")
    if not decisions and not comparison.tested:
        return []
    differ = decisions - stated.count("no clear difference")
    parts = []
    if decisions:
        parts.append(
            f"the findings above make {format_count(decisions, 'decision')} at 95% each, "
            f"{differ} of them a difference; were no difference real, about "
            f"{ALPHA * decisions:.1f} would still read as one"
        )
    if comparison.tested:
        parts.append(
            f"{comparison.differ} of the {comparison.tested} cells compared with "
            f"{comparison.roles.reference} in the results table read faster or slower, with "
            f"the false discovery rate held at {FDR:.0%} (Benjamini-Hochberg): at most "
            f"{FDR:.0%} of those are expected to be wrong"
        )
    return [Finding("errors", "How many may be wrong: " + "; ".join(parts) + ".")]


def format_findings_text(findings: list[Finding]) -> str:
    """All findings as text, one a line: the golden file's form."""
    stated = [f"- {f.text}" for f in findings if f.stated]
    withheld = [f"- {f.text}" for f in findings if not f.stated]
    return "\n".join(["Findings:", *stated, "", "Withheld (too noisy):", *withheld]) + "\n"
