"""Reading a run back: tidy tables, and one-line errors for files that can't be trusted."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness import run, store
from harness.cli import main
from harness.impls import Impl
from harness.results import ResultsError, load_run
from harness.workloads import parse_workload
from tests.conftest import TEST_WORKLOADS
from tests.test_runner import ONE_VALUE


@pytest.fixture
def small_run(host_impl: Impl, tmp_path: Path) -> Path:
    """A real two-benchmark run of the tiny workload on the host interpreter."""
    run_dir = store.new_run_dir(tmp_path)
    tiny = parse_workload(TEST_WORKLOADS / "tiny.py")
    store.write_manifest(run_dir, [host_impl], "test",
                         {"models": ["serial", "threads"], "workers": [1, 2]},
                         [{"name": "tiny", "category": "cpu"}])  # fmt: skip
    benches = run.plan([host_impl], [tiny], ["serial", "threads"], [1, 2])
    run.run_matrix(benches, {"host": host_impl.python}, run_dir, ONE_VALUE)
    return run_dir


def test_values_table_has_one_row_per_measured_value(small_run: Path) -> None:
    """Four cells x one process x two values gives eight tidy rows with their metadata."""
    values = load_run(small_run).values
    assert len(values) == 8
    assert set(values["model"]) == {"serial", "threads"}
    assert set(values["gil_enabled"]) == {1}
    assert (values["seconds"] > 0).all()


def test_corrupt_raw_file_is_named_with_what_to_do(small_run: Path) -> None:
    """A truncated pyperf file gives one line naming it and the session that re-measures it."""
    raw = small_run / "raw" / "host.json"
    raw.write_text(raw.read_text()[:100])
    with pytest.raises(ResultsError) as error:
        load_run(small_run)
    message = str(error.value)
    assert message.startswith(f"{raw} is corrupt (")
    assert message.endswith("re-run that implementation with 'nox -s bench-host'")
    assert "\n" not in message


def test_corrupt_outcome_line_is_named_by_line_number(small_run: Path) -> None:
    """A broken line in outcomes.jsonl is reported with its line number; nothing is rewritten."""
    outcomes = small_run / "outcomes.jsonl"
    outcomes.write_text(outcomes.read_text() + '{"impl": "ho\n')
    before = outcomes.read_bytes()
    with pytest.raises(ResultsError, match=r"outcomes\.jsonl:5 is not valid JSON"):
        load_run(small_run)
    assert outcomes.read_bytes() == before


def test_corrupt_paired_line_is_named_with_what_to_do(small_run: Path) -> None:
    """A broken paired-units line is reported by line number, with the way out."""
    paired = small_run / "raw" / "host.paired.jsonl"
    paired.write_text(paired.read_text() + '{"impl": "host", "seconds": "x"}\n')
    lines = len(paired.read_text().splitlines())
    with pytest.raises(ResultsError) as error:
        load_run(small_run)
    message = str(error.value)
    assert message.startswith(f"{paired}:{lines} is not a paired-units record (")
    assert message.endswith("and run the report again")


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
    paired = small_run / "raw" / "host.paired.jsonl"
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
    with pytest.raises(ResultsError, match=r"has format version 2; this gilbench reads version 1"):
        load_run(small_run)


def test_report_command_on_a_corrupt_run_exits_2_with_one_line(
    small_run: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`report` on a corrupt file prints one error line and exits 2, leaving the raw file."""
    raw = small_run / "raw" / "host.json"
    raw.write_text("{not json")
    assert main(["report", str(small_run)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("gilbench: error: ")
    assert raw.read_text() == "{not json"


def test_report_rebuilds_summary_from_stored_results(small_run: Path) -> None:
    """`report` writes summary.csv, summary.md and index.html from the raw files alone."""
    assert main(["report", str(small_run)]) == 0
    summary = (small_run / "summary.csv").read_text().splitlines()
    assert summary[0].startswith("impl,gil_enabled,workload,category,model,workers,")
    assert len(summary) == 5
    assert (small_run / "index.html").is_file()
