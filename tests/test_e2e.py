"""The real thing: provision CPython with and without the GIL, run `compare --quick`, read it.

This builds CPython twice on first use (4 to 9 minutes on 2 cores; cached afterwards) and
measures nbody, one of the quick selection's three workloads, on every implementation. It
asserts what must hold on any machine (statuses, GIL states, checksums, files); the
speedups are printed, not asserted, because wall-clock thresholds flake on a shared machine.
"""

# The findings print multiplication signs for their readers; the test quotes them.
# ruff: noqa: RUF001

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyperf
import pytest
from scipy import stats

from harness import store
from harness.compare.steadiness import steadiness
from harness.provision import cpython, impls
from harness.report.format import format_category
from harness.results import CELL, load_run
from harness.run.cpuspeed import machine_cpus
from harness.run.plan import QUICK_MODELS, QUICK_TAG, plan, quick_workers
from harness.run.workloads import load_workloads, select_workloads

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parent.parent
MEASURED = {"ok", "unsupported"}  # the statuses an available implementation's cell may have


# The README's quick compare on nbody, the first of its three workloads: pure-Python CPU
# work, the question the free-threaded build is for, under every quick model on every
# implementation. Each other workload adds about three minutes on 2 cores to CI's 20; I/O
# through the models is measured for real by test_inside_models.py (on the host) and the
# nightly below (sleepy.py on every implementation), and the frozen quick run's goldens
# hold the findings of all three.
E2E_WORKLOADS = ("nbody",)


@pytest.fixture(scope="module")
def quick_run(
    cpython_builds: tuple[cpython.CPythonBuild, cpython.CPythonBuild],
    tmp_path_factory: pytest.TempPathFactory,
) -> Path:
    """Run `python -m harness compare --quick` on E2E_WORKLOADS for real into a temporary
    reports folder."""
    quick = {w.name for w in select_workloads(load_workloads(), [QUICK_TAG])}
    assert set(E2E_WORKLOADS) < quick  # of the README's selection
    reports = tmp_path_factory.mktemp("reports")
    done = subprocess.run(
        [sys.executable, "-m", "harness", "compare", "--quick", "--workload",
         ",".join(E2E_WORKLOADS), "--reports", str(reports)],
        cwd=ROOT, capture_output=True, text=True, check=False, timeout=3600,
    )  # fmt: skip
    print(done.stderr[-3000:], file=sys.stderr)
    assert done.returncode == 0, done.stderr[-3000:]
    (reports / "stdout.txt").write_text(done.stdout)  # what the terminal showed
    return (reports / "latest").resolve()


def _summary(run_dir: Path) -> pd.DataFrame:
    return pd.read_csv(run_dir / "summary.csv", dtype={"checksum": str})


def _available(run_dir: Path) -> set[str]:
    """The implementations the run's run.json says it measured (not unavailable)."""
    manifest = json.loads((run_dir / "run.json").read_text())
    return {str(i["id"]) for i in manifest["impls"] if not i["unavailable"]}


def _measured(run_dir: Path) -> pd.DataFrame:
    """summary.csv's ok rows, asserted to hold every available implementation on every
    workload of the run, so that a check over them can't pass on none."""
    ok = _summary(run_dir).query("status == 'ok'")
    manifest = json.loads((run_dir / "run.json").read_text())
    workloads = {str(w["name"]) for w in manifest["workloads"]}
    pairs = {(i, w) for i in _available(run_dir) for w in workloads}
    assert pairs and set(zip(ok["impl"], ok["workload"], strict=True)) == pairs
    return ok


