"""The models (gbmodels, gbprocess, gbasync) and the units they run, on the host interpreter."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import gbio
import gbload
import gbmodels
import gbprotocol
import pytest

from tests.helpers import TEST_WORKLOADS

pytestmark = pytest.mark.real  # it runs real interpreters: never beside another test

WORKLOADS_DIR = Path(__file__).resolve().parent.parent / "workloads"  # the suite's own
TINY = str(TEST_WORKLOADS / "tiny.py")
EXPECTED = 2666466670000
# Every model but those of subinterpreters, which need CPython 3.13+ (tests/test_models.py),
# and processes-shm, which moves a payload and nothing else (tests/test_payload.py)
HOST_MODELS = [m for m in gbprotocol.MODELS
               if m not in ("subinterpreters", "subinterpreters-shared", "interpool",
                            "processes-shm")]  # fmt: skip


@pytest.fixture
def started() -> Iterator[list[gbmodels.Model]]:
    """Models a test starts; each is closed afterwards, even when the test fails."""
    models: list[gbmodels.Model] = []
    yield models
    for model in models:
        model.close()


def _start(started: list[gbmodels.Model], name: str, path: str, workers: int) -> gbmodels.Model:
    model = gbmodels.make_model(name, path, workers)
    started.append(model)
    model.start()
    return model


@pytest.mark.parametrize("model", HOST_MODELS)
@pytest.mark.parametrize("workers", [1, 3])
def test_each_model_runs_n_checked_units_per_worker(
    model: str, workers: int, started: list[gbmodels.Model]
) -> None:
    """round() hands one unit to each of W workers; round(5), as 5 loops ask, hands 5 each."""
    pool = _start(started, model, TINY, workers)
    assert pool.round() == [EXPECTED] * workers
    assert pool.round(5) == [EXPECTED] * workers * 5


@pytest.mark.parametrize("model", HOST_MODELS)
def test_a_wrong_checksum_midway_through_a_worker_s_units_fails_the_round(
    model: str, started: list[gbmodels.Model], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A unit that goes wrong after others passed fails the whole round, in every model."""
    monkeypatch.delitem(sys.modules, "gilbench_workload_goes_wrong", raising=False)  # fresh count
    pool = _start(started, model, str(TEST_WORKLOADS / "goes_wrong.py"), 1)  # warm-up: call 1
    with pytest.raises(gbprotocol.WorkloadFailure) as failure:
        pool.round(4)  # calls 2 and 3 pass, call 4 returns 42
    assert (failure.value.status, failure.value.detail) == ("wrong-checksum", "expected 41, got 42")


@pytest.mark.parametrize("model", HOST_MODELS)
def test_a_wrong_checksum_fails_the_round_in_every_model(model: str) -> None:
    """A kernel that returns the wrong value raises wrong-checksum, whichever worker ran it."""
    pool = gbmodels.make_model(model, str(TEST_WORKLOADS / "wrong_checksum.py"), 2)
    with pytest.raises(gbprotocol.WorkloadFailure) as failure:
        pool.start()
    pool.close()
    assert failure.value.status == "wrong-checksum"
    assert failure.value.detail == "expected 41, got 42"


@pytest.mark.parametrize("model", ["threads", "processes", "asyncio", "asyncio-to-thread"])
def test_a_crashing_kernel_reports_its_traceback(model: str) -> None:
    """An exception in a worker comes back as a crashed status carrying the traceback."""
    pool = gbmodels.make_model(model, str(TEST_WORKLOADS / "crashes.py"), 2)
    with pytest.raises(gbprotocol.WorkloadFailure) as failure:
        pool.start()
    pool.close()
    assert failure.value.status == "crashed"
    assert "ZeroDivisionError" in failure.value.detail


@pytest.mark.parametrize("model", ["serial", "asyncio"])
def test_an_unknown_io_request_is_a_crash_naming_it(model: str) -> None:
    """A generator kernel that yields a request no driver knows crashes with that request."""
    pool = gbmodels.make_model(model, str(TEST_WORKLOADS / "bad_request.py"), 1)
    with pytest.raises(gbprotocol.WorkloadFailure) as failure:
        pool.start()
    pool.close()
    assert failure.value.status == "crashed"
    assert "the kernel yielded ('teleport', 'mars'); a request starts with one of sleep" in (
        failure.value.detail
    )


