"""Reading a run back: tidy tables, and one-line errors for files that can't be trusted."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from harness import store
from harness.cli import main
from harness.provision.impls import Impl
from harness.results import NOT_REACHED, ResultsError, assemble_run, load_run
from harness.run.matrix import run_matrix
from harness.run.plan import plan
from harness.run.workloads import parse_workload
from tests.helpers import (
    LEGACY,
    ONE_VALUE,
    TEST_WORKLOADS,
    impl_record,
    make_run,
    paired_of,
    raw_of,
)

pytestmark = pytest.mark.real  # it runs real interpreters: never beside another test


@pytest.fixture
def small_run(host_impl: Impl, tmp_path: Path) -> Path:
    """A real four-benchmark run of the tiny workload on the host interpreter."""
    run_dir = store.new_run_dir(tmp_path)
    tiny = parse_workload(TEST_WORKLOADS / "tiny.py")
    benches = plan([host_impl], [tiny], ["serial", "threads"], [1, 2])
    manifest = store.make_manifest(run_dir.name, [host_impl], "test",
                                   {"models": ["serial", "threads"], "workers": [1, 2]},
                                   [{"name": "tiny", "category": "cpu"}],
                                   [b.cell for b in benches])  # fmt: skip
    store.write_manifest(run_dir, manifest)
    run_matrix(benches, {"host": host_impl.python}, run_dir, ONE_VALUE)
    return run_dir


def test_values_table_has_one_row_per_measured_value(small_run: Path) -> None:
    """Four cells x one process x two values gives eight tidy rows with their metadata."""
    values = load_run(small_run).values
    assert len(values) == 8
    assert set(values["model"]) == {"serial", "threads"}
    assert set(values["gil_enabled"]) == {1}
    assert (values["seconds"] > 0).all()


def test_a_corrupt_raw_piece_is_skipped_named_and_its_cell_marked(small_run: Path) -> None:
    """A truncated piece is one problem naming it and the session that re-measures it; the
    report still renders, the cell it hit is marked and the other cells are intact."""
    raw = raw_of(small_run, "host")[0]
    raw.write_text(raw.read_text()[:100])
    run = load_run(small_run)
    (problem,) = run.problems
    assert problem.startswith(f"{raw} is corrupt (") and "\n" not in problem
    assert problem.endswith("its cells are marked in the report; measure them again with "
                            "'nox -s bench-host'")  # fmt: skip
    (cell,) = run.damaged
    status = run.cells.set_index(["impl", "workload", "model", "workers"])["detail"]
    assert status[cell] == f"damaged: {raw.relative_to(small_run)} is corrupt"
    assert len(run.values) == 6  # the other three cells' values, untouched
    assert main(["report", str(small_run)]) == 0
    assert (small_run / "index.html").is_file()


def test_a_piece_no_outcome_line_vouches_for_is_not_counted(small_run: Path) -> None:
    """The attempt a kill cut off, even if its piece is whole, is not part of the run: the
    report counts what resume would keep, and says how to measure it again."""
    vouched = raw_of(small_run, "host")[0]
    cut = vouched.with_name("0009" + vouched.name[4:])
    cut.write_bytes(vouched.read_bytes())
    run = load_run(small_run)
    assert len(run.values) == 8
    (problem,) = run.problems
    resume = f"'nox -s compare -- --resume {small_run.name}'"
    assert problem == (f"{cut} has no outcome line (its attempt was cut off), skipped: "
                       f"{resume} measures it again")  # fmt: skip


def test_a_garbage_outcome_line_is_skipped_and_named_by_line_number(small_run: Path) -> None:
    """A broken line in outcomes.jsonl is one problem with its line number; nothing is
    rewritten, and every other line counts."""
    outcomes = small_run / "outcomes.jsonl"
    outcomes.write_text(outcomes.read_text() + '{"impl": "ho\n')
    before = outcomes.read_bytes()
    run = load_run(small_run)
    (problem,) = run.problems
    assert problem.startswith(f"{outcomes}:5 is not valid JSON (")
    assert problem.endswith("fix or delete that line (the raw pyperf files are untouched), then "
                            "'nox -s report'")  # fmt: skip
    assert len(run.outcomes) == 4 and outcomes.read_bytes() == before


def test_a_corrupt_paired_line_is_skipped_and_named_with_what_to_do(small_run: Path) -> None:
    """A broken paired-units line is one problem by line number, with the way out."""
    paired = paired_of(small_run, "host")[0]
    paired.write_text(paired.read_text() + '{"impl": "host", "seconds": "x"}\n')
    lines = len(paired.read_text().splitlines())
    (problem,) = load_run(small_run).problems
    assert problem.startswith(f"{paired}:{lines} is not a paired-units record (")
    assert problem.endswith("then 'nox -s report'")


def test_paired_units_are_read_per_value(small_run: Path) -> None:
    """Every parallel cell's values come with as many paired serial times; serial/1 has none."""
    run = load_run(small_run)
    counts = run.paired.groupby(["model", "workers"]).size().to_dict()
    assert counts == {("serial", 2): 2, ("threads", 1): 2, ("threads", 2): 2}


