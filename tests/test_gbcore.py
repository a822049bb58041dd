"""The in-interpreter core: workloads, checksums and the models' worker pools."""

from __future__ import annotations

import sys

import gbcore
import pytest

from tests.conftest import TEST_WORKLOADS

TINY = str(TEST_WORKLOADS / "tiny.py")
EXPECTED = 2666466670000


@pytest.mark.parametrize("model", gbcore.MODELS)
@pytest.mark.parametrize("workers", [1, 3])
def test_each_model_runs_one_checked_unit_per_worker(model: str, workers: int) -> None:
    """A round hands exactly one unit to each of W workers and returns W checksums."""
    pool = gbcore.make_model(model, TINY, workers)
    pool.start()
    try:
        assert pool.round() == [EXPECTED] * workers
    finally:
        pool.close()


@pytest.mark.parametrize("model", gbcore.MODELS)
def test_a_wrong_checksum_fails_the_round_in_every_model(model: str) -> None:
    """A kernel that returns the wrong value raises wrong-checksum, whichever worker ran it."""
    pool = gbcore.make_model(model, str(TEST_WORKLOADS / "wrong_checksum.py"), 2)
    with pytest.raises(gbcore.WorkloadFailure) as failure:
        pool.start()
    pool.close()
    assert failure.value.status == "wrong-checksum"
    assert failure.value.detail == "expected 41, got 42"


@pytest.mark.parametrize("model", ["threads", "processes"])
def test_a_crashing_kernel_reports_its_traceback(model: str) -> None:
    """An exception in a worker comes back as a crashed status carrying the traceback."""
    pool = gbcore.make_model(model, str(TEST_WORKLOADS / "crashes.py"), 2)
    with pytest.raises(gbcore.WorkloadFailure) as failure:
        pool.start()
    pool.close()
    assert failure.value.status == "crashed"
    assert "ZeroDivisionError" in failure.value.detail


def test_processes_record_their_start_method() -> None:
    """The processes model uses and reports the start method it was given."""
    pool = gbcore.make_model("processes", TINY, 1, "spawn")
    assert pool.start_method == "spawn"


def test_gil_state_is_read_from_the_running_interpreter() -> None:
    """The host interpreter is a GIL build, and gbcore says so."""
    expected = 1 if getattr(sys, "_is_gil_enabled", lambda: True)() else 0
    assert gbcore.gil_enabled() == expected


def test_unknown_model_is_reported_unsupported() -> None:
    """Asking for a model gbcore does not know is an 'unsupported' failure, not a crash."""
    with pytest.raises(gbcore.WorkloadFailure) as failure:
        gbcore.make_model("fibers", TINY, 1)
    assert failure.value.status == "unsupported"
