"""Sharding the matrix: whole workloads per shard, a union that is the plan, the estimates."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest

from harness.cli import main
from harness.provision.impls import Impl
from harness.run import matrix
from harness.run.bench import Outcome
from harness.run.plan import PROFILES, Bench, plan
from harness.run.progress import LogLines
from harness.run.shards import (
    GRAALPY_SETUP_S,
    SETUP_S,
    Costs,
    ShardError,
    assign,
    load_costs,
    parse_shard,
    plan_shards,
    shard,
)
from harness.run.workloads import load_workloads, select_workloads
from tests.helpers import QUICK

IMPLS = [
    Impl(id="3.14", family="cpython", python=Path(sys.executable)),
    Impl(id="pypy3.9", family="pypy", python=Path(sys.executable)),
    Impl(id="graalpy", family="graalpy", python=None, unavailable="not here"),
]


def _plan(sparse: bool = False) -> list[Bench]:
    models = ["serial", "threads", "processes"]
    # the default selection: the suite without its sized workloads (a variant per size)
    return plan(IMPLS, select_workloads(load_workloads(), []), models, [1, 2, 4], sparse)


@pytest.mark.parametrize("count", [1, 2, 3, 4, 7, 15])
@pytest.mark.parametrize("sparse", [False, True])
def test_the_shards_are_disjoint_and_together_are_the_plan(count: int, sparse: bool) -> None:
    """For each N, the N shards hold every planned cell exactly once, in the plan's order."""
    full = _plan(sparse)
    owner = assign(full, count)
    parts = [shard(full, k, owner) for k in range(1, count + 1)]
    assert sorted(b.cell for p in parts for b in p) == sorted(b.cell for b in full)
    assert sum(len(p) for p in parts) == len(full)
    assert all(p for p in parts)
    for part in parts:
        assert part == [b for b in full if b in part]


def test_a_shard_holds_whole_workloads_so_no_ratio_spans_two() -> None:
    """Every cell of a workload, all implementations and models, is in the same shard."""
    full = _plan()
    owner = assign(full, 4)
    checked = 0
    for k in range(1, 5):
        for bench in shard(full, k, owner):
            assert owner[bench.workload.name] == k
            checked += 1
    assert checked == len(full)  # every planned cell, in one shard or another
    loads = [len(shard(full, k, owner)) for k in range(1, 5)]
    assert max(loads) - min(loads) <= len(full) // len(owner)  # balanced to one workload


def test_the_assignment_depends_on_the_selection_alone() -> None:
    """Whatever implementations a machine has, the workloads go to the same shards."""
    alone = plan(IMPLS[:1], load_workloads(), ["serial", "threads"], [1, 2])
    every = plan(IMPLS, load_workloads(), ["serial", "threads"], [1, 2])
    assert assign(alone, 5) == assign(every, 5)
    assert set(assign(every, 5)) == {w.name for w in load_workloads()}  # each one assigned


def test_more_shards_than_workloads_is_refused_with_what_can_be_had() -> None:
    """A shard holds whole workloads: asking for more shards than workloads says the most."""
    with pytest.raises(ShardError, match=r"^16 shards for 15 workloads: .*--shards 15 or fewer$"):
        assign(_plan(), 16)


@pytest.mark.parametrize(("text", "says"), [
    ("3", "--shard takes K/N, e.g. 2/5, not '3'"),
    ("a/b", "--shard takes K/N, e.g. 2/5, not 'a/b'"),
    ("0/3", "--shard 0/3: K must be between 1 and N"),
    ("4/3", "--shard 4/3: K must be between 1 and N"),
])  # fmt: skip
def test_a_shard_that_is_no_k_of_n_says_what_is_wanted(text: str, says: str) -> None:
    """--shard takes K/N with 1 <= K <= N; anything else is one line."""
    with pytest.raises(ShardError) as error:
        parse_shard(text)
    assert str(error.value) == says


