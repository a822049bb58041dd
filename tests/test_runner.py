"""The pyperf runner, run for real in a subprocess on the host interpreter."""

from __future__ import annotations

import json
import math
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from harness.provision.impls import Impl
from harness.run import matrix
from harness.run.bench import Outcome, calibration_args, classify, jit_calibration, run_bench
from harness.run.matrix import run_matrix
from harness.run.plan import PROFILES, Bench, Profile, plan
from harness.run.workloads import WORKLOADS_DIR, parse_workload
from tests.helpers import ONE_VALUE, TEST_WORKLOADS, joined_suite, paired_of, raw_of

pytestmark = pytest.mark.real  # it runs real interpreters: never beside another test


def _bench(impl: Impl, name: str, model: str = "threads", workers: int = 2) -> Bench:
    return Bench(impl, parse_workload(TEST_WORKLOADS / f"{name}.py"), model, workers)


def test_runner_writes_pyperf_json_with_gilbench_metadata(host_impl: Impl, tmp_path: Path) -> None:
    """A successful benchmark appends pyperf JSON carrying impl, GIL, model, workers, checksum."""
    bench = _bench(host_impl, "tiny")
    outcome = run_bench(bench, host_impl.python, tmp_path, ONE_VALUE)
    assert (outcome.status, outcome.detail) == ("ok", "")
    suite = joined_suite(tmp_path, "host")
    (benchmark,) = suite.get_benchmarks()
    assert benchmark.get_name() == "tiny/threads/2"
    meta = benchmark.get_metadata()
    assert meta["gilbench_impl"] == "host"
    assert meta["gilbench_model"] == "threads"
    assert meta["gilbench_workers"] == 2
    assert meta["gil_enabled"] == 1
    assert meta["gilbench_checksum"] == "2666466670000"
    assert len(benchmark.get_values()) == 2


def _paired(run_dir: Path, impl: str = "host") -> list[dict[str, object]]:
    return [json.loads(line) for path in paired_of(run_dir, impl)
            for line in path.read_text().splitlines()]  # fmt: skip


def test_each_value_is_paired_with_serial_units_timed_beside_it(
    host_impl: Impl, tmp_path: Path
) -> None:
    """A parallel cell writes one paired serial time per value; warm-ups get none."""
    warmed = Profile("test", 1, ("--processes", "2", "--values", "2", "--warmups", "3",
                                     "--min-time", "0.001"), timeout_s=60)  # fmt: skip
    outcome = run_bench(_bench(host_impl, "tiny"), host_impl.python, tmp_path, warmed)
    assert outcome.status == "ok", outcome.detail
    lines = _paired(tmp_path)
    assert [(r["impl"], r["workload"], r["model"], r["workers"]) for r in lines] == [
        ("host", "tiny", "threads", 2)
    ] * 2  # one line per worker process
    assert [len(r["seconds"]) for r in lines] == [2, 2]  # type: ignore[arg-type]
    assert all(s > 0 for r in lines for s in r["seconds"])  # type: ignore[attr-defined]
    # and each kept value's busy seconds, one per worker
    busy = [value for r in lines for value in r["busy"]]  # type: ignore[attr-defined]
    assert len(busy) == 4 and all(len(v) == 2 and min(v) > 0 for v in busy)


def test_the_serial_baseline_cell_is_not_paired(host_impl: Impl, tmp_path: Path) -> None:
    """serial/1 is the baseline itself: it writes no paired units."""
    bench = _bench(host_impl, "tiny", "serial", 1)
    assert run_bench(bench, host_impl.python, tmp_path, ONE_VALUE).status == "ok"
    assert _paired(tmp_path) == []


