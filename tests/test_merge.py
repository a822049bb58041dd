"""Merging shards: one run like any other, missing shards, re-runs, and untrusted archives."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from harness import store
from harness.cli import main
from harness.compare.cells import summarize
from harness.merge import MAX_FILE_BYTES, MergeError, merge
from harness.results import CELL, load_run
from tests.helpers import QUICK, split_run


@pytest.fixture
def three(tmp_path: Path) -> list[Path]:
    """The frozen quick run, cut into the 3 shards a nightly would have measured."""
    return split_run(QUICK, 3, tmp_path / "shards")


def _table(run_dir: Path) -> pd.DataFrame:
    return summarize(load_run(run_dir)).table.set_index(CELL).sort_index()


def test_merged_shards_give_the_unsharded_runs_cells_and_figures(
    three: list[Path], tmp_path: Path
) -> None:
    """Every cell, status and figure of the merged run is the unsharded run's."""
    merged = merge(three, tmp_path / "merged")
    ours, theirs = _table(merged), _table(QUICK)
    assert list(ours.index) == list(theirs.index)
    assert set(ours["machine"]) == {"1/3", "2/3", "3/3"} and set(theirs["machine"]) == {""}
    pd.testing.assert_frame_equal(ours.drop(columns="machine"), theirs.drop(columns="machine"))