def test_compare_has_a_row_for_every_cell_of_every_known_implementation(quick_run: Path) -> None:
    """Each known implementation has its cells: measured, unsupported, or unavailable."""
    summary = _summary(quick_run)
    series = impls.series_of(cpython.find_builds()[0].version)  # type: ignore[index]
    measured = {*impls.cpython_ids(series), "pypy3.9", "jython2.7"}
    assert measured <= set(summary["impl"])
    quick = select_workloads(load_workloads(), list(E2E_WORKLOADS))
    anyone = impls.Impl(id="any", family="cpython", python=Path(sys.executable))
    cells = len(plan([anyone], quick, QUICK_MODELS, quick_workers(), True))
    assert cells == len(quick) * (1 + len(QUICK_MODELS) - 1)  # serial at 1, others at 2
    for impl_id, rows in summary.groupby("impl"):
        assert len(rows) == cells, impl_id
        expected = MEASURED if impl_id in measured else {"unavailable"}
        assert set(rows["status"]) <= expected, rows[~rows["status"].isin(expected)]
    ok = summary[summary["status"] == "ok"]
    assert set(ok["impl"]) == measured
    assert (ok["n"] >= 9).all()
    assert (ok["ci_low_s"] <= ok["median_s"]).all() and (ok["median_s"] <= ok["ci_high_s"]).all()


def test_no_unsupported_cell_is_left_unexplained(quick_run: Path) -> None:
    """Every unsupported or unavailable cell says why."""
    summary = _summary(quick_run)
    neutral = summary[summary["status"].isin(["unsupported", "unavailable"])]
    cells = set(neutral[CELL].itertuples(index=False, name=None))
    # At least: every cell of an implementation run.json says is absent, and Jython's
    # processes cells (Jython 2.7 has no multiprocessing module).
    absent = summary[~summary["impl"].isin(_available(quick_run))]
    jython = summary[(summary["impl"] == "jython2.7") & (summary["model"] == "processes")]
    must = set(pd.concat([absent, jython])[CELL].itertuples(index=False, name=None))
    assert len(jython) and must <= cells, must - cells
    assert neutral["detail"].fillna("").str.len().gt(0).all()


def test_gil_state_recorded_is_the_one_each_implementation_promises(quick_run: Path) -> None:
    """3.14 and 3.14t+gil ran with the GIL, 3.14t and Jython without, PyPy with one."""
    ok = _measured(quick_run)
    states = ok.groupby("impl")["gil_enabled"].unique()
    for impl_id, gil in states.items():
        assert list(gil) == [expected_gil(str(impl_id))], impl_id
    assert set(states.index) == _available(quick_run)


def expected_gil(impl_id: str) -> int:
    """The GIL state an implementation promises: X.Yt and Jython have none."""
    if impl_id.startswith("jython") or (impl_id.endswith("t") and impl_id[0].isdigit()):
        return 0
    return 1


def test_every_row_carries_its_workloads_checksum(quick_run: Path) -> None:
    """The checksum recorded with each measured benchmark is the one its workload declares."""
    ok = _measured(quick_run)
    declared = {w.name: str(w.checksum) for w in load_workloads()}  # plain values
    assert (ok["checksum"] == ok["workload"].map(declared)).all()


def test_every_parallel_speedup_rests_on_paired_serial_units(quick_run: Path) -> None:
    """Both runners (pyperf's and Jython's) paired every measured cell but serial/1."""
    ok = _measured(quick_run)
    base = (ok["model"] == "serial") & (ok["workers"] == 1)
    assert ok.loc[~base, "paired"].all(), ok.loc[~base & ~ok["paired"], ["impl", "model"]]
    assert not ok.loc[base, "paired"].any()
    assert (ok["baseline_s"] > 0).all()
    # Recomputed from the raw files alone: pyperf's values, each with the serial units its
    # worker process timed right after it (same token, same index).
    units: dict[tuple[str, int], float] = {}
    for path in store.paired_files(quick_run):
        for line in path.read_text().splitlines():
            record = json.loads(line)
            for index, seconds in enumerate(record["seconds"]):
                units[(record["pairing"], index)] = seconds
    ratios: dict[tuple[str, str, str, int], list[list[float]]] = {}
    for path in store.raw_files(quick_run):
        for bench in pyperf.BenchmarkSuite.load(str(path)).get_benchmarks():
            for pyperf_run in bench.get_runs():
                meta = pyperf_run.get_metadata()
                if "gilbench_pairing" not in meta:
                    continue
                cell = (meta["gilbench_impl"], meta["gilbench_workload"],
                        meta["gilbench_model"], int(meta["gilbench_workers"]))  # fmt: skip
                ratios.setdefault(cell, []).append([
                    cell[3] * units[(meta["gilbench_pairing"], index)] / seconds
                    for index, seconds in enumerate(pyperf_run.values)
                ])  # fmt: skip
    paired = ok.loc[~base].set_index(["impl", "workload", "model", "workers"])
    assert set(ratios) == set(paired.index)
    checked = 0
    for cell, processes in ratios.items():
        # each worker process's median ratio; their 20%-trimmed geometric mean
        logs = [math.log(float(np.median(one))) for one in processes if one]
        expected = math.exp(float(stats.trim_mean(logs, 0.2)))
        assert abs(paired.loc[cell, "speedup"] - expected) <= 1e-4 * expected, cell  # 6 digits
        checked += 1
    # at least threads on every workload for every implementation measured
    assert checked == len(paired) >= len(set(zip(ok["impl"], ok["workload"], strict=True)))


