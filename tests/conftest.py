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