def test_build_flags_that_look_like_options_are_recorded(host_impl: Impl, tmp_path: Path) -> None:
    """Configure flags such as '--prefix=/x --disable-gil' pass through to the metadata intact."""
    flagged = Impl(id="host", family="cpython", python=host_impl.python, expect_gil=1,
                   build="--prefix=/x --disable-gil PYTHON_GIL=1")  # fmt: skip
    outcome = run_bench(_bench(flagged, "tiny"), flagged.python, tmp_path, ONE_VALUE)
    assert outcome.status == "ok", outcome.detail
    suite = joined_suite(tmp_path, "host")
    meta = suite.get_benchmarks()[0].get_metadata()
    assert meta["gilbench_build"] == "--prefix=/x --disable-gil PYTHON_GIL=1"


def test_runner_appends_instead_of_overwriting(host_impl: Impl, tmp_path: Path) -> None:
    """A second benchmark writes a piece beside the first's; nothing measured is lost."""
    for model in ("serial", "processes"):
        bench = _bench(host_impl, "tiny", model, 1)
        assert run_bench(bench, host_impl.python, tmp_path, ONE_VALUE).status == "ok"
    suite = joined_suite(tmp_path, "host")
    assert sorted(suite.get_benchmark_names()) == ["tiny/processes/1", "tiny/serial/1"]
    meta = suite.get_benchmark("tiny/processes/1").get_metadata()
    assert meta["gilbench_start_method"] in ("fork", "spawn", "forkserver")


def test_wrong_checksum_is_recorded_as_such(host_impl: Impl, tmp_path: Path) -> None:
    """A kernel returning the wrong value gives status wrong-checksum with both values."""
    outcome = run_bench(_bench(host_impl, "wrong_checksum"), host_impl.python, tmp_path,
                            ONE_VALUE)  # fmt: skip
    assert (outcome.status, outcome.detail) == ("wrong-checksum", "expected 41, got 42")
    assert not raw_of(tmp_path, "host")


def test_crash_is_recorded_with_its_exception(host_impl: Impl, tmp_path: Path) -> None:
    """A kernel that raises gives status crashed, naming the exception."""
    outcome = run_bench(_bench(host_impl, "crashes"), host_impl.python, tmp_path, ONE_VALUE)
    assert outcome.status == "crashed"
    assert "ZeroDivisionError" in outcome.detail


def test_gil_state_that_breaks_the_promise_rejects_the_run(host_impl: Impl, tmp_path: Path) -> None:
    """An implementation promising no GIL, run where the GIL is on, is rejected, not measured."""
    liar = Impl(id="liar", family="cpython", python=host_impl.python, expect_gil=0)
    outcome = run_bench(_bench(liar, "tiny"), liar.python, tmp_path, ONE_VALUE)
    assert outcome.status == "gil-mismatch"
    assert outcome.detail == "liar promises GIL disabled but the GIL in force is enabled"
    assert not raw_of(tmp_path, "liar")


def test_hanging_benchmark_is_killed_at_the_timeout(host_impl: Impl, tmp_path: Path) -> None:
    """A benchmark past its timeout is killed, with its pool, and recorded as timeout."""
    short = Profile("test", 1, ONE_VALUE.pyperf_args, timeout_s=3)
    outcome = run_bench(_bench(host_impl, "hangs"), host_impl.python, tmp_path, short)
    assert (outcome.status, outcome.detail) == ("timeout", "still running after 3 s; killed")
    assert outcome.elapsed_s < 30


