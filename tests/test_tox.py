"""tox as a second front end: the same runs, the same result store, the same report."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from harness.provision import catalog
from harness.results import load_run
from tests.helpers import TEST_WORKLOADS

pytestmark = pytest.mark.real  # it runs real interpreters: never beside another test

ROOT = Path(__file__).resolve().parent.parent
SELECTION = ["--quick", "--workload", str(TEST_WORKLOADS / "tiny.py"), "--model", "serial,threads",
             "--workers", "1,2"]  # fmt: skip


def _tox() -> str:
    found = shutil.which("tox", path=str(Path(sys.executable).parent)) or shutil.which("tox")
    assert found, "tox is a test dependency (pyproject [test] extra)"
    return found


def test_tox_and_nox_runs_of_one_selection_make_the_same_report(
    cpython_builds: tuple[object, object], tmp_path: Path
) -> None:
    """A tox env and gilbench's own run path give runs one report reads the same way."""
    default = cpython_builds[0].python  # type: ignore[attr-defined]
    reports = tmp_path / "reports"
    env = {**os.environ, "GILBENCH_HOST_PYTHON": sys.executable}
    tox = subprocess.run(
        [_tox(), "-e", "3.14,3.14t", "--discover", str(default), "--workdir", str(tmp_path / "tox"),
         "--", *SELECTION, "--reports", str(reports)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=900, check=False,
    )  # fmt: skip
    assert tox.returncode == 0, tox.stdout[-3000:]
    assert "3.14t: skipped because could not find python interpreter" in tox.stdout
    nox_path = subprocess.run(
        [sys.executable, "-m", "harness", "run", "--impl", "3.14", *SELECTION,
         "--reports", str(reports)],
        cwd=ROOT, capture_output=True, text=True, timeout=900, check=False,
    )  # fmt: skip
    assert nox_path.returncode == 0, nox_path.stderr[-3000:]
    by_tox = load_run(reports / "tox")
    by_nox = load_run((reports / "latest").resolve())
    columns = ["impl", "workload", "model", "workers", "gil_enabled"]
    cells = [run.values[columns].drop_duplicates().sort_values(columns).reset_index(drop=True)
             for run in (by_tox, by_nox)]  # fmt: skip
    pd.testing.assert_frame_equal(cells[0], cells[1])
    assert set(by_tox.outcomes["status"]) == set(by_nox.outcomes["status"]) == {"ok"}
    assert [i["id"] for i in by_tox.manifest["impls"]] == ["3.14"]


@pytest.mark.parametrize(
    ("name", "impl_id"), [("3.14t-gil", "3.14t+gil"), ("3.14t", "3.14t"), ("pypy3", "pypy3")]
)
def test_tox_env_names_map_to_implementation_ids(name: str, impl_id: str) -> None:
    """tox forbids '+' in env names, so its 3.14t-gil env measures impl 3.14t+gil."""
    assert catalog.normalize_id(name) == impl_id
