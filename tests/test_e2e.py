"""The real thing: provision CPython with and without the GIL, run `compare --quick`, read it.

This builds CPython twice on first use (about 5 minutes on 2 cores; cached afterwards) and
measures the whole default matrix. It asserts what must hold on any machine (statuses,
GIL states, checksums, files); the speedups are printed, not asserted, because wall-clock
thresholds flake on a shared machine. The acceptance figures come from this output.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from harness import impls, provision
from harness.workloads import load_workloads

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parent.parent
EXPECTED_GIL = {"": 1, "t": 0, "t+gil": 1}  # by id suffix after the series


@pytest.fixture(scope="module")
def builds() -> tuple[provision.CPythonBuild, provision.CPythonBuild]:
    """Both CPython builds; under CI a failure to provision fails, never skips."""
    try:
        return provision.provision_cpython(progress=lambda m: print(m, file=sys.stderr))
    except provision.ProvisionError as exc:
        if os.environ.get("CI"):
            pytest.fail(f"CI must provision a free-threaded CPython: {exc}")
        pytest.skip(f"no CPython could be provisioned here: {exc}")


@pytest.fixture(scope="module")
def quick_run(
    builds: tuple[provision.CPythonBuild, provision.CPythonBuild],
    tmp_path_factory: pytest.TempPathFactory,
) -> Path:
    """Run `python -m harness compare --quick` for real into a temporary reports folder."""
    reports = tmp_path_factory.mktemp("reports")
    done = subprocess.run(
        [sys.executable, "-m", "harness", "compare", "--quick", "--reports", str(reports)],
        cwd=ROOT, capture_output=True, text=True, check=False, timeout=1800,
    )  # fmt: skip
    print(done.stderr[-3000:], file=sys.stderr)
    assert done.returncode == 0, done.stderr[-3000:]
    return (reports / "latest").resolve()


def test_compare_measures_every_cell_with_status_ok(quick_run: Path) -> None:
    """Every implementation x workload x model x workers cell is present, ok, with 9 values."""
    summary = pd.read_csv(quick_run / "summary.csv")
    series = impls.series_of(provision.find_builds()[0].version)
    expected_cells = 3 * len(load_workloads()) * 3 * 2
    assert len(summary) == expected_cells
    assert set(summary["impl"]) == set(impls.cpython_ids(series))
    assert (summary["status"] == "ok").all(), summary[summary["status"] != "ok"]
    assert (summary["n"] >= 9).all()
    assert (summary["ci_low_s"] <= summary["median_s"]).all()
    assert (summary["median_s"] <= summary["ci_high_s"]).all()


def test_gil_state_recorded_is_the_one_each_configuration_promises(quick_run: Path) -> None:
    """3.14 and 3.14t+gil ran with the GIL on, 3.14t with it off, as read inside each worker."""
    summary = pd.read_csv(quick_run / "summary.csv")
    for impl_id, gil in summary.groupby("impl")["gil_enabled"].unique().items():
        suffix = str(impl_id).split(".")[1].lstrip("0123456789")
        assert list(gil) == [EXPECTED_GIL[suffix]], impl_id


def test_every_row_carries_its_workloads_checksum(quick_run: Path) -> None:
    """The checksum recorded with each benchmark is the one its workload declares."""
    summary = pd.read_csv(quick_run / "summary.csv", dtype={"checksum": str})
    declared = {w.name: repr(w.checksum) for w in load_workloads()}
    assert (summary["checksum"] == summary["workload"].map(declared)).all()


def test_raw_files_work_with_pyperf_compare_to(quick_run: Path) -> None:
    """pyperf's own compare_to reads the raw files gilbench kept untouched."""
    raw = sorted((quick_run / "raw").glob("*.json"))
    assert len(raw) == 3
    done = subprocess.run(
        [sys.executable, "-m", "pyperf", "compare_to", *map(str, raw), "--table"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "nbody/threads/2" in done.stdout


def test_report_files_are_written_and_latest_points_at_the_run(quick_run: Path) -> None:
    """index.html, summary.md and the local chart script are in the run folder."""
    for name in ("index.html", "summary.md", "summary.csv", "assets/plotly.min.js", "run.json"):
        assert (quick_run / name).is_file(), name
    page = (quick_run / "index.html").read_text()
    assert 'src="assets/plotly.min.js"' in page
    assert "https://" not in page.split("<body>")[1].split("Plotly.newPlot")[0]


def test_print_the_acceptance_figures(quick_run: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Print speedups at 2 workers for every workload, impl and model (figures, not asserts)."""
    summary = pd.read_csv(quick_run / "summary.csv")
    two = summary[summary["workers"] == 2]
    table = two.pivot_table(index=["workload", "impl"], columns="model", values="speedup")
    with capsys.disabled():
        print(f"\nspeedup at 2 workers ({quick_run.name}):\n{table.round(2).to_string()}\n")
    assert not table.isna().any().any()
