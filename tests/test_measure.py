"""The one measuring step (gbmeasure.RoundTimer) and the runners' loops around it, on a fake clock.

As pyperf's own tests/test_runner.py does, the clock is a fake whose time moves only when
the fake model runs a round or the fake pairing runs its serial units, so every second a
runner records can be traced to where it was spent.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
from pathlib import Path

import gbmeasure
import gbmodels
import pure_runner
import pyperf
import pytest
import runner

from tests.helpers import TEST_WORKLOADS

ROUND_SECONDS = 0.5  # a fake round's time per unit
PAIRING_SECONDS = 7.0  # a fake pairing's time for its units: never part of a value


class FakeClock:
    """A clock that reads ``now``; the fakes below move it on, and log each reading."""

    def __init__(self, log: list[str]) -> None:
        self.now = 100.0
        self.log = log

    def __call__(self) -> float:
        self.log.append(f"clock {self.now:g}")
        return self.now


class FakeModel:
    """A model whose round of ``loops`` units takes loops x ROUND_SECONDS on the clock."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.rounds = 0
        self.busy: list[float] = []

    def round(self, loops: int) -> None:
        self.rounds += 1
        self.clock.log.append(f"round {loops}")
        self.clock.now += loops * ROUND_SECONDS
        self.busy = [float(self.rounds), self.rounds + 0.5]  # this round's own busy times


class FakePairing:
    """gbmeasure.Pairing's interface, ``after`` logged."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock

    def after(self, loops: int, busy: object = ()) -> None:
        self.clock.log.append(f"after {loops} busy={busy}")
        self.clock.now += PAIRING_SECONDS


def _fakes() -> tuple[list[str], FakeClock, FakeModel, FakePairing]:
    log: list[str] = []
    clock = FakeClock(log)
    return log, clock, FakeModel(clock), FakePairing(clock)


def test_a_value_is_the_clock_s_time_around_the_round_alone() -> None:
    """The step reads the clock right before and after round(loops), and pairs only after."""
    log, clock, model, pairing = _fakes()
    timer = gbmeasure.RoundTimer(model, pairing, warmups=0, clock=clock)
    assert timer(4) == 4 * ROUND_SECONDS  # not the pairing's 7 s
    assert timer(4) == 4 * ROUND_SECONDS
    assert log == [
        "clock 100", "round 4", "clock 102", "after 4 busy=[1.0, 1.5]",
        "clock 109", "round 4", "clock 111", "after 4 busy=[2.0, 2.5]",
    ]  # fmt: skip


def test_warm_ups_get_no_serial_units_only_values_are_paired() -> None:
    """The serial units run code the warm-up rounds warmed, so only values are paired."""
    log, clock, model, pairing = _fakes()
    timer = gbmeasure.RoundTimer(model, pairing, warmups=2, clock=clock)
    for _ in range(4):
        timer(3)
    assert [line for line in log if not line.startswith("clock")] == [
        "round 3", "round 3",
        "round 3", "after 3 busy=[3.0, 3.5]",
        "round 3", "after 3 busy=[4.0, 4.5]",
    ]  # fmt: skip


def test_calibration_calls_are_never_paired() -> None:
    """A step told no warm-up count (a calibration run) times rounds and pairs none."""
    log, clock, model, pairing = _fakes()
    timer = gbmeasure.RoundTimer(model, pairing, warmups=None, clock=clock)
    assert [timer(loops) for loops in (1, 2, 4)] == [0.5, 1.0, 2.0]
    assert [line for line in log if line.startswith("after")] == []


def test_the_step_reads_the_one_clock_unless_given_another(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without a clock argument the step and the pairing both read gbprobe.clock."""
    import gbprobe

    log: list[str] = []
    clock = FakeClock(log)
    monkeypatch.setattr(gbprobe, "clock", clock)
    assert gbmeasure.RoundTimer(FakeModel(clock), None, 0)(2) == 1.0
    assert log == ["clock 100", "round 2", "clock 101"]


def test_pyperf_calibration_workers_get_no_warm_up_count_and_so_no_pairing() -> None:
    """runner.py gives the step pyperf's --warmups, or None in a calibrating worker."""

    def pyperf_args(**flags: object) -> argparse.Namespace:
        base = {"calibrate_loops": False, "recalibrate_loops": False,
                "calibrate_warmups": False, "recalibrate_warmups": False, "warmups": 3}  # fmt: skip
        return argparse.Namespace(**{**base, **flags})

    assert runner._unpaired_calls(pyperf_args()) == 3
    assert runner._unpaired_calls(pyperf_args(warmups=None)) == 0
    for flag in ("calibrate_loops", "recalibrate_loops", "calibrate_warmups",
                 "recalibrate_warmups"):  # fmt: skip
        assert runner._unpaired_calls(pyperf_args(**{flag: True})) is None