def test_a_merged_run_reports_like_any_other_and_names_each_shards_machine(
    three: list[Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`merge` writes the report; the implementations page has a row per shard."""
    assert main(["merge", *map(str, three), "--into", str(tmp_path / "merged")]) == 0
    impls = (tmp_path / "merged" / "impls.html").read_text()
    assert impls.count('<td class="status-ok">merged</td>') == 3
    assert "Merged from 3 shards, one machine each." in impls
    index = (tmp_path / "merged" / "index.html").read_text()
    assert 'id="shards">Merged from 3 shards, one machine each.' in index
    assert index.count("Shard 1/3: ") == 1  # each machine's CPU speed, by itself


def test_a_missing_shard_leaves_its_cells_missing_and_the_rest_merges(
    three: list[Path], tmp_path: Path
) -> None:
    """Shard 2's folder never arrived: its cells are missing, with why; the others are ok."""
    merged = merge([three[0], three[2]], tmp_path / "merged")
    table = _table(merged)
    manifest = json.loads(store.manifest_path(three[0]).read_text())
    lost = {w for w, k in manifest["shard"]["assignment"].items() if k == 2}
    shard_two = table[table.index.get_level_values("workload").isin(lost)]
    # implementations this machine never had stay unavailable, with their own reason
    assert set(shard_two["status"]) == {"missing", "unavailable"}
    gone = shard_two[shard_two["status"] == "missing"]
    assert len(gone) == len(_table(QUICK).loc[gone.index].query("status != 'unavailable'"))
    assert set(gone["detail"]) == {
        "shard 2/3 did not arrive: its job failed or was cancelled before uploading"}  # fmt: skip
    kept = table.drop(shard_two.index)
    assert list(kept["status"]) == list(_table(QUICK).drop(shard_two.index)["status"])
    assert not (merged / "summary.md").exists()  # merge() alone writes no report
    assert main(["report", str(merged)]) == 0
    failures = (merged / "summary.md").read_text().split("## Failures")[1].split("\n## ")[0]
    assert failures.count("missing: shard 2/3 did not arrive") == len(gone)


def test_a_shard_that_arrives_twice_is_taken_once_the_newest_attempt(
    three: list[Path], tmp_path: Path
) -> None:
    """A re-run's attempt 2 replaces attempt 1 of the same shard, and the report says so."""
    again = tmp_path / "again" / "shard-1-of-3-attempt-2"
    shutil.copytree(three[0], again)
    manifest = json.loads(store.manifest_path(again).read_text())
    manifest["shard"]["attempt"] = 2
    store.write_manifest(again, manifest)
    merged = merge([*three, again], tmp_path / "merged")
    shards = json.loads(store.manifest_path(merged).read_text())["shards"]
    assert [(s["index"], s["attempt"], s["superseded_attempts"]) for s in shards] == [
        (1, 2, [1]), (2, 1, []), (3, 1, [])]  # fmt: skip
    assert len(_table(merged)) == len(_table(QUICK))  # no cell twice
    main(["report", str(merged)])
    assert "shard 1/3: attempt 2 taken, attempt 1 ignored" in (merged / "index.html").read_text()


@pytest.mark.parametrize("what", ["link", "escape", "huge"])
def test_an_untrusted_shard_is_refused_and_its_cells_read_missing(
    three: list[Path], tmp_path: Path, what: str
) -> None:
    """A link, a path out of the shard or an oversized file: the shard's cells are missing."""
    bad = three[1]
    if what == "link":
        (bad / "raw" / "evil.json").symlink_to("/etc/passwd")
    elif what == "escape":  # a folder that leads out of the shard
        (bad / "logs").mkdir()
        (bad / "logs" / "3.14").symlink_to(tmp_path, target_is_directory=True)
    else:
        with (bad / "raw" / "3.14.json").open("ab") as out:
            out.truncate(MAX_FILE_BYTES + 1)
    merged = merge(three, tmp_path / "merged")
    shards = json.loads(store.manifest_path(merged).read_text())["shards"]
    assert [s["status"] for s in shards] == ["merged", "refused", "merged"]
    assert shards[1]["reason"]
    table = _table(merged)
    refused = table[(table["machine"] == "2/3") & (table["status"] != "unavailable")]
    assert len(refused) and set(refused["status"]) == {"missing"}
    assert all(d.startswith("shard 2/3 was refused: ") for d in refused["detail"])


def test_a_shard_cut_off_mid_attempt_merges_without_the_piece_no_outcome_vouches_for(
    three: list[Path], tmp_path: Path
) -> None:
    """A cancelled job's shard holds a torn piece of the attempt it was in: the shard still
    merges, its recorded cells intact, and the torn piece is left out."""
    unmerged = _table(merge(three, tmp_path / "whole"))
    torn = store.piece_path(three[1], "3.14", "nbody/threads/2", 9)
    torn.parent.mkdir(parents=True)
    torn.write_text('{"version": "1.0", "benchmarks": [{"met')
    merged = merge(three, tmp_path / "merged")
    shards = json.loads(store.manifest_path(merged).read_text())["shards"]
    assert [s["status"] for s in shards] == ["merged"] * 3
    assert not list((merged / "raw").glob("*/0009-*"))
    assert _table(merged)["status"].equals(unmerged["status"])


def test_a_shard_whose_raw_file_holds_another_shards_workload_is_refused(
    three: list[Path], tmp_path: Path
) -> None:
    """Benchmarks of a workload assigned elsewhere can't slip in through a shard's file."""
    shutil.copyfile(three[0] / "raw" / "3.14.json", three[1] / "raw" / "3.14.json")
    merged = merge(three, tmp_path / "merged")
    shards = json.loads(store.manifest_path(merged).read_text())["shards"]
    assert shards[1]["status"] == "refused"
    assert "not one of this shard's workloads" in shards[1]["reason"]


@pytest.mark.parametrize(("change", "what"), [
    (lambda m: m["selection"].update(models=["serial"]), "selection"),
    (lambda m: m["shard"].update(batch="another night"), "nightly (batch)"),
    (lambda m: m["impls"][0]["provenance"].update(sha256="0" * 64), "CPython version and pin"),
], ids=["selection", "batch", "cpython-pin"])  # fmt: skip
def test_shards_of_different_runs_are_refused_naming_the_shard_and_the_difference(
    three: list[Path], tmp_path: Path, change: object, what: str,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    """Another selection, nightly or CPython pin: one line naming the shard, exit 2."""
    manifest = json.loads(store.manifest_path(three[2]).read_text())
    change(manifest)  # type: ignore[operator]
    store.write_manifest(three[2], manifest)
    assert main(["merge", *map(str, three), "--into", str(tmp_path / "merged")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"gilbench: error: {three[2]} is from another run than {three[0]}: "
                          f"its {what} is ")  # fmt: skip
    assert err.count("\n") == 1 and not (tmp_path / "merged").exists()


def test_a_run_that_is_no_shard_or_nothing_at_all_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Merging an unsharded run, or an empty folder, says what is wrong in one line."""
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["merge", str(QUICK), str(empty), "--into", str(tmp_path / "m")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("gilbench: error: no shard to merge: ")
    assert "is a run, not a shard: measure with compare --shard K/N" in err
    assert f"{empty / 'run.json'} is missing" in err


def test_a_merge_never_writes_over_a_folder_that_holds_files(
    three: list[Path], tmp_path: Path
) -> None:
    """--into must be a new (or empty) folder: an earlier merge is never mixed in."""
    into = tmp_path / "merged"
    into.mkdir()
    (into / "keep").write_text("x")
    with pytest.raises(MergeError, match="already holds files"):
        merge(three, into)
    assert [p.name for p in into.iterdir()] == ["keep"]


def _lose(shard: Path, impl_id: str, reason: str) -> None:
    """As if ``impl_id`` had been unavailable on ``shard``: its record says why, and
    nothing of it was measured there."""
    manifest = store.load_manifest(shard)
    for record in manifest["impls"]:
        if record["id"] == impl_id:
            record["unavailable"] = reason
    store.write_manifest(shard, manifest)
    for path in shard.glob(f"raw/{impl_id}.*"):
        path.unlink()
    outcomes = store.outcomes_path(shard)
    lines = [line for line in outcomes.read_text().splitlines()
             if json.loads(line)["impl"] != impl_id]  # fmt: skip
    outcomes.write_text("".join(line + "\n" for line in lines))


def test_an_implementation_one_shard_lacked_reads_missing_there_with_its_reason(
    three: list[Path], tmp_path: Path
) -> None:
    """PyPy unavailable on shard 1 only: the merged run has PyPy, its cells of shard 1's
    workloads are missing with that shard's reason, and the other shards' are as measured."""
    _lose(three[0], "pypy3.9", "apt-get install failed")
    merged = merge(three, tmp_path / "merged")
    (pypy,) = [i for i in store.load_manifest(merged)["impls"] if i["id"] == "pypy3.9"]
    assert not pypy["unavailable"]
    table = _table(merged).xs("pypy3.9", level="impl", drop_level=False)
    lost = table[table["machine"] == "1/3"]
    assert len(lost) and set(lost["status"]) <= {"missing", "unsupported"}
    missing = lost[lost["status"] == "missing"]
    assert set(missing["detail"]) == {"unavailable on shard 1/3: apt-get install failed"}
    kept = table[table["machine"] != "1/3"]
    expected = _table(QUICK).loc[kept.index]
    assert list(kept["status"]) == list(expected["status"])


def test_an_expected_implementation_that_is_unavailable_reads_missing_with_the_reason(
    three: list[Path], tmp_path: Path
) -> None:
    """Jython, which the nightly provisions (``expected``), unavailable on every shard: its
    cells read missing with the reason; IronPython, not expected, stays unavailable."""
    for shard in three:
        _lose(shard, "jython2.7", "jython is not on PATH")
        manifest = store.load_manifest(shard)
        ids = ["3.14", "3.14t", "3.14t+gil", "pypy3.9", "jython2.7"]
        store.write_manifest(shard, {**manifest, "expected": ids})
    merged = merge(three, tmp_path / "merged")
    assert store.load_manifest(merged)["expected"] == ids
    table = _table(merged)
    jython = table.xs("jython2.7", level="impl")
    planned = jython[jython["status"] != "unsupported"]
    assert set(planned["status"]) == {"missing"}
    assert set(planned["detail"]) == {
        "jython2.7 was expected, but is unavailable: jython is not on PATH"}  # fmt: skip
    assert set(table.xs("ironpython3.4", level="impl")["status"]) == {"unavailable"}


def test_each_shards_instruction_counts_reach_the_merged_run(
    three: list[Path], tmp_path: Path
) -> None:
    """Every shard counts its own serial cells; the merged run holds all their counts,
    and its results table each serial cell's instructions per unit."""
    from harness.run.counts import Repeat, write_counts

    expected = {}
    for number, shard in enumerate(three, start=1):
        plan = json.loads(store.manifest_path(shard).read_text())["plan"]
        serial = [(impl, workload) for impl, workload, model, workers in plan
                  if (model, workers) == ("serial", 1)]  # fmt: skip
        repeats = []
        for impl, workload in serial:
            per = 1_000_000 * number + len(workload)
            expected[(impl, workload)] = per
            totals = (7_000, 7_000 + 2 * per)
            repeats += [Repeat(impl, workload, r, "ok", units=(1, 3), instructions=totals)
                        for r in (1, 2, 3)]  # fmt: skip
        write_counts(shard, repeats)
    run = load_run(merge(three, tmp_path / "merged"))
    assert not run.problems and len(run.counts) == 3 * len(expected)
    table = summarize(run).table
    serial = table[(table["model"] == "serial") & (table["workers"] == 1)]
    found = {(r.impl, r.workload): r.instructions for r in serial.itertuples()}
    assert found == expected
