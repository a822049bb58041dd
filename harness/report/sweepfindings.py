"""The sized workloads' findings: from what payload each model loses to threads, what each
pool costs a task, and from what task size it pays off and breaks even with threads.

Each sentence states the decisions of compare/sweeps.py's rows (Comparison.decisions is
their one source) with their intervals, per implementation: "from X" is said where every
size from X up is decided so, and the size below X is quoted with its own decision, so
that the step is bracketed by two decided figures, then the smallest size's, where the
verdict started from. Where the size below is undecided, the step may lie lower ("from X
or below"). A figure that leaves the answer open gets an undecided finding of its own.
"""

# Typographic multiplication and micro signs are meant for the report's readers.
# ruff: noqa: RUF001

from __future__ import annotations

import math
from collections.abc import Collection
from typing import Any

import pandas as pd

from harness.compare.decisions import DECIDED
from harness.compare.sweeps import crossing
from harness.compare.verdicts import Comparison
from harness.report.findings import Finding, _undecided
from harness.report.format import format_interval, format_level, format_times
from harness.results import records


def _size(row: dict[str, Any]) -> str:
    """``1MiB``; a task size with the task's time on this implementation: ``10ms (0.3 ms
    a task here)``, since the size names the work by CPython 3.14's time."""
    task = float(row.get("task_s", math.nan))
    return (
        row["label"] if math.isnan(task) else f"{row['label']} ({format_micro(task)} a task here)"
    )


def _figure(row: dict[str, Any], versus: str) -> str:
    return f"{format_times(row['ratio'])} {versus}, {format_interval(row)}"


def _series(table: pd.DataFrame) -> list[tuple[tuple[str, str, str], list[dict[str, Any]]]]:
    """(impl, workload, model) -> its rows, smallest size first, those with a figure."""
    out = []
    for key, group in table.groupby(["impl", "workload", "model"], sort=False):
        rows = records(group[group["ratio"].notna()].sort_values("size"))
        if rows:
            out.append(((str(key[0]), str(key[1]), str(key[2])), rows))
    return out


def _step(rows: list[dict[str, Any]], words: Collection[str], verb: str, never: str,
          versus: str) -> tuple[str, dict[str, Any] | None]:  # fmt: skip
    """One series as a clause: ``loses from 1MiB (...); at 64KiB equivalent (...)``; or the
    undecided row that leaves it open."""
    first, below = crossing(rows, words)
    if first is None:
        last = rows[-1]
        if last["decision"] not in DECIDED:
            return "", last
        return f"{never} up to {_size(last)} (at {_size(last)} {last['decision']}: " \
               f"{_figure(last, versus)})", None  # fmt: skip
    if below is None:
        return f"{verb} at every size, from {_size(first)} ({_figure(first, versus)})", None
    lower = " or below" if below["decision"] not in DECIDED else ""
    smallest = rows[0]  # the size that moves least: where the verdict started from
    start = "" if smallest is below else (f"; at {_size(smallest)} {smallest['decision']}: "
                                          f"{_figure(smallest, versus)}")  # fmt: skip
    return (
        f"{verb} from {_size(first)}{lower} ({_figure(first, versus)}; at "
        f"{_size(below)} {below['decision']}: {_figure(below, versus)}{start})"
    ), None


def _by_impl(table: pd.DataFrame, topic: str, head: str, words: Collection[str], verb: str,
             never: str, versus: str) -> list[Finding]:  # fmt: skip
    stated: dict[tuple[str, str], list[str]] = {}
    out: list[Finding] = []
    for (impl, workload, model), rows in _series(table):
        clause, open_ = _step(rows, words, verb, never, versus)
        if open_ is not None:
            what = f"{head.format(workload=workload)} on {impl}: {model} at {open_['label']}"
            out.append(_undecided(topic, what, open_, f"{format_times(open_['ratio'])} "
                                                      f"{versus}"))  # fmt: skip
        else:
            stated.setdefault((impl, workload), []).append(f"{model} {clause}")
    found = [Finding(topic, f"{head.format(workload=workload)} on {impl}: " + "; ".join(parts)
                     + ".") for (impl, workload), parts in stated.items()]  # fmt: skip
    return found + out