def test_pure_runner_s_loop_gives_pyperf_its_warm_ups_then_its_values(tmp_path: Path) -> None:
    """Warm-ups as [loops, seconds per round], then values: a run pyperf loads as such."""
    log, clock, model, pairing = _fakes()
    timer = gbmeasure.RoundTimer(model, pairing, warmups=2, clock=clock)
    warmups, values = pure_runner.measure_values(timer, 4, 2, 3)
    assert warmups == [[4, ROUND_SECONDS], [4, ROUND_SECONDS]]
    assert values == [ROUND_SECONDS] * 3
    assert [line for line in log if line.startswith("after")] == [
        "after 4 busy=[3.0, 3.5]", "after 4 busy=[4.0, 4.5]", "after 4 busy=[5.0, 5.5]",
    ]  # fmt: skip
    raw = tmp_path / "raw.json"
    metadata = {"name": "tiny/threads/2", "loops": 4, "unit": "second"}
    runs = [{"warmups": warmups, "values": values, "metadata": {}}]
    pure_runner.append_benchmark(str(raw), "tiny/threads/2", metadata, runs)
    (run,) = pyperf.Benchmark.load(str(raw)).get_runs()
    assert (run.warmups, run.values) == (((4, 0.5), (4, 0.5)), (0.5, 0.5, 0.5))


def _calibration_args(loops: int = 0, warmups: int | None = None) -> argparse.Namespace:
    return argparse.Namespace(loops=loops, warmups=warmups, min_time=0.1)


def test_pure_runner_calibrates_loops_then_warm_ups_by_pyperf_s_rule() -> None:
    """Loops double until a value lasts min_time; steady values then settle after 1 warm-up."""
    log, clock, model, pairing = _fakes()
    model_seconds = 1 / 32  # per unit: 1 and 2 loops are under 0.1 s, 4 loops are not
    timer = gbmeasure.RoundTimer(model, pairing, warmups=None, clock=clock)

    def round_of(loops: int) -> None:
        clock.now += loops * model_seconds

    model.round = round_of  # type: ignore[method-assign]
    loops, nwarmup, warmups = pure_runner.calibrate(timer, _calibration_args(), clock)
    assert (loops, nwarmup) == (4, 1)
    assert warmups == [[1, model_seconds], [2, model_seconds]] + [[4, model_seconds]] * 42
    assert not any(line.startswith("after") for line in log)


def test_pure_runner_keeps_warm_ups_it_was_given() -> None:
    """With --warmups known (from another cell), calibration finds only the loops."""
    _, clock, model, _ = _fakes()
    timer = gbmeasure.RoundTimer(model, None, warmups=None, clock=clock)
    assert pure_runner.calibrate(timer, _calibration_args(warmups=7), clock) == (
        1, 7, [[1, ROUND_SECONDS]],
    )  # fmt: skip


def test_pure_runner_says_so_when_warm_ups_never_settle(capsys: pytest.CaptureFixture[str]) -> None:
    """A JIT still speeding up after the wall-clock limit is measured after every value taken."""
    _, clock, model, _ = _fakes()
    speed = [1.0]

    def faster(loops: int) -> None:  # 1% faster every value, for ever
        speed[0] *= 0.99
        clock.now += loops * speed[0]

    model.round = faster  # type: ignore[method-assign]
    timer = gbmeasure.RoundTimer(model, None, warmups=None, clock=clock)
    _, nwarmup, warmups = pure_runner.calibrate(timer, _calibration_args(loops=1), clock)
    assert nwarmup == len(warmups) - 1 == 41  # 41 values take 32 s here: past the 30 s limit
    assert capsys.readouterr().err == (
        "gilbench: the warm-up values did not settle within 41 values; measuring after "
        "41 warm-ups\n"
    )


def _cell(workload: Path | str, model: str) -> argparse.Namespace:
    return argparse.Namespace(impl="host", workload=str(workload), model=model, workers=2)


def test_the_pairing_keeps_each_value_s_serial_time_per_unit_and_busy_times(
    tmp_path: Path,
) -> None:
    """Threads: Pairing.after keeps seconds per unit from its own clock, and busy times."""
    readings = iter([10.0, 12.0])  # a value's serial units: start and end
    tiny = TEST_WORKLOADS / "tiny.py"
    model = gbmodels.make_model("threads", str(tiny), 2)
    pairing = gbmeasure.Pairing(_cell(tiny, "threads"), str(tmp_path / "paired.jsonl"), model,
                                lambda: next(readings))  # fmt: skip
    try:
        pairing.after(4, busy=[0.12345678, 0.2])
        pairing.write()
    finally:
        pairing.close()
    (line,) = (tmp_path / "paired.jsonl").read_text().splitlines()
    assert json.loads(line) == {
        "impl": "host", "workload": "tiny", "model": "threads", "workers": 2,
        "pairing": pairing.token, "seconds": [0.5], "busy": [[0.123457, 0.2]],
        "serial_in": "this process",
    }  # fmt: skip
    assert pairing.token.startswith(f"{os.getpid():x}-")