def test_worker_spread_is_read_per_value_for_parallel_workers_only(small_run: Path) -> None:
    """threads/2 values carry slowest/quickest worker (>= 1); serial and 1 worker carry NaN."""
    paired = load_run(small_run).paired.set_index(["model", "workers"])
    assert (paired.loc[("threads", 2), "worker_spread"] >= 1).all()
    assert paired.loc[("threads", 1), "worker_spread"].isna().all()
    assert paired.loc[("serial", 2), "worker_spread"].isna().all()


def test_paired_lines_from_before_busy_times_read_as_nan(small_run: Path) -> None:
    """A paired line without busy times (an older run) still joins, with no spread."""
    for paired in paired_of(small_run, "host"):
        lines = [json.loads(line) for line in paired.read_text().splitlines()]
        for line in lines:
            del line["busy"]
        paired.write_text("".join(json.dumps(line) + "\n" for line in lines))
    run = load_run(small_run)
    assert len(run.paired) == 6 and run.paired["worker_spread"].isna().all()


def test_every_paired_unit_joins_the_value_it_was_timed_after(small_run: Path) -> None:
    """Each paired time names its worker process's run and value index; all of them join."""
    run = load_run(small_run)
    keys = ["impl", "workload", "model", "workers", "pairing", "value"]
    baseline = (run.values["model"] == "serial") & (run.values["workers"] == 1)
    assert len(run.paired) == (~baseline).sum() > 0  # a unit for every value but serial/1's
    assert (run.paired["pairing"] != "").all()
    joined = run.paired.merge(run.values[keys], on=keys, how="left", indicator=True)
    assert (joined["_merge"] == "both").all()
    assert len(joined) == len(run.paired)


def test_unknown_format_version_is_refused(small_run: Path) -> None:
    """A manifest from a newer gilbench is refused, not misread."""
    manifest = small_run / "run.json"
    data = json.loads(manifest.read_text())
    data["version"] = store.VERSION + 1
    manifest.write_text(json.dumps(data))
    says = (
        r"has format version 4; this gilbench reads versions 2 and 3: use the gilbench "
        "that wrote it"
    )
    with pytest.raises(store.StoreError, match=says + ", or measure again$"):
        load_run(small_run)


@pytest.mark.parametrize(
    ("damage", "says"),
    [
        ("{not json", "is unreadable (Expecting property name enclosed in double quotes: "
         "line 1 column 2 (char 1)); it can't be repaired: measure again with "
         "'nox -s compare'"),
        ('{"format": "gilbench-run", "version": 99}', "has format version 99; this gilbench "
         "reads versions 2 and 3: use the gilbench that wrote it, or measure again"),
        ("[1, 2]", "is not a gilbench run manifest; name a folder of reports/"),
        ("legacy", "is run format 1, from a gilbench that predates paired speedups; this "
         "gilbench reads formats 2 and 3: open the report already in that folder, or measure again "
         "with 'nox -s compare'"),
    ],
    ids=["corrupt", "unknown-version", "not-a-manifest", "old-format"],
)  # fmt: skip
def test_report_on_a_manifest_it_cannot_read_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], damage: str, says: str
) -> None:
    """A corrupt, unknown-version, foreign or format-1 run.json: one line saying what to do."""
    run_dir = tmp_path / "run"
    shutil.copytree(LEGACY, run_dir)
    if damage != "legacy":
        (run_dir / "run.json").write_text(damage)
    before = {p: p.read_bytes() for p in run_dir.rglob("*") if p.is_file()}
    assert main(["report", str(run_dir)]) == 2
    assert capsys.readouterr().err == f"gilbench: error: {run_dir / 'run.json'} {says}\n"
    assert {p: p.read_bytes() for p in run_dir.rglob("*") if p.is_file()} == before


