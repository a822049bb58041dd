"""Shared fixtures: paths to the test workloads and a host-python implementation."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from harness.impls import Impl

DATA = Path(__file__).resolve().parent / "data"
TEST_WORKLOADS = DATA / "workloads"


@pytest.fixture
def host_impl() -> Impl:
    """The interpreter running the tests, as an implementation (it has pyperf and a GIL)."""
    return Impl(id="host", family="cpython", python=Path(sys.executable), expect_gil=1)


@pytest.fixture(scope="session")
def cpython_builds() -> tuple[object, object]:
    """Both CPython builds, provisioned (or reused); under CI a failure fails, never skips."""
    import os

    from harness import provision

    try:
        return provision.provision_cpython(progress=lambda m: print(m, file=sys.stderr))
    except provision.ProvisionError as exc:
        if os.environ.get("CI"):
            pytest.fail(f"CI must provision CPython with and without the GIL: {exc}")
        pytest.skip(f"no CPython could be provisioned here: {exc}")


def require_or_skip(found: bool, what: str) -> None:
    """Skip when ``what`` is missing on a developer's machine; under CI, fail instead."""
    import os

    if found:
        return
    if os.environ.get("CI"):
        pytest.fail(f"CI installs {what} (harness/system.py TEST_PACKAGES), but it is missing")
    pytest.skip(f"{what} is not installed here")


@pytest.fixture(scope="module")
def quick_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The quick fixture run's report, rendered into a copy of the run."""
    import shutil

    from harness.render import render_report
    from harness.results import load_run

    run_dir = tmp_path_factory.mktemp("report") / "quick"
    shutil.copytree(DATA / "runs" / "quick", run_dir)
    render_report(load_run(run_dir))
    return run_dir


@pytest.fixture(scope="module")
def hostile_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The report of a run whose workload and category names are HTML tags."""
    from harness.render import render_report
    from harness.results import load_run
    from tests.test_render import make_hostile_run

    run_dir = make_hostile_run(tmp_path_factory.mktemp("hostile") / "run")
    render_report(load_run(run_dir))
    return run_dir
