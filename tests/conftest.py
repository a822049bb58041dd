"""Shared fixtures: a host-python implementation, the CPython builds, rendered reports."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

from harness.provision import cpython
from harness.provision.impls import Impl
from harness.results import load_run
from tests.helpers import QUICK, make_hostile_run, render

# The slowest files of the tests that run side by side (nox -s tests), first: pytest-xdist
# hands files out in this order, so they start on different workers instead of meeting on
# one at the end.
SLOWEST_FIRST = ("test_coverage_aa", "test_coverage_adaptive", "test_coverage", "test_detection")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank = {name: place for place, name in enumerate(SLOWEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.stem, len(rank)))


@pytest.fixture
def host_impl() -> Impl:
    """The interpreter running the tests, as an implementation (it has pyperf and a GIL)."""
    return Impl(id="host", family="cpython", python=Path(sys.executable), expect_gil=1)


@pytest.fixture(scope="session")
def cpython_builds() -> tuple[cpython.CPythonBuild, cpython.CPythonBuild]:
    """Both CPython builds, provisioned (or reused); under CI a failure fails, never skips."""
    try:
        return cpython.provision_cpython(progress=lambda m: print(m, file=sys.stderr))
    except cpython.ProvisionError as exc:
        if os.environ.get("CI"):
            pytest.fail(f"CI must provision CPython with and without the GIL: {exc}")
        pytest.skip(f"no CPython could be provisioned here: {exc}")


@pytest.fixture(scope="module")
def quick_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The quick fixture run's report, rendered into a copy of the run."""
    run_dir = tmp_path_factory.mktemp("report") / "quick"
    shutil.copytree(QUICK, run_dir)
    render(load_run(run_dir))
    return run_dir


@pytest.fixture(scope="module")
def hostile_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The report of a run whose workload and category names are HTML tags."""
    run_dir = make_hostile_run(tmp_path_factory.mktemp("hostile") / "run")
    render(load_run(run_dir))
    return run_dir