class WorkerTimedModel:
    """A model whose workers share no memory: each call of time_alone takes 6 s, it says."""

    shares_memory = False

    def __init__(self) -> None:
        self.asked: list[int] = []

    def time_alone(self, units: int) -> float:
        self.asked.append(units)
        return 6.0


def test_a_model_sharing_no_memory_has_its_worker_time_the_serial_units(tmp_path: Path) -> None:
    """Processes and subinterpreters: the worker's own seconds are kept; no clock read here."""

    def no_clock() -> float:
        raise AssertionError("the pairing read a clock of its own")

    model = WorkerTimedModel()
    pairing = gbmeasure.Pairing(_cell(TEST_WORKLOADS / "tiny.py", "processes"),
                                str(tmp_path / "paired.jsonl"), model, no_clock)  # fmt: skip
    pairing.after(4, busy=[1.0, 1.5])
    pairing.write()
    pairing.close()
    assert (model.asked, pairing.baseline) == ([4], None)  # no serial model of its own
    (line,) = (tmp_path / "paired.jsonl").read_text().splitlines()
    assert json.loads(line) == {
        "impl": "host", "workload": "tiny", "model": "processes", "workers": 2,
        "pairing": pairing.token, "seconds": [1.5], "busy": [[1.0, 1.5]],
        "serial_in": "a worker",
    }  # fmt: skip


# A workload that notes, at every unit, the process and thread that ran it.
WHERE = """\
import os, threading

CHECKSUM = 1


def kernel():
    with open(__file__ + ".where", "a") as out:
        out.write("%d %d\\n" % (os.getpid(), threading.current_thread().ident))
    return 1
"""


@pytest.fixture
def where_workload(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """WHERE as a workload file; its record of units is ``<file>.where``."""
    monkeypatch.delitem(sys.modules, "gilbench_workload_where", raising=False)
    path = tmp_path / "where.py"
    path.write_text(WHERE)
    return path


def _units_ran_in(workload: Path) -> list[tuple[int, int]]:
    """(pid, thread) of every unit run since the last call, in order."""
    record = Path(f"{workload}.where")
    lines = record.read_text().splitlines() if record.exists() else []
    record.write_text("")
    return [(int(pid), int(thread)) for pid, thread in (line.split() for line in lines)]


def test_a_processes_cell_s_serial_units_run_in_its_worker_processes_in_turn(
    tmp_path: Path, where_workload: Path
) -> None:
    """Each value's serial units run in one worker process, the next value's in the next."""
    model = gbmodels.make_model("processes", str(where_workload), 2)
    model.start()
    try:
        pairing = gbmeasure.Pairing(_cell(where_workload, "processes"),
                                    str(tmp_path / "paired.jsonl"), model)  # fmt: skip
        _units_ran_in(where_workload)  # forget the warm-up round's units
        pairing.after(3)
        pairing.after(1)
        pids = [pid for pid, _ in _units_ran_in(where_workload)]
        pairing.close()
    finally:
        model.close()
    workers = [proc.pid for proc in model.procs]  # type: ignore[attr-defined]
    assert pids == [workers[0]] * 3 + [workers[1]]
    assert os.getpid() not in pids
    assert len(pairing.seconds) == 2


def test_a_threads_cell_s_serial_units_run_here_on_the_calling_thread(
    tmp_path: Path, where_workload: Path
) -> None:
    """Threads' workers run in this process: the pairing's serial units run on this thread."""
    model = gbmodels.make_model("threads", str(where_workload), 2)
    model.start()
    try:
        pairing = gbmeasure.Pairing(_cell(where_workload, "threads"),
                                    str(tmp_path / "paired.jsonl"), model)  # fmt: skip
        _units_ran_in(where_workload)
        pairing.after(2)
        ran = _units_ran_in(where_workload)
        pairing.close()
    finally:
        model.close()
    assert ran == [(os.getpid(), threading.get_ident())] * 2


def test_only_cells_other_than_the_serial_baseline_are_paired() -> None:
    """wants_pairing: asked for with --paired, and never for serial/1 itself."""

    def cell(model: str, workers: int, paired: str | None = "p.jsonl") -> argparse.Namespace:
        return argparse.Namespace(model=model, workers=workers, paired=paired)

    assert gbmeasure.wants_pairing(cell("threads", 1))
    assert gbmeasure.wants_pairing(cell("serial", 2))
    assert not gbmeasure.wants_pairing(cell("serial", 1))
    assert not gbmeasure.wants_pairing(cell("threads", 2, paired=None))
