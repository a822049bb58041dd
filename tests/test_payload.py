"""Sized workloads inside the interpreter: each unit's data travels and comes back checked,
model by model, on the host interpreter (the subinterpreter models: tests/test_models.py)."""

from __future__ import annotations

from collections.abc import Iterator

import gbmodels
import gbpayload
import gbprotocol
import pytest

from tests.helpers import TEST_WORKLOADS

ECHO = str(TEST_WORKLOADS / "echo_payload.py")
GARBLES = str(TEST_WORKLOADS / "garbles_payload.py")
TASKS = str(TEST_WORKLOADS / "tiny_tasks.py")
# Every model the host's CPython 3.11 has: the subinterpreter ones need 3.14.
HOST_MODELS = ["serial", "threads", "processes", "processes-shm", "asyncio", "asyncio-to-thread",
               "threadpool", "processpool", "processpool-chunked"]  # fmt: skip


@pytest.fixture
def started() -> Iterator[list[gbmodels.Model]]:
    """Models a test starts; each is closed afterwards, even when the test fails."""
    models: list[gbmodels.Model] = []
    yield models
    for model in models:
        model.close()


def _start(started: list[gbmodels.Model], name: str, path: str, workers: int,
           size: float | None) -> gbmodels.Model:  # fmt: skip
    model = gbmodels.make_model(name, path, workers, None, size)
    started.append(model)
    model.start()
    return model


@pytest.mark.parametrize("model", HOST_MODELS)
@pytest.mark.parametrize("size", [0, 1024, 65536])
def test_each_model_moves_every_unit_s_data_and_checks_what_comes_back(
    model: str, size: int, started: list[gbmodels.Model]
) -> None:
    """round(4) on 2 workers runs 8 units, each output checked: their lengths come back."""
    pool = _start(started, model, ECHO, 2, size)
    assert pool.round(4) == [size] * 8


@pytest.mark.parametrize("model", HOST_MODELS)
def test_an_output_that_differs_from_the_expected_fails_the_round(model: str) -> None:
    """A unit whose data came back changed is wrong-checksum, with both outputs described."""
    pool = gbmodels.make_model(model, GARBLES, 2, None, 1024)
    with pytest.raises(gbprotocol.WorkloadFailure) as failure:
        pool.start()
    pool.close()
    assert failure.value.status == "wrong-checksum"
    assert str(failure.value.detail).startswith("expected output 1024 bytes, crc32 ")
    assert ", got 1024 bytes, crc32 " in str(failure.value.detail)


@pytest.mark.parametrize("model", ["processes", "processes-shm", "processpool"])
def test_paired_serial_units_run_on_the_worker_s_own_data(
    model: str, started: list[gbmodels.Model]
) -> None:
    """time_alone times units a worker runs on data it built itself: no transfer, checked."""
    pool = _start(started, model, ECHO, 2, 65536)
    assert pool.time_alone(3) > 0


@pytest.mark.parametrize("model", ["processes", "threads", "threadpool", "processpool"])
def test_a_task_size_workload_runs_each_task_on_its_own_argument(
    model: str, started: list[gbmodels.Model]
) -> None:
    """Each task gets its iteration count, and its sum is checked against the closed form."""
    pool = _start(started, model, TASKS, 2, 0.001)
    assert pool.round(3) == [332833500] * 6


def test_the_shared_memory_variant_refuses_a_workload_that_moves_no_data() -> None:
    """processes-shm on a workload without a payload is unsupported, saying why."""
    with pytest.raises(gbprotocol.WorkloadFailure) as failure:
        gbmodels.make_model("processes-shm", str(TEST_WORKLOADS / "tiny.py"), 2)
    assert failure.value.status == "unsupported"
    assert failure.value.detail == (
        "tiny.py moves no data: the processes-shm model differs from its base model only in "
        "how a unit's data travels"
    )


def test_a_sized_model_records_its_size_and_the_expected_output() -> None:
    """The run metadata carries the size and a digest of what every unit must give back."""
    pool = gbmodels.make_model("serial", ECHO, 1, None, 1024)
    metadata = gbmodels.model_metadata(pool)
    assert metadata["gilbench_size"] == 1024
    assert metadata["gilbench_checksum"] == gbpayload.describe(
        bytes(bytearray(i % 251 for i in range(1024)))[::-1]
    )


def test_stream_keeps_two_units_in_hand_a_worker_and_stops_after_a_failure() -> None:
    """A worker has its next argument waiting while it runs one (never more than AHEAD);
    once a unit failed nothing more is handed out, and those in hand are waited for."""
    given: list[int] = []
    flying = {0: 0, 1: 0}
    order = iter([(0, ("ok", b"x")), (1, ("crashed", "boom")), (0, ("ok", b"x")),
                  (1, ("ok", b"x")), (0, ("ok", b"x"))])  # fmt: skip

    def give(index: int, argument: object) -> None:
        flying[index] += 1
        assert flying[index] <= gbpayload.AHEAD == 2
        given.append(index)

    def take() -> tuple[int, tuple[str, object], float]:
        index, answer = next(order)
        flying[index] -= 1
        return index, answer, 0.5

    done, busy = gbpayload.stream(give, take, 2, 3, [b"a", b"b"], b"x")
    assert given == [0, 0, 1, 1, 0]  # worker 1's failure stopped the hand-outs
    assert done == [("ok", 1), ("crashed", "boom"), ("ok", 1), ("ok", 1), ("ok", 1)]
    assert busy == [1.5, 1.0]
    assert flying == {0: 0, 1: 0}
