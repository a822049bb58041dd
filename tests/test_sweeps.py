"""Sized workloads on the host: sizes read and named, planned, compared and stated."""

# The findings print multiplication and micro signs for their readers; the tests quote them.
# ruff: noqa: RUF001

from __future__ import annotations

import json
from typing import Any

import pytest

from harness.compare.cells import summarize
from harness.compare.sweeps import crossing
from harness.compare.verdicts import Comparison, compare_run
from harness.provision.impls import Impl
from harness.report.build import build_report
from harness.report.markdown import format_markdown
from harness.report.sweepcharts import payload_charts
from harness.report.sweepfindings import format_payload, format_tasks
from harness.results import records
from harness.run import sizes
from harness.run.bench import calibration_args
from harness.run.plan import PAYLOAD_MODELS, POOL_MODELS, QUICK_MODELS, QUICK_TAG, plan
from harness.run.workloads import load_workloads, select_workloads
from tests.helpers import JITTER, QUICK, Cell, impl_record, make_run


@pytest.mark.parametrize(("text", "sweep", "sizes_", "labels"), [
    ("0,1KiB,64KiB,1MiB", sizes.PAYLOAD, (0, 1024, 65536, 1048576), "0B 1KiB 64KiB 1MiB"),
    ("1536, 512B 1.5KiB", sizes.PAYLOAD, (512, 1536), "512B 1536B"),
    ("10us,100us,1ms,10ms", sizes.TASK_SIZE, (1e-05, 1e-04, 1e-03, 1e-02), "10us 100us 1ms 10ms"),
    ("2µs 0.5s 1.5ms", sizes.TASK_SIZE, (2e-06, 1.5e-03, 0.5), "2us 1500us 500ms"),
])  # fmt: skip
def test_sizes_are_read_sorted_and_named_as_the_variants_carry_them(
    text: str, sweep: str, sizes_: tuple[float, ...], labels: str
) -> None:
    """Sizes come back sorted without repeats, and each name reads back as its size."""
    found = sizes.parse_sizes(text, sweep)
    assert found == sizes_
    names = [sizes.variant_name("w", s, sweep) for s in found]
    assert " ".join(n.split("@")[1] for n in names) == labels
    assert [sizes.size_of(n) for n in names] == [(sweep, s) for s in found]


def test_a_name_without_a_size_has_none() -> None:
    """Only a variant's name carries a size."""
    assert sizes.size_of("nbody") is None
    assert sizes.size_of("odd@name") is None
    assert sizes.base_name("payload_bytes@64KiB") == "payload_bytes"


IMPLS = [Impl(id="3.14", family="cpython", python=None)]


def test_the_quick_selection_and_its_plan_are_what_they_were() -> None:
    """--quick's workloads are unsized, so planning each workload's own models changes
    nothing: the same cells as the models given for all."""
    quick = select_workloads(load_workloads(), [QUICK_TAG])
    assert not any(w.sweep for w in quick)
    cells = [b.cell for b in plan(IMPLS, quick, QUICK_MODELS, (1, 2), True, by_workload=True)]
    assert cells == [b.cell for b in plan(IMPLS, quick, QUICK_MODELS, (1, 2), True)]


def test_sized_workloads_are_measured_when_asked_for_one_variant_a_size() -> None:
    """The default selection leaves them out; named, each size is a workload of its own."""
    assert not any(w.sweep for w in select_workloads(load_workloads(), []))
    chosen = select_workloads(load_workloads(), ["payload_bytes", "task_size"], (0, 1024))
    assert [w.name for w in chosen] == [
        "payload_bytes@0B", "payload_bytes@1KiB",
        "task_size@10us", "task_size@100us", "task_size@1ms", "task_size@10ms",
    ]  # fmt: skip
    assert [w.size for w in chosen[:2]] == [0, 1024]
    every = {w.name for w in select_workloads(load_workloads(), ["all"])}
    assert {"nbody", "payload_bytes@1MiB", "task_size@10ms"} <= every


