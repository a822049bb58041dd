"""The history: runs kept as immutable files, series split at machine changes, change points
that hold up, the site rebuilt from it, and the data branch it lives on."""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from harness import store
from harness.cli import main
from harness.history import archive, branch
from harness.history.changes import find_changes
from harness.history.decision import KINDS, Rules
from harness.history.read import read_history, run_classes
from harness.machine import fingerprint as machine_fingerprint
from harness.machine import machine_info
from harness.publish import add_run, publish
from tests.helpers import DATA, QUICK, assert_golden

NIGHTLIES = DATA / "history"  # real quick nightlies of nbody measured here, then one pinned
ATOM = "{http://www.w3.org/2005/Atom}"


def copy_run(into: Path, created: str, scale: float = 1.0) -> Path:
    """The frozen quick run as if made at ``created``; ``scale`` multiplies its round times."""
    run_dir = into / created.replace(":", "")
    shutil.copytree(QUICK, run_dir)
    manifest = json.loads((run_dir / "run.json").read_text())
    store.write_manifest(run_dir, {**manifest, "created": created})
    if scale != 1.0:
        for raw in store.raw_files(run_dir):
            data = json.loads(raw.read_text())
            for bench in data["benchmarks"]:
                for run in bench["runs"]:
                    run["values"] = [v * scale for v in run.get("values", [])]
            raw.write_text(json.dumps(data))
    return run_dir


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def series(
    values: Sequence[float],
    fingerprints: Sequence[str] | None = None,
    width: float = 0.01,
    impl: str = "3.14",
    metric: str = "speedup",
    classes: Sequence[str] | None = None,
) -> pd.DataFrame:
    """One series' points: ``values`` in run order, each with a +-``width`` interval, on
    machines of ``classes`` (one class by default) and ``fingerprints``."""
    marks = fingerprints or ["f"] * len(values)
    kinds = classes or ["c"] * len(values)
    return pd.DataFrame(
        [
            {
                "metric": metric,
                "impl": impl,
                "workload": "nbody",
                "model": "threads",
                "workers": 2,
                "machine_class": kinds[i],
                "fingerprint": marks[i],
                "value": v,
                "ci_low": v * (1 - width),
                "ci_high": v * (1 + width),
                "run": f"r{i:02d}",
                "order": i,
            }
            for i, v in enumerate(values)
        ]
    )


def noisy(runs: int, seed: int, sd: float = 0.01) -> np.ndarray:
    return np.exp(np.random.default_rng(seed).normal(0.0, sd, runs))


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """A history of two copies of the frozen quick run, a day apart, raw kept for one."""
    root = tmp_path_factory.mktemp("two-runs")
    first = copy_run(root, "2026-11-30T03:17:00+00:00")
    second = copy_run(root, "2026-12-01T03:17:00+00:00")
    history = root / "history"
    add_run(first, history, keep_raw=1)
    add_run(second, history, keep_raw=1)
    return history, first, second


def test_adding_a_run_writes_one_set_of_tables_and_its_report(
    two_runs: tuple[Path, Path, Path],
) -> None:
    """Each run is a folder of its manifest, Parquet tables and report; newest K keep raw."""
    history, _, _ = two_runs
    older, newer = archive.entries(history)
    for entry in (older, newer):
        names = {p.name for p in entry.folder.iterdir()}
        assert {
            "manifest.json",
            "summary.parquet",
            "figures.parquet",
            "values.parquet",
            "paired.parquet",
            "outcomes.parquet",
            "cpu_speed.parquet",
            "report",
        } <= names
        assert len(entry.table("summary")) == 105
        assert (entry.folder / "report" / "index.html").is_file()
    assert not older.has_raw and newer.has_raw
    assert newer.record["cells"] == {
        "ok": 63,
        "failed": 0,
        "missing": 0,
        "unavailable": 30,
        "unsupported": 12,
    }


def test_adding_the_same_run_again_changes_nothing(two_runs: tuple[Path, Path, Path]) -> None:
    """The second add finds the run by its id and writes not one byte."""
    history, _, second = two_runs
    before = snapshot(history)
    entry, added = add_run(second, history, keep_raw=1)
    assert not added and entry.id.startswith("20261201-031700-")
    assert snapshot(history) == before