def test_a_bad_shard_is_one_line_and_exit_2_before_anything_is_built(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """compare --shard 16/16 on 15 workloads: one line, exit 2, nothing provisioned."""
    assert main(["compare", "--shard", "16/16"]) == 2
    err = capsys.readouterr().err
    assert err == ("gilbench: error: 16 shards for 15 workloads: a shard holds whole "
                   "workloads, so choose --shards 15 or fewer\n")  # fmt: skip


def test_costs_come_from_a_finished_run_per_implementation() -> None:
    """The frozen quick run's medians price each implementation's first and later passes."""
    costs = load_costs(QUICK)
    first, later = costs.by_impl["jython2.7"]
    assert first > later > costs.by_impl["3.14"][1]  # calibration; a JVM start each
    assert costs.source.endswith("outcomes.jsonl")
    assert load_costs(None).by_impl == {}


def test_the_plan_estimates_each_shard_and_flags_one_over_the_job_limit() -> None:
    """Cells x (first pass + later passes) per shard; unavailable cells cost nothing."""
    full = _plan()
    costs = Costs({"3.14": (3.0, 2.0), "pypy3.9": (5.0, 4.0)}, "test")
    profile = PROFILES["quick"]  # 3 passes
    result = plan_shards(full, 3, profile, costs, limit_s=30 * 60)
    rows = result["shards"]
    assert isinstance(rows, list) and [r["shard"] for r in rows] == ["1/3", "2/3", "3/3"]
    for row in rows:
        mine = shard(full, row["index"], assign(full, 3))
        by_impl = {i.id: sum(b.impl.id == i.id for b in mine) for i in IMPLS}
        expected = by_impl["3.14"] * (3 + 2 * 2) + by_impl["pypy3.9"] * (5 + 2 * 4)
        assert row["estimate_s"] == expected
        assert row["over_limit"] == (expected + result["setup_s"] > 30 * 60)  # type: ignore[operator]
    assert json.loads(json.dumps(result)) == result


def test_each_worker_process_of_a_graalpy_cell_costs_a_jvm_start_and_its_warm_up() -> None:
    """On GraalPy, a pass of processes at 4 workers costs 5 of its serial passes (a JVM
    each), threads at 4 one; on CPython, processes cost what serial does."""
    graal = Impl(id="graalpy3.12", family="graalpy", python=None)
    work = load_workloads()[0]
    for costs in (Costs({}, "defaults"), Costs({"graalpy3.12": (30.0, 20.0)}, "measured")):
        serial = costs.of(Bench(graal, work, "serial", 1))
        assert costs.of(Bench(graal, work, "processes", 4)) == (serial[0] * 5, serial[1] * 5)
        assert costs.of(Bench(graal, work, "processpool", 2)) == (serial[0] * 3, serial[1] * 3)
        assert costs.of(Bench(graal, work, "threads", 4)) == serial
    cpython = IMPLS[0]
    defaults = Costs({}, "defaults")
    assert defaults.of(Bench(cpython, work, "processes", 4)) == defaults.of(
        Bench(cpython, work, "serial", 1))  # fmt: skip


def test_a_graalpy_cell_of_processes_gets_the_timeout_once_per_jvm_it_starts() -> None:
    """processes at 2 workers on GraalPy: three JVMs, so three times the profile's
    timeout, and three times its serial cell expected; on CPython, the timeout."""
    graal = Impl(id="graalpy3.12", family="graalpy", python=None)
    work = load_workloads()[0]
    profile = PROFILES["quick"]
    seen = matrix.Seen()
    processes = Bench(graal, work, "processes", 2)
    assert seen.bound(processes, profile, 3)[0] == 3 * profile.timeout_s
    seen.took[("graalpy3.12", work.name, "serial", 1)] = (50.0, 3)
    assert seen.bound(processes, profile, 3) == (3 * profile.timeout_s, 150.0)
    assert seen.bound(Bench(graal, work, "threads", 2), profile, 3) == (profile.timeout_s, 100.0)
    assert seen.bound(Bench(IMPLS[0], work, "processes", 2), profile, 3)[0] == profile.timeout_s


@pytest.mark.parametrize("available", [True, False])
def test_a_shard_that_measures_graalpy_is_planned_with_its_provisioning(available: bool) -> None:
    """Each shard's setup counts GraalPy's jars and first JVM start when it measures it."""
    graal = Impl(id="graalpy3.12", family="graalpy", python=None,
                 unavailable="" if available else "no JDK 25")  # fmt: skip
    benches = plan([IMPLS[0], graal], load_workloads()[:2], ["serial", "processes"], [1, 2])
    result = plan_shards(benches, 2, PROFILES["quick"], Costs({}, "defaults"))
    setup = SETUP_S + (GRAALPY_SETUP_S if available else 0.0)
    rows = result["shards"]
    assert isinstance(rows, list) and len(rows) == 2
    assert all(abs(r["with_setup_s"] - r["estimate_s"] - setup) <= 1 for r in rows)


def test_plan_json_lists_the_shards_and_what_the_workflow_needs(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """compare --plan --json prints shards with names, and writes GITHUB_OUTPUT on CI."""
    output = tmp_path / "github-output"
    monkeypatch.setenv("GITHUB_OUTPUT", str(output))
    argv = ["compare", "--plan", "--shards", "5", "--json", "--quick", "--costs", str(QUICK)]
    assert main(argv) == 0
    result = json.loads(capsys.readouterr().out)
    assert [r["name"] for r in result["shards"]] == ["shard-1-of-3", "shard-2-of-3", "shard-3-of-3"]
    assert result["note"].startswith("asked for 5 shards; the selection has 3 workloads")
    assert result["costs"] == f"measured: {QUICK / 'outcomes.jsonl'}"
    lines = output.read_text().splitlines()
    assert json.loads(lines[0].removeprefix("matrix=")) == result["shards"]
    assert lines[1] == f"cpython_key={result['cpython_key']}"


def test_ci_logs_get_a_line_every_5_percent_or_30_s_with_failures_at_once() -> None:
    """Off a terminal: progress lines by count or time, and each failure as it happens."""
    now = [0.0]
    out = io.StringIO()
    lines = LogLines(40, out, clock=lambda: now[0])  # 5% of 40: a line every 2
    bench = _plan()[0]
    for done in range(1, 6):
        now[0] = done * 10.0
        failed = Outcome("crashed", "boom", 1.0) if done == 3 else Outcome("ok", "", 1.0)
        lines(bench, failed)
    now[0] = 95.0  # 45 s after the last line: due by time
    lines(bench, None)
    assert out.getvalue().splitlines() == [
        "gilbench: 2/40 benchmarks (5%), 0 failed, about 6m20s left",
        f"gilbench: 3.14 {bench.name}: crashed: boom",
        "gilbench: 4/40 benchmarks (10%), 1 failed, about 6m00s left",
        "gilbench: 6/40 benchmarks (15%), 1 failed, about 8m58s left",
    ]