@pytest.mark.parametrize("model", ["threads", "processes", "asyncio", "asyncio-to-thread"])
def test_waits_overlap_in_every_model_that_has_workers(
    model: str, started: list[gbmodels.Model]
) -> None:
    """Four workers each waiting 100 ms finish a round in far less than 4 x 100 ms."""
    pool = _start(started, model, str(TEST_WORKLOADS / "sleepy.py"), 4)
    begun = time.perf_counter()
    assert pool.round() == [4] * 4
    assert time.perf_counter() - begun < 0.25  # serial would take 0.4 s; overlapped, 0.1 s


@pytest.mark.parametrize("model", ["threads", "processes", "asyncio", "asyncio-to-thread"])
def test_each_worker_runs_its_units_in_turn_while_workers_overlap(
    model: str, started: list[gbmodels.Model]
) -> None:
    """Two workers with 3 units of 100 ms each take about 0.3 s: in turn, side by side."""
    pool = _start(started, model, str(TEST_WORKLOADS / "sleepy.py"), 2)
    begun = time.perf_counter()
    assert pool.round(3) == [4] * 6
    assert 0.3 <= time.perf_counter() - begun < 0.5  # units in turn 0.3 s; workers in turn 0.6


def test_serial_waits_one_unit_after_another(started: list[gbmodels.Model]) -> None:
    """The serial baseline really runs its W units in turn."""
    pool = _start(started, "serial", str(TEST_WORKLOADS / "sleepy.py"), 2)
    begun = time.perf_counter()
    pool.round()
    assert time.perf_counter() - begun >= 0.2


@pytest.mark.parametrize("model", ["threads", "asyncio"])
def test_the_echo_service_answers_on_loopback_and_stops_with_the_model(model: str) -> None:
    """io_echo's service listens on 127.0.0.1 only, echoes every byte, and is gone after close."""
    before = threading.active_count()
    pool = gbmodels.make_model(model, str(WORKLOADS_DIR / "io_echo.py"), 2)
    pool.start()
    try:
        host, _ = pool.service
        assert host == "127.0.0.1"
        assert pool.round() == [4112, 4112]
    finally:
        pool.close()
    deadline = time.monotonic() + 5
    while threading.active_count() > before and time.monotonic() < deadline:
        time.sleep(0.05)  # connection handlers end when their client has closed
    assert threading.active_count() == before