def test_no_file_grows_when_a_run_is_added(
    two_runs: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    """A third run leaves every earlier file as it was, but the raw JSON beyond the newest K."""
    history, _, _ = two_runs
    copy = tmp_path / "history"
    shutil.copytree(history, copy)
    before = snapshot(copy)
    add_run(copy_run(tmp_path, "2026-12-02T03:17:00+00:00"), copy, keep_raw=1)
    after = snapshot(copy)
    for name, data in before.items():
        if "/raw/" not in f"/{name}":
            assert after[name] == data, name
    assert len(archive.entries(copy)) == 3
    assert [e.has_raw for e in archive.entries(copy)] == [False, False, True]


def test_a_re_run_of_a_night_replaces_its_entry_and_the_site_says_so(
    two_runs: tuple[Path, Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Attempt 2 of a night takes attempt 1's place (one entry, noted on the runs index);
    adding it again changes nothing, and attempt 1 is then refused."""
    history, _, _ = two_runs
    copy = tmp_path / "history"
    shutil.copytree(history, copy)
    first = copy_run(tmp_path / "a1", "2026-12-02T03:17:00+00:00")
    rerun = copy_run(tmp_path / "a2", "2026-12-02T04:40:00+00:00")
    entry, added = add_run(first, copy, keep_raw=1, night=archive.Night("123", 1))
    assert added and entry.night == {"id": "123", "attempt": 1, "replaces": []}
    assert len(archive.entries(copy)) == 3
    code = main(["history", "add", str(rerun), "--into", str(copy), "--night", "123",
                 "--attempt", "2"])  # fmt: skip
    assert code == 0
    said = capsys.readouterr().err
    assert "attempt 2 of night 123, replaces attempt 1 (3 runs)" in said
    found = archive.entries(copy)
    assert len(found) == 3 and found[-1].night == {"id": "123", "attempt": 2, "replaces": [1]}
    assert not entry.folder.exists()
    assert sorted(p.name for p in (copy / "runs").iterdir()) == sorted(e.id for e in found)
    before = snapshot(copy)
    again, added = add_run(rerun, copy, keep_raw=1, night=archive.Night("123", 2))
    assert not added and again.id == found[-1].id and snapshot(copy) == before
    with pytest.raises(archive.HistoryError, match=r"holds attempt 2 of night '123' already"):
        add_run(first, copy, keep_raw=1, night=archive.Night("123", 1))
    site = publish(copy, tmp_path / "site").site
    index = (site / "index.html").read_text()
    assert index.count("replaces attempt 1") == 1
    assert "attempt 2 of night 123, replaces attempt 1" in index


def test_a_replaced_attempt_left_behind_is_passed_over_and_then_deleted(
    two_runs: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    """An add cut off between its rename and its delete leaves the older attempt's folder:
    readers see only the newer attempt, and the next add deletes the older one."""
    history, _, second = two_runs
    copy = tmp_path / "history"
    shutil.copytree(history, copy)
    older, _ = add_run(copy_run(tmp_path / "a1", "2026-12-02T03:17:00+00:00"), copy,
                       keep_raw=1, night=archive.Night("9", 1))  # fmt: skip
    kept = tmp_path / "kept"
    shutil.copytree(older.folder, kept)
    newer, _ = add_run(copy_run(tmp_path / "a3", "2026-12-02T05:00:00+00:00"), copy,
                       keep_raw=1, night=archive.Night("9", 3))  # fmt: skip
    shutil.copytree(kept, older.folder)  # as if the delete never happened
    assert [e.id for e in archive.entries(copy)][-1] == newer.id
    assert len(archive.entries(copy)) == 3
    add_run(second, copy, keep_raw=1)  # already there: only the leftover goes
    assert not older.folder.exists() and newer.folder.exists()


def test_history_add_wants_the_night_with_an_attempt(
    two_runs: tuple[Path, Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """--attempt alone is refused with one line: which night is it an attempt of?"""
    history, _, second = two_runs
    code = main(["history", "add", str(second), "--into", str(history), "--attempt", "2"])
    assert code == 2
    assert capsys.readouterr().err == (
        "gilbench: error: --attempt 2 says which attempt of a night the run is: name the "
        "night with --night ID too\n"
    )


def test_the_fingerprint_follows_the_machine_not_its_name() -> None:
    """Affinity, memory or the runner's image change it; the host's or runner's name don't."""
    machine = machine_info()
    same = {**machine, "host": "elsewhere", "runner": {"name": "GitHub Actions 7"}}
    assert machine_fingerprint(same) == machine_fingerprint(machine) == machine["fingerprint"]
    for changed in (
        {"cpu_affinity": [0]},
        {"memory_gib": 7},
        {"kernel": "6.1.0"},
        {"runner": {"image_version": "20261201.1"}},
    ):
        assert machine_fingerprint({**machine, **changed}) != machine["fingerprint"]


def test_a_step_of_ten_percent_is_found_as_a_regression_where_it_starts() -> None:
    """Twelve steady runs, then six 10% lower: one regression, from run 12, sized about -10%."""
    values = noisy(18, seed=1) * np.r_[np.ones(12), np.full(6, 0.9)]
    (change,) = find_changes(series(values))
    assert (change.kind, change.before_run, change.after_run) == ("regression", "r11", "r12")
    assert 0.87 < change.ratio < 0.93 and change.ci_low < change.ratio < change.ci_high
    assert change.runs_before == 12 and change.runs_after == 6


def test_a_rise_of_the_free_threaded_overhead_is_a_regression() -> None:
    """For the overhead, lower is better: a rise is the regression."""
    values = 1.1 * noisy(14, seed=2) * np.r_[np.ones(8), np.full(6, 1.15)]
    (change,) = find_changes(series(values, metric="overhead"))
    assert change.kind == "regression"
    (change,) = find_changes(series(1.2 * noisy(14, seed=2) * np.r_[np.ones(8), np.full(6, 1.15)]))
    assert change.kind == "improvement"


@pytest.mark.parametrize(
    "why, values, width",
    [
        ("below the minimum size", np.r_[np.ones(10), np.full(6, 0.97)], 0.002),
        ("a single run's blip", np.r_[np.ones(10), [0.8], np.ones(5)], 0.002),
        ("the runs either side overlap", np.r_[np.ones(10), np.full(6, 0.9)], 0.08),
    ],
)
def test_a_move_that_does_not_hold_up_is_not_reported(
    why: str, values: np.ndarray, width: float
) -> None:
    """Under 5%, for one run only, or within overlapping intervals: no change."""
    jittered = values * noisy(len(values), seed=3, sd=0.002)
    assert find_changes(series(jittered, width=width)) == [], why


def test_a_change_that_holds_for_one_series_fails_the_correction_among_many() -> None:
    """A weak step passes alone, and is dropped when 300 steady series are tested with it."""
    values = noisy(8, seed=4, sd=0.03) * np.r_[np.ones(5), np.full(3, 0.88)]
    alone = series(values, width=0.001)
    assert len(find_changes(alone)) == 1
    crowd = [series(noisy(8, seed=100 + i, sd=0.03), width=0.001, impl=f"i{i}") for i in range(300)]
    assert find_changes(pd.concat([alone, *crowd], ignore_index=True)) == []


def test_steady_series_tested_together_report_nothing_however_noisy() -> None:
    """200 steady series with 30% run-to-run noise: every gate passes somewhere, and the
    search-aware test still reports no change (a t-test at the search's split did)."""
    crowd = [
        series(noisy(20, seed=7000 + i, sd=0.3).tolist(), width=0.001, impl=f"i{i}")
        for i in range(200)
    ]
    assert find_changes(pd.concat(crowd, ignore_index=True)) == []


def test_a_regression_and_its_fix_are_both_found() -> None:
    """Twelve runs, eight 10% lower, ten back: a regression at run 12, an improvement at 20."""
    values = noisy(30, seed=6) * np.r_[np.ones(12), np.full(8, 0.9), np.ones(10)]
    found = sorted(find_changes(series(values.tolist())), key=lambda c: c.after_run)
    assert [(c.kind, c.after_run) for c in found] == [("regression", "r12"), ("improvement", "r20")]
    assert all(0.87 < c.ratio < 0.93 or 1.07 < c.ratio < 1.15 for c in found)


def test_the_same_history_gives_the_same_changes_in_any_row_order() -> None:
    """The shuffles are seeded by the series, not drawn afresh: p-values repeat exactly."""
    values = noisy(18, seed=1) * np.r_[np.ones(12), np.full(6, 0.9)]
    steady = series(noisy(18, seed=8).tolist(), impl="3.14t")
    points = pd.concat([series(values.tolist()), steady], ignore_index=True)
    first = find_changes(points)
    assert first and find_changes(points.sample(frac=1.0, random_state=1)) == first


def test_no_change_is_reported_across_a_machine_class_but_across_a_new_setup() -> None:
    """The same 20% drop is nothing where the class of machine changed, and a change where
    only the setup did (a new kernel or image: another fingerprint, the same class)."""
    values = noisy(16, seed=5) * np.r_[np.ones(10), np.full(6, 0.8)]
    assert len(find_changes(series(values))) == 1
    moved = ["a"] * 10 + ["b"] * 6
    assert find_changes(series(values, classes=moved)) == []
    (change,) = find_changes(series(values, fingerprints=moved))
    assert (change.after_run, change.machine_class, change.fingerprint) == ("r10", "c", "b")


def test_a_step_on_one_of_two_alternating_classes_is_found_on_its_own_runs() -> None:
    """Two classes of machine alternate night by night, the second 30% faster; a 10% step
    on the first from its 12th run is its one change, named at that run, and the
    alternation itself is none."""
    nights = 36
    classes = ["epyc-7763" if n % 2 == 0 else "epyc-9v74" for n in range(nights)]
    level = np.where(np.array(classes) == "epyc-9v74", 1.3, 1.0)
    step = np.where((np.arange(nights) >= 24) & (np.array(classes) == "epyc-7763"), 0.9, 1.0)
    values = noisy(nights, seed=9) * level * step
    (change,) = find_changes(series(values, classes=classes))
    assert (change.kind, change.machine_class) == ("regression", "epyc-7763")
    assert (change.before_run, change.after_run) == ("r22", "r24")
    assert (change.runs_before, change.runs_after) == (12, 6) and 0.87 < change.ratio < 0.93


def test_the_nightlies_fixture_is_real_and_ends_on_another_class_of_machine() -> None:
    """The frozen history holds quick nightlies of this machine, the last under taskset -c 0:
    on one core, another class of machine."""
    found = archive.entries(NIGHTLIES)
    assert len(found) >= 6
    prints = [tuple(sorted(m["fingerprint"] for m in e.record["machines"].values())) for e in found]
    assert len(set(prints[:-1])) == 1 and prints[-1] != prints[0]
    assert run_classes(found[-1]) != run_classes(found[0])
    assert [m["cpu_affinity"] for m in found[-1].record["machines"].values()] == [[0]]


@pytest.fixture(scope="module")
def nightly_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return publish(NIGHTLIES, tmp_path_factory.mktemp("site") / "site").site


def test_the_site_lists_every_run_and_links_each_report(nightly_site: Path) -> None:
    """index.html has a row per run, newest first, and each run's report is there offline."""
    found = archive.entries(NIGHTLIES)
    index = (nightly_site / "index.html").read_text()
    rows = [index.index(f'id="run-{e.id}"') for e in found]
    assert rows == sorted(rows, reverse=True)
    for entry in found:
        page = nightly_site / "runs" / entry.id / "index.html"
        assert '<script src="../../assets/plotly.min.js">' in page.read_text()
    assert (nightly_site / "assets" / "plotly.min.js").is_file()
    assert len(list(nightly_site.rglob("plotly.min.js"))) == 1


def test_each_trend_draws_one_point_per_run_and_a_line_per_class_of_machine(
    nightly_site: Path,
) -> None:
    """Every series has a point per run: the runs on 2 cores on one line, the pinned run
    on 1 core on a line of its own, marked where that class first appears."""
    runs = len(archive.entries(NIGHTLIES))
    text = (nightly_site / "trends.html").read_text()
    figures = [
        json.loads(chunk.split("</script>")[0].split(">", 1)[1])
        for chunk in text.split('<script type="application/json"')[1:]
    ]
    dated = [f for f in figures if f["layout"]["xaxis"].get("type") == "date"]
    assert dated
    for figure in dated:
        lines = figure["data"]
        two = [t for t in lines if t["name"].endswith("2 cores, x86_64")]
        one = [t for t in lines if t["name"].endswith("1 core, x86_64")]
        assert len(two) == len(one) == len(lines) / 2
        assert {len(t["y"]) for t in two} == {runs - 1} and {len(t["y"]) for t in one} == {1}
        assert None not in [y for t in lines for y in t["y"]]
        notes = [n["text"] for n in figure["layout"]["annotations"]]
        assert notes == ["a new class of machine"]
        assert any(s["line"].get("dash") == "dash" for s in figure["layout"]["shapes"])


def test_the_summary_says_the_newest_run_is_the_first_of_its_class(nightly_site: Path) -> None:
    """summary.md's changes section: another class of machine, nothing compared with it."""
    section = (nightly_site / "summary.md").read_text().split("## Changes since")[1]
    assert_golden("history-changes-section.md", "## Changes since" + section)
    changes = json.loads((nightly_site / "changes.json").read_text())
    assert changes["runs"] == len(archive.entries(NIGHTLIES))
    assert not any(c["new"] for c in changes["changes"])


def test_the_atom_feed_is_well_formed_with_an_entry_per_change(tmp_path: Path) -> None:
    """A history whose last runs regressed: the feed's entries are the changes found."""
    history = regressed_history(tmp_path)
    site = publish(history, tmp_path / "site", site_url="https://example.invalid/gb/").site
    feed = ET.parse(site / "changes.atom").getroot()
    entries = feed.findall(f"{ATOM}entry")
    changes = json.loads((site / "changes.json").read_text())["changes"]
    assert len(entries) == len(changes) >= 1
    for entry in entries:
        link = entry.find(f"{ATOM}link")
        assert link is not None
        assert link.get("href", "").startswith("https://example.invalid/gb/runs/")
    titles = [entry.findtext(f"{ATOM}title") or "" for entry in entries]
    assert sum(t.startswith("regression: ") and "serial throughput" in t for t in titles) >= 3


def regressed_history(tmp_path: Path) -> Path:
    """The nightlies before the pinned run three times over, a day apart (18 nights), the
    last three made twice as slow in nbody: runs enough either side for a shuffle test."""
    history = tmp_path / "regressed"
    history.mkdir()
    shutil.copy2(NIGHTLIES / "history.json", history)
    copies = []
    for day in range(3):
        for entry in archive.entries(NIGHTLIES)[:-1]:
            created = datetime.fromisoformat(entry.record["created"]) + timedelta(days=day)
            folder = history / "runs" / f"{created:%Y%m%d-%H%M%S}-{entry.id[-8:]}"
            shutil.copytree(entry.folder, folder)
            manifest = json.loads((folder / "manifest.json").read_text())
            manifest["created"] = manifest["history"]["created"] = created.isoformat()
            (folder / "manifest.json").write_text(json.dumps(manifest))
            copies.append(folder)
    for folder in copies[-3:]:
        figures = pd.read_parquet(folder / "figures.parquet")
        slower = figures["metric"] == "throughput"
        for column in ("value", "ci_low", "ci_high"):
            figures.loc[slower, column] *= 0.5
        figures.to_parquet(folder / "figures.parquet", index=False)
    return history


def test_fail_on_regression_exits_1_and_names_the_regression(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """publish --fail-on-regression: exit 1 and one line per regression; 0 without the flag."""
    history = regressed_history(tmp_path)
    assert main(["publish", str(history), "--into", str(tmp_path / "a")]) == 0
    argv = ["publish", str(history), "--into", str(tmp_path / "b"), "--fail-on-regression"]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert "regression:" in err and "serial throughput" in err
    assert "Traceback" not in err


def test_the_history_decides_each_change_a_regression_or_an_improvement(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """read_history's changes are decisions, "regression" or "improvement", under those words
    on every page, in changes.json's "decision" and the feed; only regressions are alerted."""
    history = regressed_history(tmp_path)
    found = read_history(history)
    assert found.changes and {c.kind for c in found.changes} <= set(KINDS)
    assert found.alerts == [c for c in found.new if c.kind == "regression"] != []
    site = publish(history, tmp_path / "site").site
    records = json.loads((site / "changes.json").read_text())["changes"]
    assert [(r["decision"], r["kind"]) for r in records] == [
        (c.kind, c.kind) for c in found.changes
    ]
    feed = ET.parse(site / "changes.atom").getroot()
    titles = [e.findtext(f"{ATOM}title") or "" for e in feed.findall(f"{ATOM}entry")]
    assert len(titles) == len(found.changes)
    assert all(t.split(": ", 1)[0] in KINDS for t in titles)
    section = (site / "summary.md").read_text().split("## Changes since")[1]
    listed = [line for line in section.splitlines() if line.startswith("- ")]
    assert [line.removeprefix("- ").removeprefix("⚠ ").split(":")[0] for line in listed] == [
        c.kind for c in found.new
    ]
    argv = ["publish", str(history), "--into", str(tmp_path / "b"), "--fail-on-regression"]
    assert main(argv) == 1
    said = capsys.readouterr().err.splitlines()[1:]  # after the site's line, the new decisions
    assert [line.split(": ")[1] for line in said] == [c.kind for c in found.new]


def test_a_history_with_nothing_decided_says_undecided_and_alerts_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The nightlies up to the pinned run, on one machine, decide nothing: summary.md, the
    pages and the command say so, and no move is worded as a change."""
    history = tmp_path / "history"
    shutil.copytree(NIGHTLIES, history)
    *kept, pinned = archive.entries(history)
    shutil.rmtree(pinned.folder)
    found = read_history(history)
    assert found.changes == [] and found.counts() == {"regression": 0, "improvement": 0}
    argv = ["publish", str(history), "--into", str(tmp_path / "site"), "--fail-on-regression"]
    assert main(argv) == 0
    assert capsys.readouterr().err.endswith("(6 runs, no regression or improvement decided)\n")
    site = tmp_path / "site"
    section = (
        (site / "summary.md").read_text().split("## Changes since the last comparable run\n\n")[1]
    )
    assert section == (
        f"No regression or improvement since run {kept[-2].id}: 16 series of run "
        f"{kept[-1].id} followed, and none brought a decision (a move of at least 5%, held "
        "for 2 runs, that passes the permutation test). Any other move is undecided and not "
        "alerted.\n"
    )
    assert "No regression or improvement decided in 6 runs." in (site / "changes.html").read_text()
    assert "No regression or improvement decided (" in (site / "index.html").read_text()


@pytest.mark.parametrize(
    "argv, says",
    [
        (["history", "add", "{tmp}", "--into", "{tmp}/h"], "holds no gilbench run"),
        (["history", "add", str(QUICK), "--into", str(QUICK)], "holds other files"),
        (["publish", "{tmp}/empty", "--into", "{tmp}/site"], "holds no gilbench run"),
    ],
)
def test_bad_history_input_is_one_line_and_exit_2(
    argv: list[str], says: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A folder that is no run, a history into a run folder: one line, exit 2, nothing written."""
    (tmp_path / "empty").mkdir()
    before = snapshot(QUICK)
    assert main([a.replace("{tmp}", str(tmp_path)) for a in argv]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and says in err, err
    assert snapshot(QUICK) == before and not (tmp_path / "site").exists()


def test_the_history_round_trips_through_a_data_branch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """fetch finds no branch, push makes one parentless commit, fetch brings the same files."""
    origin, work = tmp_path / "origin.git", tmp_path / "work"
    subprocess.run(["git", "init", "-q", "--bare", str(origin)], check=True)
    subprocess.run(["git", "clone", "-q", str(origin), str(work)], check=True, capture_output=True)
    monkeypatch.chdir(work)
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    assert branch.fetch(tmp_path / "first") is False
    commit = branch.push(NIGHTLIES, "history")
    assert branch.fetch(tmp_path / "again") is True
    assert snapshot(tmp_path / "again") == snapshot(NIGHTLIES)
    parents = subprocess.run(
        ["git", "-C", str(origin), "rev-list", "--parents", "-n", "1", commit],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert parents.split() == [commit]


def test_read_history_uses_the_rules_given() -> None:
    """A minimum size above any move the nightlies show finds nothing."""
    assert read_history(NIGHTLIES, Rules(min_change=0.9)).changes == []


def test_the_detection_bench_prints_a_line_per_scenario_and_detector(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A tiny run of the benchmark: each scenario, for the rules and the naive rule, on the
    noise of each frozen history, then A/A and the 10% step on alternating classes."""
    from harness.history import detection

    assert detection.main(["--histories", "1", "--series", "10"]) == 0
    out = capsys.readouterr().out
    for scenario in detection.scenarios():
        assert f"{scenario.name}:" in out
    histories = len(detection.FIXTURES)  # quick nightlies, precise runs, runs hours apart
    assert histories == 3 and out.count("real series of") == histories
    assert out.count("gilbench's rules") == 5 * histories
    assert out.count("naive, previous run") == 10 * histories
    assert out.count("alternating classes of machine") == histories
    assert out.count("alternating, per class") == 2 * histories


def test_only_the_newest_runs_carry_their_downloads_on_the_site(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Older runs keep their pages and summary.md; their tables stay in the history."""
    from harness.report import history as pages
    from harness.report import site as site_module

    monkeypatch.setattr(site_module, "DOWNLOADS", 2)
    monkeypatch.setattr(pages, "DOWNLOADS", 2)
    site = publish(NIGHTLIES, tmp_path / "site").site
    found = archive.entries(NIGHTLIES)
    for number, entry in enumerate(reversed(found)):
        folder = site / "runs" / entry.id
        assert (folder / "index.html").is_file() and (folder / "summary.md").is_file()
        assert (folder / "values.parquet").is_file() == (number < 2)
        assert (folder / "summary.csv").is_file() == (number < 2)
    assert (site / "index.html").read_text().count("(pages only)") == len(found) - 2


def test_the_curves_beside_the_newest_are_those_of_a_week_and_a_month_earlier() -> None:
    """The site draws the newest run's scaling over the newest run made at least 7 days
    before it and the newest made at least 30 days before; none where the history is
    younger."""
    from harness.report.trends import earlier_runs

    start = datetime(2026, 11, 1, 3, 17)
    dates = {f"r{day:02d}": start + timedelta(days=day) for day in range(0, 40, 3)}
    chosen = earlier_runs(dates, "r39")
    assert [(label, run) for label, run, _ in chosen] == [
        ("newest", "r39"), ("a week earlier", "r30"), ("a month earlier", "r09")]  # fmt: skip
    assert [label for label, _, _ in earlier_runs(dates, "r06")] == ["newest"]


def test_a_change_seen_on_two_runs_of_22_cannot_reach_a_p_value_below_about_1_percent() -> None:
    """The shuffles that put a clear step's k runs at either end of the stretch reach its
    statistic, so p is about 2 / C(n, k): 0.87% for 2 runs of 22; for 3 of 23 (0.11%) it
    is 1 / 1000, the least 999 shuffles can give."""
    step = noisy(22, seed=8, sd=0.002) * np.r_[np.ones(20), np.full(2, 1.2)]
    (two,) = find_changes(series(step, width=0.001))
    assert 0.5 < two.p_value / (2 / math.comb(22, 2)) < 2, two.p_value
    step = noisy(23, seed=8, sd=0.002) * np.r_[np.ones(20), np.full(3, 1.2)]
    (three,) = find_changes(series(step, width=0.001))
    assert three.p_value == pytest.approx(1 / 1000)


def test_a_larger_family_draws_more_shuffles_so_a_lone_change_can_still_pass() -> None:
    """999 shuffles for a family of up to 25 segments; 3999 for 100 at 5%, so that the least
    p-value, 1 / 4000, is half of Benjamini-Hochberg's first threshold, 0.05 / 100."""
    from harness.history.changes import _shuffles

    assert _shuffles(1, 0.05) == _shuffles(25, 0.05) == 999
    assert _shuffles(26, 0.05) == 1999 and _shuffles(100, 0.05) == 3999
    assert 1 / (_shuffles(100, 0.05) + 1) == pytest.approx(0.05 / 100 / 2)