def format_payload(comparison: Comparison) -> list[Finding]:
    """From what payload size each model loses to threads, per implementation."""
    return _by_impl(comparison.payload, "payload",
                    "Moving data ({workload}, each model against threads)", {"loses"},
                    "loses", "doesn't lose", "threads' throughput")  # fmt: skip


def format_tasks(comparison: Comparison) -> list[Finding]:
    """Each pool's per-task overhead, and from what task size it pays off and breaks even
    with the thread pool."""
    return [
        *format_overhead(comparison),
        *_by_impl(comparison.task_payoff, "task payoff",
                  "Small tasks ({workload}, each pool against serial)", {"gains"},
                  "pays off", "doesn't pay off", "serial's throughput"),
        *_by_impl(comparison.task_threads, "task threads",
                  "Small tasks ({workload}, each pool against threadpool)",
                  {"gains", "equivalent"}, "breaks even", "doesn't break even",
                  "threadpool's throughput"),
    ]  # fmt: skip


def format_micro(seconds: float) -> str:
    """``25 µs``, ``1.2 ms``; a dash when there is none."""
    if math.isnan(seconds):
        return "–"
    if abs(seconds) >= 1e-3:
        return f"{seconds * 1e3:.3g} ms"
    return f"{seconds * 1e6:.3g} µs"


def format_overhead(comparison: Comparison) -> list[Finding]:
    """What one task costs each pool on top of its work, from its smallest tasks (where
    the overhead is most of the time, so best resolved), on one worker."""
    stated: dict[tuple[str, str], list[str]] = {}
    out: list[Finding] = []
    for (impl, workload, model), rows in _series(comparison.task_overhead):
        row = rows[0]
        what = f"Per-task overhead of {model} on {impl} ({workload}, tasks of {row['label']})"
        if row["decision"] not in DECIDED:
            out.append(
                _undecided(
                    "task overhead", what, row, f"{format_times(row['ratio'])} a task's serial time"
                )
            )
            continue
        spent = (f"{format_micro(row['overhead_s'])} a task ({format_level(row['confidence'])} CI "
                 f"{format_micro(row['overhead_low_s'])} to {format_micro(row['overhead_high_s'])}"
                 f"; {_figure(row, 'the task alone')}, which took "
                 f"{format_micro(row['task_s'])})")  # fmt: skip
        if row["decision"] == "equivalent":
            spent = f"none beyond the margin ({_figure(row, 'the task alone')})"
        stated.setdefault((impl, workload), []).append(f"{model} {spent}")
    found = [Finding("task overhead", f"Per-task overhead on {impl} ({workload}, one "
                     f"worker, its smallest tasks): " + "; ".join(parts) + ".")
             for (impl, workload), parts in stated.items()]  # fmt: skip
    return found + out


def _pivot(table: pd.DataFrame, cell: Any) -> pd.DataFrame:
    """One row per implementation, workload and model; a column per size, smallest first,
    each ``cell(row)``."""
    labels = list(dict.fromkeys(table.sort_values("size")["label"]))
    out = []
    for (impl, workload, model), group in table.groupby(["impl", "workload", "model"],
                                                        sort=False):  # fmt: skip
        line = {"impl": impl, "workload": workload, "model": model}
        line.update({str(r["label"]): cell(r) for r in records(group)})
        out.append(line)
    return pd.DataFrame(out, columns=["impl", "workload", "model", *labels]).fillna("")


def _verdict(row: dict[str, Any]) -> str:
    return f"{format_times(row['ratio'])} {row['decision']}"


def format_sweep_tables(comparison: Comparison) -> list[tuple[str, pd.DataFrame]]:
    """summary.md's tables of the sized workloads, titled: each model's throughput over
    threads' by payload; each pool's overhead a task on one worker, its speedup over serial
    and its throughput over the thread pool's, by task size. Empty when none was run."""
    tables = [
        ("Moving data: each model's throughput over threads', by payload",
         comparison.payload, _verdict),
        ("Small tasks: each pool's overhead a task, on one worker", comparison.task_overhead,
         lambda r: f"{format_micro(r['overhead_s'])} ({r['decision']})"),
        ("Small tasks: each pool's speedup over serial", comparison.task_payoff, _verdict),
        ("Small tasks: each pool's throughput over threadpool's", comparison.task_threads,
         _verdict),
    ]  # fmt: skip
    return [(title, _pivot(t, cell)) for title, t, cell in tables if len(t)]