def test_a_cell_far_past_what_its_serial_cell_took_is_killed_before_the_timeout(
    host_impl: Impl, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A hang only under threads gets its own, early kill: 10x what serial predicts."""
    monkeypatch.setattr(matrix, "HANG_FLOOR_S", 2.0)
    patient = Profile("test", 1, ONE_VALUE.pyperf_args, timeout_s=600)
    benches = [_bench(host_impl, "hangs_in_threads", "serial", 1),
               _bench(host_impl, "hangs_in_threads", "threads", 2)]  # fmt: skip
    serial, threads = run_matrix(benches, {"host": host_impl.python}, tmp_path, patient)
    assert serial.status == "ok"
    assert threads.status == "timeout" and threads.elapsed_s < 120
    assert threads.detail.startswith("still running after ")
    assert "over 10x the " in threads.detail and "its earlier attempts predict" in threads.detail


def test_a_workload_that_hangs_serially_costs_one_timeout_per_implementation(
    host_impl: Impl, tmp_path: Path
) -> None:
    """Its other cells on that implementation are recorded with the reason, never started."""
    short = Profile("test", 2, ONE_VALUE.pyperf_args, timeout_s=3)
    benches = [_bench(host_impl, "hangs", model, n)
               for model, n in (("serial", 1), ("threads", 2), ("processes", 2))]  # fmt: skip
    outcomes = run_matrix(benches, {"host": host_impl.python}, tmp_path, short)
    assert [o.status for o in outcomes] == ["timeout"] * 3
    assert [o.elapsed_s == 0 for o in outcomes] == [False, True, True]
    assert outcomes[1].detail == ("not started: hangs timed out serially on host, so each of "
                                  "its cells would cost a timeout")  # fmt: skip
    lines = (tmp_path / "outcomes.jsonl").read_text().splitlines()
    assert len(lines) == 3  # failed cells are not tried again in the second pass


def test_the_hang_bound_follows_the_cell_its_serial_cell_and_the_floor() -> None:
    """Own attempts first, then serial x workers, at least the floor, at most the timeout."""
    impl = Impl(id="x", family="cpython", python=Path(sys.executable))
    tiny = parse_workload(TEST_WORKLOADS / "tiny.py")
    profile = Profile("test", 1, (), timeout_s=900)
    seen = matrix.Seen()
    threads = Bench(impl, tiny, "threads", 4)
    limit, expected = seen.bound(threads, profile, 3)
    assert limit == 900 and math.isnan(expected)  # nothing measured yet: the timeout
    seen.took[("x", "tiny", "serial", 1)] = (3.0, 3)
    assert seen.bound(threads, profile, 3) == (120.0, 12.0)  # 10 x 4 workers x 3 s
    assert seen.bound(threads, profile, 30) == (900, 120.0)  # ten times the values: capped
    seen.took[threads.cell] = (1.0, 3)
    assert seen.bound(threads, profile, 3) == (matrix.HANG_FLOOR_S, 1.0)


def test_an_interpreter_removed_after_provisioning_is_a_crash_with_the_fix(
    tmp_path: Path,
) -> None:
    """Its cell is recorded crashed, naming the interpreter and the command that brings it
    back; nothing is raised, so the run goes on."""
    gone = Impl(id="gone", family="cpython", python=tmp_path / "gone" / "python3")
    outcome = run_bench(_bench(gone, "tiny"), tmp_path / "gone" / "python3", tmp_path, ONE_VALUE)
    assert outcome.status == "crashed"
    assert outcome.detail == (f"could not start {tmp_path / 'gone' / 'python3'} (No such file "
                              "or directory): it was removed after it was provisioned; 'nox -s "
                              "compare' provisions it again")  # fmt: skip


def test_a_runner_killed_by_a_signal_is_named_by_it_and_its_last_line_is_cut_short() -> None:
    """SIGSEGV and SIGXFSZ are named, of the runner or of pyperf's worker; a last line of a
    megabyte keeps its first 300 characters."""
    assert classify(-11, "Fatal Python error\n") == Outcome(
        "crashed", "killed by SIGSEGV: Fatal Python error", 0.0)  # fmt: skip
    flood = classify(-25, "x" * 2**20 + "\n")
    assert flood.detail.startswith("killed by SIGXFSZ: it wrote more than 64 MiB of output; ")
    assert flood.detail.endswith("x [...]") and len(flood.detail) < 400
    assert classify(3, "boom\n").detail == "exit status 3: boom"
    died = classify(1, "RuntimeError: /venv/bin/python failed with exit code -11\n")
    assert died.detail.startswith("exit status 1, its worker killed by SIGSEGV: RuntimeError")


def test_outcomes_are_appended_one_line_each(host_impl: Impl, tmp_path: Path) -> None:
    """run_matrix records every outcome, failures included, and carries on after them."""
    benches = [_bench(host_impl, "crashes", "serial", 1), _bench(host_impl, "tiny", "serial", 1)]
    pythons = {"host": host_impl.python}
    run_matrix(benches, pythons, tmp_path, ONE_VALUE)
    lines = [json.loads(x) for x in (tmp_path / "outcomes.jsonl").read_text().splitlines()]
    assert [(x["workload"], x["status"]) for x in lines] == [("crashes", "crashed"), ("tiny", "ok")]


def test_passes_append_to_the_same_benchmark_and_skip_failures(
    host_impl: Impl, tmp_path: Path
) -> None:
    """Each pass adds a piece of runs to the one benchmark; a failed one isn't retried."""
    two_passes = Profile("test", 2, ONE_VALUE.pyperf_args, timeout_s=60)
    benches = [_bench(host_impl, "tiny", "serial", 1), _bench(host_impl, "crashes", "serial", 1)]
    seen: list[str] = []

    def note(bench: Bench, outcome: Outcome | None) -> None:
        seen.append(f"{bench.workload.name}:{outcome and outcome.status}")

    last = run_matrix(benches, {"host": host_impl.python}, tmp_path, two_passes, note)
    assert [o.status for o in last] == ["ok", "crashed"]
    assert seen == ["tiny:ok", "crashes:crashed", "tiny:ok", "crashes:None"]
    suite = joined_suite(tmp_path, "host")
    assert suite.get_benchmark_names() == ["tiny/serial/1"]
    assert len(suite.get_benchmark("tiny/serial/1").get_values()) == 4


def test_a_model_the_implementation_lacks_is_asked_about_once(
    host_impl: Impl, tmp_path: Path
) -> None:
    """A model-wide unsupported answer is reused for the next workload, without a new start."""
    lacking = replace(ONE_VALUE, start_method="teleport")
    tiny = parse_workload(TEST_WORKLOADS / "tiny.py")
    sleepy = parse_workload(TEST_WORKLOADS / "sleepy.py")
    benches = [Bench(host_impl, w, "processes", 2) for w in (tiny, sleepy)]
    last = run_matrix(benches, {"host": host_impl.python}, tmp_path, lacking)
    assert [o.status for o in last] == ["unsupported", "unsupported"]
    assert last[0].detail == last[1].detail
    assert "start method 'teleport' is not available here" in last[1].detail
    logs = sorted(p.name for p in (tmp_path / "logs" / "host").iterdir())
    assert logs == ["tiny-processes-2.log"]  # sleepy's interpreter was never started
    lines = [json.loads(x) for x in (tmp_path / "outcomes.jsonl").read_text().splitlines()]
    assert [x["status"] for x in lines] == ["unsupported", "unsupported"]


def test_an_unsupported_workload_leaves_its_model_to_the_others(
    host_impl: Impl, tmp_path: Path
) -> None:
    """Shared state can't run in processes, but the next workload still runs there."""
    shared = parse_workload(WORKLOADS_DIR / "shared_dict_unlocked.py")
    tiny = parse_workload(TEST_WORKLOADS / "tiny.py")
    benches = [Bench(host_impl, w, "processes", 2) for w in (shared, tiny)]
    last = run_matrix(benches, {"host": host_impl.python}, tmp_path, ONE_VALUE)
    assert [(o.status, o.model_wide) for o in last] == [("unsupported", False), ("ok", False)]


def test_only_an_unsupported_status_after_the_scope_line_is_model_wide() -> None:
    """classify reads the scope line just before the status line, for unsupported only."""
    wide = "x\nGILBENCH-SCOPE model\nGILBENCH-STATUS unsupported: no multiprocessing\n"
    assert classify(19, wide) == Outcome("unsupported", "no multiprocessing", 0.0, True)
    narrow = "GILBENCH-SCOPE model\nnoise\nGILBENCH-STATUS unsupported: shared state\n"
    assert classify(19, narrow).model_wide is False
    crashed = "GILBENCH-SCOPE model\nGILBENCH-STATUS crashed: boom\n"
    assert classify(1, crashed).model_wide is False


def test_quick_plan_measures_serial_at_one_and_other_models_at_two(host_impl: Impl) -> None:
    """The quick matrix keeps the baseline (serial, 1) and every other model at 2 workers."""
    tiny = parse_workload(TEST_WORKLOADS / "tiny.py")
    benches = plan([host_impl], [tiny], ["serial", "threads", "asyncio"], [1, 2], True)
    assert [b.name for b in benches] == ["tiny/serial/1", "tiny/threads/2", "tiny/asyncio/2"]


def test_an_uncalibrated_cell_reuses_jit_warmups_of_its_workload_and_model(
    tmp_path: Path,
) -> None:
    """A cell's own calibration wins; else warm-ups come from its model, loops from serial/1."""
    raw = tmp_path / "pypy.json"
    serial = [{"metadata": {"calibrate_loops": 16}}, {"metadata": {"calibrate_warmups": 41}}]
    threads4 = [{"metadata": {"calibrate_loops": 4}}, {"metadata": {"calibrate_warmups": 30}}]
    raw.write_text(json.dumps({"version": "1.0", "metadata": {}, "benchmarks": [
        {"metadata": {"name": "nbody/serial/1"}, "runs": serial},
        {"metadata": {"name": "nbody/threads/2"}, "runs": [{"metadata": {"calibrate_loops": 8}}]},
        {"metadata": {"name": "nbody/threads/4"}, "runs": threads4},
    ]}))  # fmt: skip
    assert calibration_args(raw, "nbody/serial/1") == ["--loops", "16", "--warmups", "41"]
    assert calibration_args(raw, "nbody/threads/2") == ["--loops", "8", "--warmups", "30"]
    assert calibration_args(raw, "nbody/serial/2") == ["--loops", "16", "--warmups", "41"]
    # another model's event loop or pool is other code: it calibrates its own warm-ups,
    # with the serial cell's loops (a round lasts at least one unit)
    assert calibration_args(raw, "nbody/processes/2") == ["--loops", "16"]
    assert calibration_args(raw, "hash/threads/2") == []


def test_the_quick_profile_fixes_jit_warmups_instead_of_calibrating(tmp_path: Path) -> None:
    """Quick gives a JIT a fixed warm-up count; CPython keeps pyperf's single warm-up."""
    jit = Impl(id="pypy3.9", family="pypy", python=Path(sys.executable))
    plain = Impl(id="3.14", family="cpython", python=Path(sys.executable))
    assert PROFILES["quick"].jit_warmups == 12 and PROFILES["full"].jit_warmups is None
    assert jit.jit and not plain.jit
    tiny = parse_workload(TEST_WORKLOADS / "tiny.py")
    raw = tmp_path / "raw" / "pypy3.9.json"
    raw.parent.mkdir()
    raw.write_text(json.dumps({"version": "1.0", "metadata": {}, "benchmarks": [
        {"metadata": {"name": "tiny/serial/1"}, "runs": [{"metadata": {"calibrate_loops": 4,
                                                                      "calibrate_warmups": 90}}]},
    ]}))  # fmt: skip
    quick = PROFILES["quick"]
    assert jit_calibration(Bench(jit, tiny, "threads", 2), raw, quick) == [
        "--loops", "4", "--warmups", "12",
    ]  # fmt: skip
    full = PROFILES["full"]
    assert jit_calibration(Bench(jit, tiny, "threads", 2), raw, full) == ["--loops", "4"]
    assert jit_calibration(Bench(plain, tiny, "threads", 2), raw, quick) == [
        "--loops", "4",
    ]  # fmt: skip


def test_a_cell_the_budget_never_reached_is_cut_not_failed() -> None:
    """A cell recorded missing because the budget ended is told apart from a failure (the
    run says so and exits 0 for it); a cell missing for another reason is not."""
    cut = Outcome("missing", matrix.BUDGET_SPENT.format("20m00s"), 0.0)
    other = Outcome("missing", "shard 2/3 never reported", 0.0)
    assert matrix.was_cut(cut) and not matrix.was_cut(other)
    assert not matrix.was_cut(Outcome("crashed", cut.detail, 1.0))
