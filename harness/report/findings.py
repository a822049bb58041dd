"""The report's findings, as plain sentences generated from the comparisons' decisions.

Every sentence states decisions (compare/decisions.py): each figure it quotes gains, loses
or is equivalent within the margin, by its own interval; the undecided figures get a
sentence each after the decided ones, with the figure, its interval and what would decide
it. A cell's wide raw interval is never a reason to leave a figure out. Sentences are
plain text: the HTML and Markdown writers escape them, since they quote names taken from
result files."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import pandas as pd

from harness.compare.cells import FDR
from harness.compare.decisions import DECIDED
from harness.compare.verdicts import ALPHA, Comparison
from harness.report.format import (
    CATEGORY_PHRASES,
    format_category,
    format_count,
    format_interval,
    format_needed,
    format_times,
)
from harness.results import records


@dataclass(frozen=True)
class Finding:
    """One sentence of the report; ``stated`` is False for an undecided figure: its
    sentence gives the figure, its interval and what would decide it."""

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


def _undecided(topic: str, what: str, row: dict[str, Any], figure: str = "") -> Finding:
    """An undecided figure: what it is, the figure and its interval, what would decide it."""
    shown = figure or format_times(row["ratio"])
    return Finding(topic, f"{what}: undecided at {shown} ({format_interval(row)}); "
                          f"{format_needed(row)}.", stated=False)  # fmt: skip


def _decided(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in rows if r["decision"] in DECIDED]


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


def _open(names: list[str]) -> str:
    """``; undecided: 3.14, pypy3.9 (below)``: the measured ones a sentence can't decide yet,
    so that it never reads as if only the decided ones were measured."""
    return f"; undecided: {', '.join(names)} (below)" if names else ""


def _margin(comparison: Comparison) -> str:
    return f"within {comparison.margin:.0%}"


def _groups(parts: list[tuple[str, str]], words: dict[str, str]) -> str:
    """Parts grouped by decision, in the order of ``words``: ``gain: a; b. Equivalent: c``."""
    out = []
    for word, phrase in words.items():
        these = [text for decided, text in parts if decided == word]
        if these:
            out.append(f"{phrase}: " + "; ".join(these))
    return "; ".join(out)


def format_headline(comparison: Comparison) -> list[Finding]:
    """What each implementation achieves with its best model, against the reference, over
    the workloads it completed (each mean's own count, and those it lacks)."""
    geo, ref, workers = comparison.geomeans, comparison.roles.reference, comparison.workers
    rows = records(geo[geo["ratio"].notna()].sort_values("ratio", ascending=False))
    headline = comparison.headline
    lacking = headline[headline["ratio"].isna()].groupby("impl", sort=False)["workload"]
    missing = {str(impl): [str(w) for w in names] for impl, names in lacking}
    single = int(geo["of"].max()) == 1 if len(geo) else True  # one workload: no mean
    what = (f"on {headline['workload'].iloc[0]}" if single
            else "a geometric mean over the workloads each completed")  # fmt: skip
    out = []
    parts = []
    for row in rows:
        span = "" if single else f" {_geomean_span(row, missing.get(str(row['impl']), []))}"
        text = f"{row['impl']} {format_times(row['ratio'])}{span} ({format_interval(row)})"
        if row["decision"] in DECIDED:
            parts.append((str(row["decision"]), text))
        else:
            against = "its own serial run" if row["impl"] == ref else f"{ref} serial"
            subject = (f"Best-model throughput of {row['impl']} at "
                       f"{format_count(workers, 'worker')}{span}, against {against}")  # fmt: skip
            out.append(_undecided("headline", subject, row))
    if not parts:
        return out
    words = {"gains": "more work than it", "equivalent": f"the same work ({_margin(comparison)})",
             "loses": "less work than it"}  # fmt: skip
    text = (
        f"With the best model for each workload at {format_count(workers, 'worker')}, "
        f"against {ref} on one worker ({what}), these do {_groups(parts, words)}"
        f"{_open([str(r['impl']) for r in rows if r['decision'] not in DECIDED])}."
    )
    return [Finding("headline", text), *out]


def format_scaling(comparison: Comparison) -> list[Finding]:
    """Per category: the work N threads do against one, per implementation, by decision."""
    workers = comparison.workers
    out: list[Finding] = []
    undecided: list[Finding] = []
    if workers < 2:
        return out
    for category, group in _by_category(comparison.scaling):
        phrase = format_category(category)
        rows = records(group[group["ratio"].notna()].sort_values("ratio", ascending=False))
        for row in rows:
            if row["decision"] not in DECIDED:
                what = (f"Thread scaling of {row['impl']} on {phrase} "
                        f"{_workloads_note(row['workloads'])} at {workers} threads")  # fmt: skip
                undecided.append(_undecided("scaling", what, row))
        decided = _decided(rows)
        if not decided:
            continue
        notes = {r["workloads"] for r in decided}
        note = _workloads_note(decided[0]["workloads"]) if len(notes) == 1 else ""
        parts = [(str(r["decision"]),
                  f"{r['impl']} {format_times(r['ratio'])} ({format_interval(r)})"
                  + ("" if note else f" {_workloads_note(r['workloads'])}"))
                 for r in decided]  # fmt: skip
        words = {"gains": "gain", "equivalent": f"no gain ({_margin(comparison)} of 1 thread)",
                 "loses": "lose"}  # fmt: skip
        text = (f"On {phrase}{' ' + note if note else ''}, {workers} threads against 1 thread, "
                f"in work done: {_groups(parts, words)}"
                f"{_open([r['impl'] for r in rows if r['decision'] not in DECIDED])}.")  # fmt: skip
        out.append(Finding("scaling", text))
    return out + undecided


def format_overhead(comparison: Comparison) -> list[Finding]:
    """The free-threaded build's single-thread cost, per workload and as a geometric mean."""
    table, roles = comparison.overhead, comparison.roles
    if table.empty:
        return []
    ft = roles.free_threaded
    per_workload = records(table[table["workload"] != ""])
    (geo,) = records(table[table["workload"] == ""])
    undecided, parts, pending = [], [], []
    several = len(per_workload) > 1
    for row in [*per_workload, *([geo] if several else [])]:
        where = (
            f"on {row['workload']}"
            if row["workload"]
            else f"as a geometric mean over {format_count(len(per_workload), 'workload')}"
        )
        if math.isnan(row["ratio"]):
            continue
        if row["decision"] not in DECIDED:
            undecided.append(_undecided("overhead", f"Single-thread cost of {ft} {where}", row))
            pending.append(where)
            continue
        text = f"{format_times(row['ratio'])} {where} ({format_interval(row)})"
        parts.append((str(row["decision"]), text))
    if not parts:
        return undecided
    words = {"loses": "slower", "equivalent": f"equivalent ({_margin(comparison)})",
             "gains": "faster"}  # fmt: skip
    text = (f"Serial on one worker, {ft} against {roles.default}, in time taken: "
            f"{_groups(parts, words)}{_open(pending)}.")  # fmt: skip
    return [Finding("overhead", text), *undecided]


def format_instructions(comparison: Comparison) -> list[Finding]:
    """The same single-thread cost in instructions per unit, where both builds were counted:
    each figure labelled an instruction ratio, with the time ratio and its decision beside
    it, and where the two decide differently, said so."""
    table, roles = comparison.overhead, comparison.roles
    if table.empty or table["instr_ratio"].isna().all():
        return []
    ft = roles.free_threaded
    words = {"loses": "more", "equivalent": f"the same ({_margin(comparison)})",
             "gains": "fewer"}  # fmt: skip
    rows = records(table[table["instr_ratio"].notna()])
    parts, undecided, disagree = [], [], []
    for row in rows:
        where = f"on {row['workload']}" if row["workload"] else "as a geometric mean"
        figure = {"ratio": row["instr_ratio"], "ci_low": row["instr_ci_low"],
                  "ci_high": row["instr_ci_high"], "confidence": 0.95, "candidates": 1}  # fmt: skip
        time = f"time {format_times(row['ratio'])}, {row['decision']}"
        shown = format_times(row["instr_ratio"])
        if row["instr_decision"] in ("gains", "loses") and round(row["instr_ratio"], 2) == 1:
            shown = format_times(row["instr_ratio"]).replace("1.00", f"{row['instr_ratio']:.4f}")
        text = f"{shown} {where} ({format_interval(figure)}; {time})"
        if row["instr_decision"] not in DECIDED:
            undecided.append(Finding("overhead", f"Instructions per unit of {ft} against "
                                     f"{roles.default} {where}: undecided at {text}.",
                                     stated=False))  # fmt: skip
            continue
        parts.append((str(row["instr_decision"]), text))
        if row["decision"] in DECIDED and row["decision"] != row["instr_decision"]:
            disagree.append(where)
    if not parts:
        return undecided
    text = (f"Serial on one worker, {ft} against {roles.default}, in instructions executed "
            f"per unit (an instruction ratio, counted under cachegrind: no parallelism, no "
            f"cache misses, no clock speed): {_groups(parts, words)}.")  # fmt: skip
    if disagree:
        text += (f" Time and instructions decide differently {', '.join(disagree)}: the "
                 "difference is in what an instruction costs (atomic operations, cache "
                 "misses, the clock), not in how many run.")  # fmt: skip
    return [Finding("overhead", text), *undecided]


def format_break_even(comparison: Comparison) -> list[Finding]:
    """The fewest workers at which free-threaded threads beat the default build's best.

    At a worker count where free-threaded threads gain on every model of the default build,
    break-even is decided to be there or below; it is exactly there when every count below
    is decided not to gain (loses or equivalent). "None up to N" is said only when every
    count is so decided; otherwise the break-even is undecided.
    """
    table, roles = comparison.break_even, comparison.roles
    parts, out, pending = [], [], []
    for workload, group in table.groupby("workload", sort=False):
        rows = records(group[group["ratio"].notna()].sort_values("workers"))
        if not rows:
            continue
        win = next((r for r in rows if r["decision"] == "gains"), None)
        before = rows if win is None else [r for r in rows if r["workers"] < win["workers"]]
        open_ = [r for r in before if r["decision"] not in DECIDED]
        if win is not None:
            at = "at most " if open_ else ""
            note = "".join(f"; at {r['workers']} undecided ({format_times(r['ratio'])}, "
                           f"{format_interval(r)})" for r in open_)  # fmt: skip
            parts.append(
                f"{at}{win['workers']} on {workload} ({format_times(win['ratio'])} the "
                f"throughput of {win['rival']}{_closest(win)}, {format_interval(win)}{note})"
            )
        elif not open_:
            last = rows[-1]
            parts.append(f"none up to {last['workers']} workers on {workload} (at "
                         f"{last['workers']}: {format_times(last['ratio'])} the throughput "
                         f"of {last['rival']}, {format_interval(last)})")  # fmt: skip
        else:
            first = open_[0]
            what = (f"Break-even of {roles.free_threaded} threads on {workload} (at "
                    f"{first['workers']} workers, against {first['rival']})")  # fmt: skip
            out.append(_undecided("break-even", what, first))
            pending.append(str(workload))
    if parts:
        text = (
            f"Break-even, the fewest workers at which {roles.free_threaded} with threads "
            f"gains on every model of {roles.default}: " + "; ".join(parts) + _open(pending) + "."
        )
        out.insert(0, Finding("break-even", text))
    return out


def _closest(row: dict[str, Any]) -> str:
    """How a break-even's gain was decided: on each of its rivals, by their own intervals."""
    if not row.get("each") or int(row.get("rivals") or 1) < 2:
        return ""
    return f", the closest of {row['rivals']} models, each gained on by its own interval"


def format_models(comparison: Comparison) -> list[Finding]:
    """Per category: the fastest model on each implementation, and by how much."""
    out: list[Finding] = []
    undecided: list[Finding] = []
    for category, group in _by_category(comparison.models):
        phrase, parts, open_ = format_category(category), [], []
        for row in records(group):
            if not row["runner_up"]:
                parts.append(f"{row['best']} on {row['impl']} (its only model measured)")
            elif math.isnan(row["ratio"]):
                continue
            elif row["decision"] == "gains":
                parts.append(
                    f"{row['best']} on {row['impl']} ({format_times(row['ratio'])} the "
                    f"throughput of {row['runner_up']}, {format_interval(row)})"
                )
            elif row["decision"] == "equivalent":
                parts.append(
                    f"{row['best']} ≈ {row['runner_up']} on {row['impl']}, equivalent "
                    f"{_margin(comparison)} ({format_times(row['ratio'])}, {format_interval(row)})"
                )
            else:
                what = (f"Fastest model of {row['impl']} on {phrase}: {row['best']} or "
                        f"{row['runner_up']}")  # fmt: skip
                undecided.append(_undecided("models", what, row))
                open_.append(str(row["impl"]))
        if parts:
            text = (
                f"Fastest model for {phrase} at {format_count(comparison.workers, 'worker')}: "
                + "; ".join(parts) + _open(open_) + "."
            )  # fmt: skip
            out.append(Finding("models", text))
    return out + undecided


def format_findings(comparison: Comparison) -> list[Finding]:
    """Every finding in the order the report reads: the decided ones first, topic by
    topic, then how many of the decisions may be false, then the undecided ones, each
    with its figure, its interval and what would decide it."""
    from harness.report.answer import format_answer_undecided  # it imports this
    from harness.report.sweepfindings import format_payload, format_tasks  # it imports this

    findings = [
        *format_scaling(comparison),
        *format_overhead(comparison),
        *format_instructions(comparison),
        *format_break_even(comparison),
        *format_models(comparison),
        *format_headline(comparison),
        *format_payload(comparison),
        *format_tasks(comparison),
        *format_answer_undecided(comparison),
    ]
    decided = [f for f in findings if f.stated]
    return [*decided, *format_errors(comparison),
            *(f for f in findings if not f.stated)]  # fmt: skip


def format_errors(comparison: Comparison) -> list[Finding]:
    """How many false decisions to expect: each figure's decision is taken at its
    interval's level (a pick among several, simultaneously with them; a sequential run's
    looks spending the rate between them), so where no difference is real it reads as one
    at most 5% of the time; the table's verdicts hold a 5% false discovery rate."""
    table = comparison.decisions()
    made = table[table["decision"].isin(list(DECIDED))]
    if made.empty and not comparison.tested:
        return []
    parts = []
    if len(made):
        differ = int(made["decision"].isin(["gains", "loses"]).sum())
        looks = ", its looks included" if comparison.sequential else ""
        parts.append(
            f"the findings above rest on {format_count(len(made), 'decision')}, {differ} of "
            f"them a difference and {len(made) - differ} an equivalence, each at a 5% error "
            f"rate{looks}: were none of them true, about {ALPHA * len(made):.1f} would still "
            "read as made"
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
    undecided = [f"- {f.text}" for f in findings if not f.stated]
    return "\n".join(["Findings:", *stated, "", "Undecided:", *undecided]) + "\n"