def test_a_payload_gets_its_variants_and_small_tasks_get_the_pools() -> None:
    """With no model named, a payload workload adds the variants that move its data another
    way; a task-size workload is serial and the pools, each pool on 1 worker too."""
    chosen = select_workloads(load_workloads(), ["payload_bytes", "task_size"], (1024,), (1e-3,))
    cells = [b.cell[1:] for b in plan(IMPLS, chosen, QUICK_MODELS, (1, 2), True, True)]
    payload = [(m, n) for w, m, n in cells if w == "payload_bytes@1KiB"]
    assert payload == [("serial", 1), *((m, 2) for m in [*QUICK_MODELS[1:], *PAYLOAD_MODELS])]
    tasks = [(m, n) for w, m, n in cells if w == "task_size@1ms"]
    assert tasks == [("serial", 1), *((m, n) for m in POOL_MODELS for n in (1, 2))]


def _run(medians: dict[Cell, float]) -> Any:
    impls = [impl_record("3.14t", 0, True)]
    cells = {cell: list(t * JITTER) for cell, t in medians.items()}
    categories = {w: "x" for _, w, _, _ in medians}
    return make_run(cells, impls, categories)


PAYLOAD_RUN = {
    ("3.14t", "payload_bytes@0B", "serial", 1): 0.090,
    ("3.14t", "payload_bytes@0B", "threads", 2): 0.050,
    ("3.14t", "payload_bytes@0B", "processes", 2): 0.050,
    ("3.14t", "payload_bytes@1MiB", "serial", 1): 0.090,
    ("3.14t", "payload_bytes@1MiB", "threads", 2): 0.050,
    ("3.14t", "payload_bytes@1MiB", "processes", 2): 0.080,
}


def test_processes_losing_to_threads_from_a_payload_is_a_decision_with_its_interval() -> None:
    """Equivalent at 0B, 0.63x threads' throughput at 1MiB: "loses from 1MiB", with both
    figures and their intervals; the rows are Comparison.decisions' own."""
    comparison = compare_run(summarize(_run(PAYLOAD_RUN)))
    rows = records(comparison.payload)
    assert [(r["label"], r["model"], r["decision"]) for r in rows] == [
        ("0B", "processes", "equivalent"), ("1MiB", "processes", "loses")]  # fmt: skip
    assert rows[1]["ratio"] == pytest.approx(0.625, rel=1e-3)
    (finding,) = format_payload(comparison)
    assert finding.text.startswith(
        "Moving data (payload_bytes, each model against threads) on 3.14t: processes loses "
        "from 1MiB (0.63× threads' throughput, 95% CI 0.6"
    )
    assert "; at 0B equivalent: 1.00× threads' throughput, 95% CI " in finding.text
    decided = comparison.decisions()
    stated = decided[decided["topic"] == "payload"]
    assert list(stated["subject"]) == [
        "payload_bytes processes against threads on 3.14t at 0B",
        "payload_bytes processes against threads on 3.14t at 1MiB",
    ]


TASK_RUN = {
    ("3.14t", "task_size@10us", "serial", 1): 1e-5,
    ("3.14t", "task_size@10us", "threadpool", 1): 3e-5,
    ("3.14t", "task_size@10us", "processpool", 1): 1.1e-4,
    ("3.14t", "task_size@10us", "threadpool", 2): 3e-5,
    ("3.14t", "task_size@10us", "processpool", 2): 1.1e-4,
    ("3.14t", "task_size@10ms", "serial", 1): 1e-2,
    ("3.14t", "task_size@10ms", "threadpool", 1): 1.002e-2,
    ("3.14t", "task_size@10ms", "processpool", 1): 1.01e-2,
    ("3.14t", "task_size@10ms", "threadpool", 2): 2e-2,
    ("3.14t", "task_size@10ms", "processpool", 2): 1.02e-2,
}


@pytest.fixture(scope="module")
def tasks() -> Comparison:
    return compare_run(summarize(_run(TASK_RUN)))


def test_each_pool_s_per_task_overhead_is_its_one_worker_time_over_serial(
    tasks: Comparison,
) -> None:
    """10 us tasks at 30 us a task on one worker: 20 us of overhead, stated with its interval."""
    rows = {(r["model"], r["label"]): r for r in records(tasks.task_overhead)}
    assert rows[("threadpool", "10us")]["ratio"] == pytest.approx(3.0, rel=1e-3)
    assert rows[("threadpool", "10us")]["overhead_s"] == pytest.approx(2e-5, rel=1e-3)
    assert rows[("processpool", "10us")]["overhead_s"] == pytest.approx(1e-4, rel=1e-3)
    text = format_tasks(tasks)[0].text
    assert text.startswith("Per-task overhead on 3.14t (task_size, one worker, its smallest "
                           "tasks): threadpool 20 µs a task (95% CI ")  # fmt: skip
    assert "; processpool 100 µs a task (95% CI " in text


