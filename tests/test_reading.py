"""`gilbench show` and `gilbench diff`: runs named by folder, id or latest; the answer at the
end of a report; two runs compared cell by cell; bad names in one line."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import pytest

from harness import store
from harness.cli import main
from harness.compare.cells import summarize
from harness.compare.diffruns import compare_runs
from harness.report.build import build_report
from harness.results import load_run
from tests.helpers import QUICK, impl_record, make_run, scaling_cells

RUN = "20261201-205151"  # the quick fixture's id


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A reports folder: the quick fixture under its id, a second run one second later,
    a nightly's merged run two folders down, and ``latest`` pointing at the first."""
    folder = tmp_path_factory.mktemp("reports")
    shutil.copytree(QUICK, folder / RUN)
    shutil.copytree(QUICK, folder / "20261202-090000")
    shutil.copytree(QUICK, folder / "nightly" / "1234" / "merged")
    (folder / "empty").mkdir()
    store.point_latest(folder / RUN)
    return folder


@pytest.mark.parametrize("name", ["latest", RUN, "20261201", "merged", "{reports}/" + RUN])
def test_show_prints_the_answer_of_a_run_named_by_folder_id_or_latest(
    reports: Path, name: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run's folder, its id (or a start no other id shares), a nested nightly's id and
    `latest` all print that run's answer table and its undecided figures."""
    monkeypatch.setattr("harness.report.terminal.PIPED_WIDTH", 250)  # no cell wraps
    assert main(["show", name.format(reports=reports), "--reports", str(reports)]) == 0
    out = " ".join(capsys.readouterr().out.split())
    answer = build_report(load_run(QUICK)).answer
    assert out.startswith(f"run {RUN}: 2 CPUs (AMD EPYC), profile quick")
    assert answer.title in out and answer.caveats in out
    assert all(text in out for row in answer.texts() for text in row)
    assert "Undecided (27), with what would decide each:" in out
    assert "and 17 more: 'gilbench report" in out


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["show", "nope"], "no run 'nope' in {reports}: name a run folder, a run's id"),
        (["show", "2026"], "'2026' could be any of 2 runs in {reports} (20261201-205151, "),
        (["show", "{reports}/empty"], "{reports}/empty holds no gilbench run (no run.json)"),
        (["diff", "latest", "nope"], "no run 'nope' in {reports}"),
        (["show", "latest", "--reports", "{reports}/empty"],
         "no latest run in {reports}/empty: measure one with 'gilbench compare'"),
    ],
)  # fmt: skip
def test_a_bad_run_name_is_one_line_and_exit_2(
    reports: Path, argv: list[str], said: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A name that finds no run, or several, says what to give in one line, exit 2."""
    args = [a.format(reports=reports) for a in argv]
    if "--reports" not in args:
        args += ["--reports", str(reports)]
    assert main(args) == 2
    found = capsys.readouterr()
    assert found.out == ""
    assert found.err.count("\n") == 1
    assert found.err.startswith(f"gilbench: error: {said.format(reports=reports)}")


def test_a_report_ends_with_its_answer_table(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`report` (and every run, which reports itself) prints the answer last: the table,
    the sentences, then the caveats with where they are detailed."""
    run_dir = tmp_path / RUN
    shutil.copytree(QUICK, run_dir)
    assert main(["report", str(run_dir)]) == 0
    lines = capsys.readouterr().out.splitlines()
    answer = build_report(load_run(run_dir)).answer
    assert lines[-1] == f"{answer.caveats} Details: {run_dir.resolve()}/index.html#caveats"
    assert lines[-1 - len(answer.sentences) : -1] == list(answer.sentences)
    assert lines[0].strip() == answer.title


def _two_runs() -> tuple[object, object]:
    impls = [impl_record("3.14", 1, False)]
    first = scaling_cells("3.14", "loop", one=0.1, threads2=0.1, processes2=0.1)
    second = scaling_cells("3.14", "loop", one=0.1, threads2=0.08, processes2=0.125)
    second[("3.14", "other", "serial", 1)] = first[("3.14", "loop", "serial", 1)]
    categories = {"loop": "cpu", "other": "cpu"}
    return (summarize(make_run(first, impls, {"loop": "cpu"})),
            summarize(make_run(second, impls, categories)))  # fmt: skip


def test_diff_decides_each_cell_from_the_two_runs_as_independent_samples() -> None:
    """B's threads 20% quicker gain 1.25x, its processes 25% slower lose 0.80x, the same
    values are equivalent at exactly 1x; a cell only B measured is counted apart."""
    first, second = _two_runs()
    diff = compare_runs(first, second)  # type: ignore[arg-type]
    rows = {(r.model, r.workers): r for r in diff.table.itertuples()}
    threads, processes, serial = rows[("threads", 2)], rows[("processes", 2)], rows[("serial", 1)]
    assert (threads.decision, math.isclose(threads.ratio, 1.25)) == ("gains", True)
    assert (processes.decision, math.isclose(processes.ratio, 0.8)) == ("loses", True)
    assert serial.decision == "equivalent" and math.isclose(serial.ratio, 1.0)
    assert serial.ci_low < 1 < serial.ci_high and threads.ci_low > 1.2
    assert diff.only_b == (("3.14", "other", "serial", 1),) and diff.only_a == ()
    assert diff.counts() == {"gains": 1, "loses": 1, "equivalent": 4, "undecided": 0}


def test_diff_prints_a_row_per_cell_and_says_what_else_differs(
    reports: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Two copies of a run: every measured cell compared, at exactly 1x; a run measured by
    another gilbench on another machine is said to differ in those too."""
    other = tmp_path / "other"
    shutil.copytree(QUICK, other)
    manifest = json.loads(store.manifest_path(other).read_text())
    manifest["gilbench"] = {"version": "9.9", "commit": "abc"}
    manifest["machine"]["cpu_model"] = "Other CPU"
    store.manifest_path(other).write_text(json.dumps(manifest))
    assert main(["diff", RUN, str(other), "--reports", str(reports)]) == 0
    out = " ".join(capsys.readouterr().out.split())
    measured = int((summarize(load_run(QUICK)).table["status"] == "ok").sum())
    assert f"{measured} cells in both runs: " in out
    assert "A was measured by gilbench 45fe88fcb4ce9017979dda8c29eec08c73db104c, B by abc" in out
    assert "A ran on AMD EPYC, 2 cores, x86_64, B on Other CPU, 2 cores, x86_64" in out
    assert out.count(" 1.00\u00d7 ") == measured
