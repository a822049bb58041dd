"""A real 2% step, found by the instruction series: four nightlies of one small workload
on 3.14, counted, into one history; before the fourth the workload is edited to do 2%
more of the same work, its checksum unchanged.

Kept cheap: one workload of millisecond units, one CPython, serial only, the quick
profile, measured by ``run --impl 3.14`` (a nightly's compare measures every
implementation); well under a minute a night here, so it runs with the e2e tests.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from harness.history.read import read_history
from harness.provision import cpython

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.e2e

WORKLOAD = '''"""Integer work in a loop; EXTRA more rounds of it, their result thrown away."""

CATEGORY = "cpu"
TAGS = ("test",)
DESCRIPTION = "a multiply-add loop of 20000 rounds (instruction step test)"
CHECKSUM = {checksum}

LOOPS = 20000
EXTRA = {extra}  # the edit: 2% more rounds of the same work, the checksum unchanged

try:
    xrange
except NameError:
    xrange = range


def kernel():
    total = 0
    for i in xrange(LOOPS):
        total = (total * 31 + i) % 1000003
    spare = 0
    for i in xrange(EXTRA):
        spare = (spare * 31 + i) % 1000003
    return total
'''


def _checksum() -> int:
    total = 0
    for i in range(20000):
        total = (total * 31 + i) % 1000003
    return total


def _night(reports: Path, workload: Path, night: int) -> None:
    """One night's run of ``workload`` on 3.14 alone, counted as the nightly's measure jobs
    count, then added to the history as the nightly's history step adds a merged run."""
    run = f"night-{night}"
    for argv in (
        [
            "run",
            "--impl",
            "3.14",
            "--quick",
            "--count",
            "--workload",
            str(workload),
            "--model",
            "serial",
            "--workers",
            "1",
            "--into",
            run,
            "--reports",
            str(reports),
        ],
        ["history", "add", str(reports / run), "--into", str(reports / "history")],
    ):
        done = subprocess.run(
            [sys.executable, "-m", "harness", *argv],
            cwd=ROOT, capture_output=True, text=True, check=False, timeout=1200,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr[-3000:]


def test_a_two_percent_real_step_is_found_at_its_run_after_three_quiet_nights(
    cpython_builds: tuple[cpython.CPythonBuild, cpython.CPythonBuild], tmp_path: Path
) -> None:
    """Three A/A nightlies decide no change; the fourth, whose units do 2% more work with
    the same checksum, is a regression in instructions at that very run, in
    instructions only (time can't decide on four runs)."""
    workload, reports = tmp_path / "stepwork.py", tmp_path / "reports"
    for night, extra in enumerate((0, 0, 0, 400), start=1):  # 400 rounds: 2% of 20000
        workload.write_text(WORKLOAD.format(checksum=_checksum(), extra=extra))
        _night(reports, workload, night)
        found = read_history(reports / "history")
        counted = found.points[found.points["metric"] == "instructions"]
        assert len(counted) == night, counted
        print(
            f"night {night}: {counted['value'].iloc[-1]:,.1f} instructions a unit, 95% "
            f"interval {counted['ci_low'].iloc[-1]:,.1f}-{counted['ci_high'].iloc[-1]:,.1f}"
        )
        if night < 4:
            assert found.changes == [], [c.describe() for c in found.changes]
    (change,) = found.changes
    print(change.describe())
    assert (change.metric, change.kind, change.impl) == ("instructions", "regression", "3.14")
    assert change.workload == "stepwork" and change.after_run == found.entries[-1].id
    assert 1.015 < change.ratio < 1.03
    assert change.counterpart.startswith("in instructions only: no change decided in time")
    assert found.alerts == [change]