def test_from_what_task_size_a_pool_pays_off_and_breaks_even_with_threads(
    tasks: Comparison,
) -> None:
    """The process pool loses at 10 us and gains at 10 ms, against serial and against the
    thread pool (which, held by a lock here, never pays off)."""
    texts = [f.text for f in format_tasks(tasks)]
    payoff = next(t for t in texts if "against serial" in t)
    assert (
        "processpool pays off from 10ms (10 ms a task here) (1.96× serial's throughput" in payoff
    )  # the size names the work; the time is this implementation's
    assert "; at 10us (10 µs a task here) loses: 0.18× serial's throughput" in payoff
    assert ("threadpool doesn't pay off up to 10ms (10 ms a task here) (at 10ms (10 ms a task "
            "here) equivalent: 1.00×") in payoff  # fmt: skip
    threads = next(t for t in texts if "against threadpool" in t)
    assert "processpool breaks even from 10ms (10 ms a task here) (1.96× threadpool's" in threads


@pytest.mark.parametrize(("decisions", "first", "below"), [
    (["loses", "loses"], 0, None),
    (["equivalent", "loses"], 1, 0),
    (["loses", "undecided", "loses"], 2, 1),
    (["loses", "equivalent"], None, 1),
])  # fmt: skip
def test_crossing_is_the_run_of_largest_sizes_decided_alike(
    decisions: list[str], first: int | None, below: int | None
) -> None:
    """The step is where the run of largest sizes decided one way starts."""
    rows = [{"decision": d, "size": i} for i, d in enumerate(decisions)]
    found = crossing(rows, {"loses"})
    assert [r["size"] if r else None for r in found] == [first, below]


def test_the_payload_chart_draws_throughput_by_size_a_line_per_model() -> None:
    """One chart per implementation: sizes in order on x, a trace per model with its
    workers, each point a cell's throughput with its interval."""
    report = build_report(_run(PAYLOAD_RUN))
    (chart,) = payload_charts(report)
    figure = json.loads(chart["json"])
    names = [t["name"] for t in figure["data"]]
    assert names == ["serial (1 worker)", "threads (2 workers)", "processes (2 workers)"]
    assert figure["layout"]["xaxis"]["categoryarray"] == ["0B", "1MiB"]
    processes = figure["data"][2]
    assert processes["y"] == pytest.approx([2 / 0.05, 2 / 0.08], rel=1e-3)


def test_a_pool_calibrates_its_own_loops_rather_than_borrow_serial_s() -> None:
    """A pool's tasks each cost a hand-off: serial's loops would stretch every value, so a
    pool cell borrows none (threads, with one hand-off a round, still do)."""
    pypy = QUICK / "raw" / "pypy3.9.json"
    assert calibration_args(pypy, "nbody/threads/2") == ["--loops", "16"]
    assert calibration_args(pypy, "nbody/processpool/2") == []


def test_the_sentence_says_where_the_verdict_started_from() -> None:
    """With a size between, the smallest size's decision follows the step's two: equivalent
    at 0B, equivalent at 64KiB, losing at 1MiB."""
    middle = {(i, "payload_bytes@64KiB", m, n): t
              for (i, w, m, n), t in PAYLOAD_RUN.items() if w.endswith("@0B")}  # fmt: skip
    (finding,) = format_payload(compare_run(summarize(_run({**PAYLOAD_RUN, **middle}))))
    assert "processes loses from 1MiB (0.63× threads' throughput, 95% CI " in finding.text
    assert "; at 64KiB equivalent: 1.00× threads' throughput, 95% CI " in finding.text
    assert finding.text.endswith("; at 0B equivalent: 1.00× threads' throughput, 95% CI "
                                 "1.00–1.00×).")  # fmt: skip


def test_summary_md_tables_each_sweep_a_column_per_size() -> None:
    """summary.md: a row per implementation and model, each size's ratio and decision."""
    text = format_markdown(build_report(_run(PAYLOAD_RUN)))
    head = "## Moving data: each model's throughput over threads', by payload\n"
    assert head in text
    table = text.split(head, 1)[1].split("\n\n", 1)[0].strip().splitlines()
    assert table[0].replace(" ", "") == "|impl|workload|model|0B|1MiB|"
    assert table[2].replace(" ", "") == "|3.14t|payload_bytes|processes|1.00×equivalent|0.63×loses|"
