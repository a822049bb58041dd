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