def test_a_planned_cell_the_run_never_reached_is_missing(small_run: Path) -> None:
    """A cell in the plan with no outcome (the run ended first) reads as missing, with why."""
    manifest = json.loads((small_run / "run.json").read_text())
    manifest["plan"].append(["host", "tiny", "threads", 4])
    (small_run / "run.json").write_text(json.dumps(manifest))
    cells = load_run(small_run).cells.set_index(["impl", "workload", "model", "workers"])
    assert tuple(cells.loc[("host", "tiny", "threads", 4), ["status", "detail"]]) == (
        "missing", NOT_REACHED)  # fmt: skip
    assert (cells.drop(("host", "tiny", "threads", 4))["status"] == "ok").all()


def test_raw_metadata_of_an_unknown_gilbench_version_is_refused(small_run: Path) -> None:
    """A pyperf file whose gilbench metadata has another version is named, not misread."""
    raw = raw_of(small_run, "host")[0]
    text = re.sub(r'"gilbench_version": ?[0-9]+', '"gilbench_version": 7', raw.read_text())
    assert text != raw.read_text()
    raw.write_text(text)
    says = r"carries gilbench metadata version 7; this gilbench reads version 2 and older"
    with pytest.raises(ResultsError, match=says + ": measure that implementation again$"):
        load_run(small_run)


def test_report_command_on_a_torn_piece_prints_one_line_and_renders_the_rest(
    small_run: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`report` over a torn piece: one line naming it, the pages written, the file left."""
    raw = raw_of(small_run, "host")[0]
    raw.write_text("{not json")
    assert main(["report", str(small_run)]) == 0
    err = capsys.readouterr().err.splitlines()
    assert [line for line in err if "corrupt" in line] == [
        f"gilbench: {raw} is corrupt (JSONDecodeError: Expecting property name enclosed in "
        "double quotes: line 1 column 2 (char 1)), skipped: its cells are marked in the "
        "report; measure them again with 'nox -s bench-host'"
    ]
    assert raw.read_text() == "{not json" and (small_run / "index.html").is_file()


def test_report_rebuilds_summary_from_stored_results(small_run: Path) -> None:
    """`report` writes summary.csv, summary.md and index.html from the raw files alone."""
    assert main(["report", str(small_run)]) == 0
    summary = (small_run / "summary.csv").read_text().splitlines()
    assert summary[0].startswith("impl,gil_enabled,workload,category,model,workers,")
    assert len(summary) == 5
    assert (small_run / "index.html").is_file()


def test_a_pyperf_script_of_several_benchmarks_plans_one_cell_each() -> None:
    """A script planned as bm_x that defined benchmarks a and b has the rows bm_x:a, bm_x:b."""
    cells = {("host", "bm_x:a", "serial", 1): [0.1] * 3, ("host", "bm_x:b", "serial", 1): [0.2] * 3}
    run = make_run(cells, [impl_record("host", 1, False)], {"bm_x": "pyperf"})
    manifest = {**run.manifest, "plan": [["host", "bm_x", "serial", 1]]}
    outcomes = run.outcomes.assign(workload="bm_x").iloc[:1]
    planned = assemble_run(run.directory, manifest, outcomes, run.values).cells
    assert list(zip(planned["workload"], planned["status"], planned["category"], strict=True)) == [
        ("bm_x:a", "ok", "pyperf"), ("bm_x:b", "ok", "pyperf")]  # fmt: skip