@pytest.mark.parametrize("model", ["serial", "asyncio"])
def test_a_silent_peer_fails_the_unit_after_the_io_timeout(
    model: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A recv that never gets an answer crashes the unit after IO_TIMEOUT; nothing hangs."""
    monkeypatch.setattr(gbio, "IO_TIMEOUT", 0.3)
    pool = gbmodels.make_model(model, str(TEST_WORKLOADS / "silent_service.py"), 1)
    begun = time.monotonic()
    with pytest.raises(gbprotocol.WorkloadFailure) as failure:
        pool.start()
    pool.close()
    assert failure.value.status == "crashed"
    assert "timed out" in failure.value.detail or "recv: no progress within 0.3 s" in (
        failure.value.detail
    )
    assert time.monotonic() - begun < 5


def test_asyncio_to_thread_starts_all_its_threads_before_timing(
    started: list[gbmodels.Model],
) -> None:
    """After start(), the executor behind asyncio.to_thread already runs W threads."""
    pool = _start(started, "asyncio-to-thread", str(TEST_WORKLOADS / "sleepy.py"), 3)
    assert pool.threads_started() == 3  # type: ignore[attr-defined]


@pytest.mark.parametrize("model", ["serial", "threads", "asyncio", "asyncio-to-thread"])
def test_a_locked_shared_state_workload_loses_no_update(
    model: str, started: list[gbmodels.Model]
) -> None:
    """shared_dict_locked: every round's updates all arrive, and the metadata says 0 lost."""
    pool = _start(started, model, str(WORKLOADS_DIR / "shared_dict_locked.py"), 2)
    rounds = 1 + gbmodels.LOST_UPDATE_ROUNDS  # the warm-up and the counting rounds
    assert gbmodels.model_metadata(pool) == {
        "gilbench_updates": rounds * 2 * 600000,
        "gilbench_lost_updates": 0,
    }
    assert pool.round() == [600000, 600000]
    assert pool.lost_updates == 0


def test_lost_updates_fail_the_round_unless_they_are_counted(
    started: list[gbmodels.Model], monkeypatch: pytest.MonkeyPatch
) -> None:
    """One lost update per unit is wrong-checksum, or with COUNTS_LOST_UPDATES a figure."""
    path = str(TEST_WORKLOADS / "drops_an_update.py")
    failing = gbmodels.make_model("threads", path, 2)
    with pytest.raises(gbprotocol.WorkloadFailure) as failure:
        failing.start()
    failing.close()
    assert (failure.value.status, failure.value.detail) == (
        "wrong-checksum",
        "2 of the round's 200 updates to shared state were lost",
    )
    monkeypatch.setattr(gbload.load_workload(path), "COUNTS_LOST_UPDATES", True)
    counting = _start(started, "threads", path, 2)
    assert counting.round() == [100, 100]
    assert counting.lost_updates == 2 * (1 + gbmodels.LOST_UPDATE_ROUNDS + 1)


@pytest.mark.parametrize("model", ["processes", "subinterpreters"])
def test_shared_state_is_unsupported_where_workers_share_no_memory(model: str) -> None:
    """Processes (and subinterpreters) can't share a dict, so they say so instead of failing."""
    with pytest.raises(gbprotocol.WorkloadFailure) as failure:
        gbmodels.make_model(model, str(WORKLOADS_DIR / "shared_dict_unlocked.py"), 2)
    assert failure.value.status == "unsupported"
    if model == "processes":  # (the host's subinterpreters fail earlier: it predates them)
        assert not failure.value.model_wide  # another workload may run under this model
        assert failure.value.detail == (
            "shared_dict_unlocked.py keeps its shared state in one process's memory, "
            "and the processes model's workers share no memory"
        )


@pytest.mark.parametrize("model", ["threads", "processes", "asyncio-to-thread"])
def test_parallel_workers_report_their_busy_time_each_round(
    started: list[gbmodels.Model], model: str
) -> None:
    """After a round, each of the workers running in parallel gives its seconds on its units."""
    pool = _start(started, model, str(TEST_WORKLOADS / "sleepy.py"), 3)
    pool.round(2)
    assert len(pool.busy) == 3
    assert all(seconds >= 0.19 for seconds in pool.busy)  # two units of 4 waits of 25 ms


@pytest.mark.parametrize("model", ["threads", "processes"])
def test_one_worker_alone_times_its_units_and_leaves_the_round_s_busy_times(
    started: list[gbmodels.Model], model: str
) -> None:
    """time_alone(2): one worker's two units of 100 ms, as that worker timed them."""
    pool = _start(started, model, str(TEST_WORKLOADS / "sleepy.py"), 2)
    pool.round()
    busy = list(pool.busy)
    assert 0.19 <= pool.time_alone(2) < 0.35  # type: ignore[attr-defined]
    assert pool.busy == busy


@pytest.mark.parametrize("model", ["threads", "processes"])
def test_a_wrong_checksum_in_a_worker_s_units_alone_raises(
    model: str, started: list[gbmodels.Model], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A unit going wrong among the serial units a worker times fails as a round would."""
    monkeypatch.delitem(sys.modules, "gilbench_workload_goes_wrong", raising=False)  # fresh count
    pool = _start(started, model, str(TEST_WORKLOADS / "goes_wrong.py"), 1)  # warm-up: call 1
    with pytest.raises(gbprotocol.WorkloadFailure) as failure:
        pool.time_alone(4)  # type: ignore[attr-defined]
    assert (failure.value.status, failure.value.detail) == ("wrong-checksum", "expected 41, got 42")


def test_asyncio_to_thread_hands_each_worker_its_round_s_units_in_one_call(
    started: list[gbmodels.Model], monkeypatch: pytest.MonkeyPatch
) -> None:
    """round(5) on 3 workers is 3 to_thread calls of 5 units each, not 15 of one."""
    import asyncio

    calls: list[int] = []
    to_thread = asyncio.to_thread

    async def counted(func: Callable[..., object], *args: object) -> object:
        calls.append(args[-1])  # type: ignore[arg-type]
        return await to_thread(func, *args)

    pool = _start(started, "asyncio-to-thread", TINY, 3)
    monkeypatch.setattr(asyncio, "to_thread", counted)
    assert pool.round(5) == [EXPECTED] * 15
    assert calls == [5, 5, 5]


def test_serial_and_asyncio_have_no_parallel_workers_to_time(started: list[gbmodels.Model]) -> None:
    """Serial and asyncio run their units on one thread: no busy times to compare."""
    for model in ("serial", "asyncio"):
        _start(started, model, TINY, 2).round()
        assert started[-1].busy == []


def test_processes_record_their_start_method(started: list[gbmodels.Model]) -> None:
    """The processes model uses and reports the start method it was given."""
    pool = gbmodels.make_model("processes", TINY, 1, "spawn")
    started.append(pool)
    pool.start()
    assert gbmodels.model_metadata(pool) == {"gilbench_start_method": "spawn"}


def test_fork_is_refused_while_other_threads_run() -> None:
    """fork with another thread alive is unsupported, with the reason, and starts nothing."""
    release = threading.Event()
    other = threading.Thread(target=release.wait)
    other.start()
    try:
        pool = gbmodels.make_model("processes", TINY, 2, "fork")
        with pytest.raises(gbprotocol.WorkloadFailure) as failure:
            pool.start()
        pool.close()
    finally:
        release.set()
        other.join()
    assert (failure.value.status, failure.value.model_wide) == ("unsupported", False)
    assert failure.value.detail.startswith(
        "fork is unsafe here: this process already runs 1 other thread(s)"
    )
    assert pool.procs == []  # type: ignore[attr-defined]


def test_an_unavailable_start_method_is_unsupported() -> None:
    """A start method the platform lacks is reported unsupported, naming those it has."""
    with pytest.raises(gbprotocol.WorkloadFailure) as failure:
        gbmodels.make_model("processes", TINY, 1, "teleport")
    assert (failure.value.status, failure.value.model_wide) == ("unsupported", True)
    assert "start method 'teleport' is not available here" in failure.value.detail


@pytest.mark.skipif(sys.version_info >= (3, 13), reason="this interpreter has subinterpreters")
def test_subinterpreters_are_unsupported_before_313() -> None:
    """On CPython 3.11/3.12 the subinterpreters model is unsupported, with the reason."""
    with pytest.raises(gbprotocol.WorkloadFailure) as failure:
        gbmodels.make_model("subinterpreters", TINY, 2)
    assert (failure.value.status, failure.value.model_wide) == ("unsupported", True)
    assert failure.value.detail.startswith(
        "subinterpreters with their own GIL need CPython 3.13+; this is CPython 3."
    )


def test_unknown_model_is_reported_unsupported() -> None:
    """Asking for a model gilbench does not know is an 'unsupported' failure, not a crash."""
    with pytest.raises(gbprotocol.WorkloadFailure) as failure:
        gbmodels.make_model("fibers", TINY, 1)
    assert (failure.value.status, failure.value.model_wide) == ("unsupported", True)


def test_a_workload_that_fails_to_import_is_not_cached(tmp_path: Path) -> None:
    """A workload whose import raised is imported afresh next time, not half-loaded."""
    broken = tmp_path / "flaky.py"
    broken.write_text("raise ImportError('not yet')\n")
    with pytest.raises(ImportError):
        gbload.load_workload(str(broken))
    broken.write_text("CHECKSUM = 1\n\ndef kernel():\n    return 1\n")
    assert gbload.load_workload(str(broken)).kernel() == 1


@pytest.mark.parametrize("model", ["serial", "threads", "asyncio", "asyncio-to-thread",
                                   "threadpool"])  # fmt: skip
def test_a_workloads_kind_is_looked_up_once_a_hand_off_not_once_a_unit(
    model: str, started: list[gbmodels.Model]
) -> None:
    """The lookups that pick a unit's kind (sized, with a service) are as many in a round of
    8 units as in a round of 1 (gbunits.runner): their cost moved a count with the hash
    seed, and they are no part of the workload."""
    pool = _start(started, model, str(TEST_WORKLOADS / "counts_lookups.py"), 1)
    missed = gbload.load_workload(str(TEST_WORKLOADS / "counts_lookups.py")).MISSED
    before = len(missed)
    pool.round(1)
    one = len(missed) - before
    pool.round(8)
    assert len(missed) - before - one == one <= 2