def test_raw_files_work_with_pyperf_compare_to(quick_run: Path) -> None:
    """pyperf's own compare_to reads the report's pyperf files, each implementation's raw
    pieces joined."""
    raw = sorted((quick_run / "pyperf").glob("*.json"))
    assert {p.stem for p in raw} == _available(quick_run)  # one per implementation measured
    done = subprocess.run(
        [sys.executable, "-m", "pyperf", "compare_to", *map(str, raw), "--table"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "nbody/threads/2" in done.stdout


def test_the_run_ends_with_its_answer_table(quick_run: Path) -> None:
    """The terminal's last lines are the run's answer: its title and table, its sentences,
    then its caveats with the report's section that details them."""
    from harness.report.build import build_report

    answer = build_report(load_run(quick_run)).answer
    lines = (quick_run.parent / "stdout.txt").read_text().splitlines()
    said = f"{answer.caveats} Details: " if answer.caveats else "Details: "
    assert lines[-1] == f"{said}{quick_run / 'index.html'}#caveats"
    assert lines[-1 - len(answer.sentences) : -1] == list(answer.sentences)
    assert lines[0].strip() == answer.title
    table = " ".join(" ".join(lines[1 : -1 - len(answer.sentences)]).split())
    assert all(word in table for row in answer.texts() for cell in row for word in cell.split())


def test_report_files_are_written_and_latest_points_at_the_run(quick_run: Path) -> None:
    """index.html, summary.md and the local chart script are in the run folder."""
    for name in ("index.html", "results.html", "impls.html", "summary.md", "summary.csv",
                 "values.parquet", "assets/plotly.min.js", "run.json"):  # fmt: skip
        assert (quick_run / name).is_file(), name
    page = (quick_run / "index.html").read_text()
    assert 'src="assets/plotly.min.js"' in page
    assert "https://" not in page.split("<body>")[1].split("Plotly.newPlot")[0]


def test_the_cpus_speed_was_sampled_through_the_run_and_reported(quick_run: Path) -> None:
    """compare samples every CPU at the start, every 30 s and at the end; the overview says so."""
    run_ = load_run(quick_run)
    assert len(run_.cpu_speed) >= 3  # a quick run lasts minutes
    assert all(set(s) == {str(c) for c in machine_cpus()} for s in run_.cpu_speed)
    sentence = steadiness(run_.cpu_speed).sentence()
    assert sentence in (quick_run / "index.html").read_text()
    assert sentence in (quick_run / "summary.md").read_text()


def test_print_the_acceptance_figures(quick_run: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Speedups at 2 workers of every measured workload, impl and model, printed (not asserted
    against thresholds); the table holds exactly the cells summary.csv measured."""
    summary = _summary(quick_run)
    two = summary[(summary["workers"] == 2) & (summary["status"] == "ok")]
    table = two.pivot_table(index=["workload", "impl"], columns="model", values="speedup")
    speed = steadiness(load_run(quick_run).cpu_speed).sentence()
    with capsys.disabled():
        print(f"\nspeedup at 2 workers ({quick_run.name}):\n{table.round(2).to_string()}\n")
        print(f"CPU speed: {speed}\n")
    assert {w for w, _ in table.index} == set(E2E_WORKLOADS)
    assert {i for _, i in table.index} == set(two["impl"])
    cells = table.stack().dropna()
    assert len(cells) == len(two) and (cells > 0).all()


# A scaling finding as summary.md prints it: a decided sentence per category (its figures
# grouped by decision), or an undecided line per implementation.
DECIDED_SCALING = re.compile(
    r"On (.+?) \((?:(\w+)|geometric mean over (\d+) workloads)\), (\d+) threads against "
    r"1 thread, in work done: (.+)\.$"
)
DECIDED_PART = re.compile(r"(?:: |; )(\S+) (\d+\.\d\d)× \(")
UNDECIDED_SCALING = re.compile(
    r"Thread scaling of (\S+) on (.+) \((?:(\w+)|geometric mean over (\d+) workloads)\) at "
    r"(\d+) threads: undecided at (\d+\.\d\d)× \("
)


def _finding_lines(run_dir: Path) -> list[str]:
    """summary.md's findings, decided and undecided, one a line, Markdown escapes undone."""
    text = (run_dir / "summary.md").read_text().split("## Findings")[1]
    text = text.split("\n## Best model")[0]  # the decided findings, then "## Undecided (N)"
    lines = [line.removeprefix("- ") for line in text.splitlines() if line.startswith("- ")]
    return [re.sub(r"\\(.)", r"\1", line).replace("&lt;", "<").replace("&gt;", ">")
            .replace("&amp;", "&") for line in lines]  # fmt: skip


def test_every_speedup_in_the_findings_is_the_tables_figure(quick_run: Path) -> None:
    """Each implementation's thread scaling on each category is quoted once, decided or
    undecided, with summary.csv's speedup to the two decimals shown (a wide cell behind
    it changes nothing: its mark is information)."""
    summary = _summary(quick_run)
    workers = int(summary["workers"].max())
    threads = summary[(summary["model"] == "threads") & (summary["workers"] == workers)
                      & (summary["status"] == "ok")]  # fmt: skip
    expected = {(c, i) for c in summary["category"].unique() for i in _available(quick_run)}
    assert expected and set(zip(threads["category"], threads["impl"], strict=True)) == expected
    phrases = {format_category(str(c)): str(c) for c in summary["category"].unique()}
    quoted: list[tuple[str, str]] = []
    undecided = 0

    def check(category: str, impl: str, workload: str | None, mean_over: str | None,
              figure: str, line: str) -> None:  # fmt: skip
        rows = threads[(threads["category"] == category) & (threads["impl"] == impl)]
        if workload is not None:
            assert list(rows["workload"]) == [workload], (impl, line)
            assert f"{rows['speedup'].item():.2f}" == figure, (impl, workload)
        else:  # a geometric mean of the category's speedups, to its rounding
            assert len(rows) == int(str(mean_over)), (impl, line)
            mean = math.exp(np.log(rows["speedup"]).mean())
            assert abs(float(figure) - mean) <= 0.0051, (impl, category)
        quoted.append((category, impl))

    for line in _finding_lines(quick_run):
        if found := DECIDED_SCALING.match(line):
            phrase, workload, mean_over, count, parts = found.groups()
            assert int(count) == workers, line
            for impl, figure in DECIDED_PART.findall(": " + parts):
                check(phrases[phrase], impl, workload, mean_over, figure, line)
        elif found := UNDECIDED_SCALING.match(line):
            impl, phrase, workload, mean_over, count, figure = found.groups()
            assert int(count) == workers, line
            check(phrases[phrase], impl, workload, mean_over, figure, line)
            undecided += 1
    assert sorted(quoted) == sorted(expected)
    print(f"{len(quoted)} scaling figures checked against summary.csv, {undecided} undecided")


# A small selection for the nightly: two test workloads of a few milliseconds a unit, so two
# shards of one workload each, serially on every implementation; the quick run above
# measures the models. Not counted (minutes on every CPython): test_instruction_step.py
# runs nightlies that count.
NIGHTLY_WORKLOADS = ("tiny", "sleepy")
NIGHTLY = ["--quick", "--workload",
           ",".join(str(ROOT / "tests" / "data" / "workloads" / f"{name}.py")
                    for name in NIGHTLY_WORKLOADS),
           "--model", "serial", "--sparse", "--no-count"]  # fmt: skip


@pytest.fixture(scope="module")
def nightly_run(
    cpython_builds: tuple[cpython.CPythonBuild, cpython.CPythonBuild],
    tmp_path_factory: pytest.TempPathFactory,
) -> Path:
    """`python -m harness nightly --shards 2` for real: plan, two shards in turn, merge, add to
    the history, publish."""
    reports = tmp_path_factory.mktemp("nightly-reports")
    done = subprocess.run(
        [sys.executable, "-m", "harness", "nightly", "--shards", "2", *NIGHTLY,
         "--reports", str(reports)],
        cwd=ROOT, capture_output=True, text=True, check=False, timeout=3600,
    )  # fmt: skip
    print(done.stdout, done.stderr[-3000:], file=sys.stderr)
    assert done.returncode == 0, done.stderr[-3000:]
    return reports


def test_the_nightly_merges_exactly_the_unsharded_plans_cells(nightly_run: Path) -> None:
    """The merged summary.csv has one row per planned cell, with the statuses a run gives."""
    (merged,) = nightly_run.glob("nightly/*/merged")
    summary = _summary(merged)
    manifest = json.loads((merged / "run.json").read_text())
    ids = [i["id"] for i in manifest["impls"]]
    expected = {(i, w, "serial", 1) for i in ids for w in NIGHTLY_WORKLOADS}
    keys = summary[["impl", "workload", "model", "workers"]]
    cells = set(keys.itertuples(index=False, name=None))
    assert cells == expected and len(summary) == len(expected)
    absent = {i["id"] for i in manifest["impls"] if i["unavailable"]}
    for impl_id, status in zip(summary["impl"], summary["status"], strict=True):
        assert status == ("unavailable" if impl_id in absent else "ok"), impl_id
    assert sorted(set(summary["machine"])) == ["1/2", "2/2"]
    assert (nightly_run / "site" / "index.html").is_file()
    (page,) = (nightly_run / "site" / "runs").glob("*/index.html")  # the run's own report
    assert (page.parent / "pyperf" / "3.14.json").is_file()
    (kept,) = (nightly_run / "history" / "runs").iterdir()  # the nightly joined the history
    assert kept.name == page.parent.name


def test_a_shard_deleted_before_the_merge_publishes_with_its_cells_missing(
    nightly_run: Path, tmp_path: Path
) -> None:
    """Merging without shard 2's folder still publishes; that shard's cells read missing."""
    (folder,) = nightly_run.glob("nightly/*")
    survivor = folder / "shard-1-of-2"
    merged, site = tmp_path / "merged", tmp_path / "site"
    done = subprocess.run(
        [sys.executable, "-m", "harness", "merge", str(survivor), "--into", str(merged)],
        cwd=ROOT, capture_output=True, text=True, check=False, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "shard 2/2 missing: shard 2/2 did not arrive" in done.stderr
    subprocess.run([sys.executable, "-m", "harness", "publish", str(merged), "--into", str(site)],
                   cwd=ROOT, check=True, timeout=600)  # fmt: skip
    summary = _summary(merged)
    lost = summary[(summary["machine"] == "2/2") & (summary["status"] != "unavailable")]
    assert len(lost) and set(lost["status"]) == {"missing"}
    (page,) = (site / "runs").glob("*/index.html")
    assert "did not arrive" in page.read_text()
