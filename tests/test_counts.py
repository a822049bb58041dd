"""Instruction counts of serial cells under valgrind's cachegrind (harness/run/counts.py).

The tests that run valgrind count tests/data/workloads/tiny.py on the interpreter running
the tests: about 1.5 s a run, start-up included.
"""

from __future__ import annotations

import json
import math
import shutil
import sys
from pathlib import Path

import pytest

from harness import store
from harness.countsfile import COUNT_COLUMNS, load_counts
from harness.provision.impls import Impl
from harness.provision.valgrind import Valgrind, probe_valgrind
from harness.results import load_run
from harness.run import cachegrind, counts, instructionsbench, protocol
from harness.run.counts import NOT_COUNTED, Repeat
from harness.run.plan import Bench
from harness.run.workloads import parse_workload
from tests.helpers import QUICK, TEST_WORKLOADS, require_or_skip
from tests.test_protocol import inside_constants

pytestmark = pytest.mark.real  # it runs real interpreters: never beside another test

VALGRIND = Valgrind(Path("/usr/bin/valgrind"), "valgrind-3.19.0")  # never started below
JYTHON = Impl(id="jython2.7", family="jython", python=Path("/usr/bin/jython"), runner="pure")
GRAALPY = Impl(id="graalpy", family="graalpy", python=Path("/opt/graalpy/bin/graalpy"))


def _serial(impl: Impl, name: str = "tiny") -> Bench:
    return Bench(impl, parse_workload(TEST_WORKLOADS / f"{name}.py"), "serial", 1)


def _valgrind() -> Valgrind:
    """The machine's valgrind; the test skips only where it is truly absent (fails in CI)."""
    found = probe_valgrind(install=False, say=lambda _: None)
    require_or_skip(found.available, "valgrind")
    return found


def _write_pycs(bench: Bench, log: Path) -> None:
    """As count_cell does first: a native run writes the .pyc files the counted runs read
    (in a fresh clone there are none, and the first counted run would compile them)."""
    env = cachegrind.count_environ(bench.impl, 1)
    native = cachegrind.run_counter(cachegrind.counter_args(bench, Path(sys.executable), 1),
                                    env, log, cachegrind.NATIVE_TIMEOUT_S)  # fmt: skip
    assert native.status == "ok", native.detail


def test_the_difference_of_two_runs_cancels_start_up(host_impl: Impl, tmp_path: Path) -> None:
    """Runs of N, N+8 and N+16 units, N as count_cell picks it for tiny.py's k of about 132,
    give the same instructions per unit from either pair, while a whole run's total over
    its units is mostly start-up. (With N = 1, in a clean clone's test venv, the pairs
    differed by 5%: the first units' one-off work.)"""
    valgrind = _valgrind()
    assert valgrind.path is not None
    bench, python = _serial(host_impl), Path(sys.executable)
    env = cachegrind.count_environ(host_impl, 1)
    _write_pycs(bench, tmp_path / "count.log")
    first = counts.first_units(132)
    totals = {}
    for units in (first, first + 8, first + 16):
        ran, totals[units] = cachegrind.run_counted(bench, python, valgrind.path, units, env,
                                             tmp_path / "count.log")  # fmt: skip
        assert (ran.status, ran.said["checksum"]) == ("ok", "2666466670000"), ran.detail
    near = (totals[first + 8] - totals[first]) / 8
    far = (totals[first + 16] - totals[first + 8]) / 8
    assert abs(far / near - 1) < 1e-3
    assert totals[first] - first * near > 3 * near  # start-up, imports, warm-up: dropped


def test_a_count_repeat_records_both_runs_and_valgrinds_version(
    host_impl: Impl, tmp_path: Path
) -> None:
    """One repeat is N and N+k units under one hash seed, each run's total, and the checksum
    and GIL state the counted units ran with."""
    valgrind = _valgrind()
    _write_pycs(_serial(host_impl), tmp_path / "count.log")
    repeat = counts.count_repeat(_serial(host_impl), Path(sys.executable), valgrind, 2, 1, 1,
                                 tmp_path / "count.log")  # fmt: skip
    assert (repeat.status, repeat.units, repeat.hash_seed) == ("ok", (1, 2), 2), repeat.detail
    assert repeat.valgrind == valgrind.version and repeat.valgrind.startswith("valgrind-3.")
    assert (repeat.checksum, repeat.gil_enabled) == ("2666466670000", 1)
    assert 10e6 < repeat.per_unit < 20e6  # 20000 multiply-adds of Python ints


@pytest.mark.parametrize(("impl", "runs_on"), [(JYTHON, "a JVM"), (GRAALPY, "a JVM")])
def test_a_jvm_implementation_is_not_counted_with_its_reason(
    impl: Impl, runs_on: str, tmp_path: Path
) -> None:
    """Jython and GraalPy get one 'not counted' line with the reason, and no run at all."""
    said: list[str] = []
    (count,) = counts.count_cells([_serial(impl)], {impl.id: Path("/nonexistent")}, tmp_path,
                                  valgrind=VALGRIND, say=said.append)  # fmt: skip
    reason = (f"{impl.id} runs on {runs_on}, whose JIT compiler and garbage collector threads "
              "valgrind would count with the units, one thread at a time")  # fmt: skip
    assert (count.status, count.detail, count.repeats) == (NOT_COUNTED, reason, 0)
    assert math.isnan(count.per_unit)
    assert said == [f"instructions {impl.id} tiny: not counted: {reason}"]
    (line,) = store.counts_path(tmp_path).read_text().splitlines()
    assert json.loads(line)["status"] == "not counted"


def test_only_serial_cells_with_an_interpreter_are_counted(tmp_path: Path) -> None:
    """A threads cell, or an implementation without an interpreter, gets no line."""
    benches = [Bench(JYTHON, _serial(JYTHON).workload, "threads", 2), _serial(GRAALPY)]
    assert counts.count_cells(benches, {"jython2.7": Path("/x")}, tmp_path, valgrind=VALGRIND) == []
    assert not store.counts_path(tmp_path).exists()


def test_a_missing_valgrind_is_one_clear_line(
    host_impl: Impl, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without valgrind, and not allowed to install it, counting says what to run in one
    line, counts nothing and writes nothing."""
    monkeypatch.setenv("PATH", str(tmp_path))  # no valgrind, no dpkg, no apt-get
    said: list[str] = []
    result = counts.count_cells([_serial(host_impl)], {"host": Path(sys.executable)}, tmp_path,
                                install=False, say=said.append)  # fmt: skip
    assert result == []
    assert said == ["instructions not counted: valgrind is not installed; run: sudo apt-get "
                    "install -y valgrind (or pass --install-system-packages)"]  # fmt: skip
    assert not store.counts_path(tmp_path).exists()


def test_valgrind_that_cant_be_installed_is_one_clear_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Allowed to install but with no apt-get, the probe says why and what to run."""
    monkeypatch.setenv("PATH", str(tmp_path))
    found = probe_valgrind(install=True, say=lambda _: None)
    assert not found.available
    assert found.unavailable == ("valgrind could not be installed: missing system packages "
                                 "['valgrind']; run: sudo apt-get install -y valgrind")  # fmt: skip


def test_a_wrong_checksum_fails_the_count_before_valgrind_runs(
    host_impl: Impl, tmp_path: Path
) -> None:
    """The run outside valgrind checks the units: a wrong checksum is the cell's status,
    found in a fraction of a second, and no counted run follows."""
    log = tmp_path / "count.log"
    (repeat,) = counts.count_cell(_serial(host_impl, "wrong_checksum"), Path(sys.executable),
                                  VALGRIND, 3, log)  # fmt: skip
    assert (repeat.status, repeat.detail) == ("wrong-checksum", "expected 41, got 42")
    assert "valgrind" not in log.read_text()


def test_the_count_runs_with_the_timed_runs_environment() -> None:
    """3.14t+gil is counted with PYTHON_GIL=1 as it is timed; 3.14 never inherits one; both
    under the repeat's hash seed; and only what pyperf passes to its workers reaches a
    counted run (PYTHONDONTWRITEBYTECODE does not)."""
    ft_gil = Impl(id="3.14t+gil", family="cpython", python=Path("/p"), expect_gil=1,
                  env={"PYTHON_GIL": "1"})  # fmt: skip
    plain = Impl(id="3.14", family="cpython", python=Path("/p"), unset_env=("PYTHON_GIL",))
    base = {"PATH": "/bin", "HOME": "/h", "PYTHON_GIL": "0", "PYTHONDONTWRITEBYTECODE": "1",
            "LANG": "C"}  # fmt: skip
    with pytest.MonkeyPatch.context() as patch:
        for name, value in base.items():
            patch.setenv(name, value)
        assert cachegrind.count_environ(ft_gil, 3)["PYTHON_GIL"] == "1"
        assert "PYTHON_GIL" not in cachegrind.count_environ(plain, 3)
        assert cachegrind.count_environ(plain, 3) == {"PATH": "/bin", "HOME": "/h", "LANG": "C",
                                                      "PYTHONHASHSEED": "3"}  # fmt: skip


def test_the_count_command_is_cachegrind_without_cache_simulation(host_impl: Impl) -> None:
    """valgrind runs the counter with the timed runs' interpreter and cachegrind's cache
    simulation off, its totals in the named file."""
    bench = _serial(host_impl)
    command = cachegrind.count_command(Path("/usr/bin/valgrind"), Path("/t/out"), bench,
                                   Path("/venv/bin/python"), 3)  # fmt: skip
    assert command == [
        "/usr/bin/valgrind", "--tool=cachegrind", "--cache-sim=no", "-q",
        "--cachegrind-out-file=/t/out", "/venv/bin/python", str(protocol.COUNTER),
        "--workload", str(bench.workload.path), "--units", "3", "--impl", "host", "--build=",
        "--expect-gil", "1",
    ]  # fmt: skip


FAKE_VALGRIND = """#!{python}
# Stands in for valgrind: runs the counter natively, and writes 10 instructions a unit
# plus 1000 of start-up as cachegrind's totals.
import subprocess, sys
args = sys.argv[1:]
if args == ["--version"]:
    sys.exit(print("valgrind-fake"))
first = next(i for i, a in enumerate(args) if not a.startswith("-"))
options, command = args[:first], args[first:]
out = next(a.split("=", 1)[1] for a in options if a.startswith("--cachegrind-out-file="))
units = int(command[command.index("--units") + 1])
done = subprocess.run(command)
open(out, "w").write("events: Ir\\nsummary: %d\\n" % (1000 + 10 * units))
sys.exit(done.returncode)
"""


def _fake_valgrind(folder: Path) -> Valgrind:
    path = folder / "valgrind"
    path.write_text(FAKE_VALGRIND.format(python=sys.executable))
    path.chmod(0o755)
    return Valgrind(path, "valgrind-fake")


def test_count_cells_writes_each_repeat_and_returns_each_cells_figure(
    host_impl: Impl, tmp_path: Path
) -> None:
    """Through a stand-in valgrind (10 instructions a unit): R repeats under seeds 1..R,
    k sized by the native run (50 units or more of tiny.py's millisecond or so) and N from
    k, one line each in counts.jsonl, and one Count for the cell."""
    said: list[str] = []
    (count,) = counts.count_cells([_serial(host_impl)], {"host": Path(sys.executable)},
                                  tmp_path, valgrind=_fake_valgrind(tmp_path),
                                  say=said.append)  # fmt: skip
    assert (count.status, count.per_unit, count.stdev, count.repeats) == ("ok", 10.0, 0.0, 3)
    lines = [json.loads(line) for line in store.counts_path(tmp_path).read_text().splitlines()]
    more = lines[0]["units"][1] - lines[0]["units"][0]
    assert [(r["repeat"], r["hash_seed"], r["units"]) for r in lines] == [
        (n, n, [counts.first_units(more), counts.first_units(more) + more]) for n in (1, 2, 3)
    ]
    assert {r["valgrind"] for r in lines} == {"valgrind-fake"}
    assert 1 < more <= counts.MAX_MORE_UNITS
    assert said == [counts.format_count(count)]
    log = store.count_log_path(tmp_path, "host", "tiny").read_text()
    assert log.count("--cachegrind-out-file=") == 6  # 3 repeats of 2 runs, after one native


def test_a_jit_is_counted_past_its_first_k_units(host_impl: Impl, tmp_path: Path) -> None:
    """On PyPy (any JIT) the window of k units starts after k units, not one, so the
    units counted run compiled code, as timed values do after their warm-ups."""
    pypy = Impl(id="pypy3.9", family="pypy", python=Path(sys.executable), expect_gil=1)
    (repeat, *_) = counts.count_cell(_serial(pypy), Path(sys.executable),
                                     _fake_valgrind(tmp_path), 3, tmp_path / "log",
                                     more=4)  # fmt: skip
    assert (repeat.status, repeat.units) == ("ok", (4, 8))


def test_k_is_sized_by_cpu_time_with_waiting_capped() -> None:
    """k units take about TARGET_CPU_S of native CPU: one nbody unit, 132 units of tiny.py;
    a unit that mostly waits gets as many as MAX_WAIT_S of waiting allows, unless their
    CPU time passes MAX_WAITING_CPU_S; never more than MAX_MORE_UNITS."""
    assert counts.units_for(0.054, 0.054) == 1  # nbody on 3.14
    assert counts.units_for(0.00038, 0.00038) == 132  # tiny.py
    assert counts.units_for(0.0823, 0.00036) == 195  # io_sleep: 8 waits of 10 ms
    assert counts.units_for(0.5, 0.0001) == 32  # half a second of waiting a unit
    assert counts.units_for(0.1, 0.04) == 12  # 40% CPU: its CPU time bounds it
    assert counts.units_for(0.1, 0.06) == 1  # mostly CPU, 40 ms of waiting
    assert counts.units_for(0.1, 0.0) == 160  # no CPU time measured: the waiting alone
    assert counts.units_for(1e-7, 1e-7) == counts.MAX_MORE_UNITS
    assert counts.units_for(0.0, 0.0) == counts.MAX_MORE_UNITS


def test_the_first_run_holds_a_sixteenth_of_k_units_or_one() -> None:
    """N is one unit where a unit computes (k of 1 to 16), 13 of io_sleep's (k = 194)."""
    assert [counts.first_units(k) for k in (1, 16, 17, 194, 1000)] == [1, 1, 2, 13, 63]


def test_the_counter_leaves_without_finalizing_the_interpreter(
    host_impl: Impl, tmp_path: Path
) -> None:
    """A counted run ends with the counter's line: the workload's exit hook, which runs when
    its module is run and the interpreter finalizes, never runs, so what finalization does
    is in neither of a count's runs."""
    import subprocess

    bench = _serial(host_impl, "says_at_exit")
    run_it = "import runpy, sys; runpy.run_path(sys.argv[1])"
    finalized = subprocess.run([sys.executable, "-c", run_it, str(bench.workload.path)],
                               capture_output=True, text=True)  # fmt: skip
    assert finalized.stdout == "FINALIZED\n"
    log = tmp_path / "count.log"
    ran = cachegrind.run_counter(cachegrind.counter_args(bench, Path(sys.executable), 2),
                                 cachegrind.count_environ(host_impl, 1), log, 60.0)  # fmt: skip
    assert (ran.status, ran.said["units"]) == ("ok", 2), ran.detail
    assert "FINALIZED" not in log.read_text()


def test_a_repeat_whose_start_ups_collected_differently_is_counted_again(
    host_impl: Impl, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When the first run's start-up runs the cyclic collector and the second's doesn't,
    their difference would hold a collection: the pair is counted again, and the repeat
    says on which try the start-ups agreed."""
    flag = tmp_path / "gilbench-collect-once"
    flag.touch()
    monkeypatch.setenv("TEMP", str(tmp_path))
    log = tmp_path / "count.log"
    repeat = counts.count_repeat(_serial(host_impl, "collects_at_start"), Path(sys.executable),
                                 _fake_valgrind(tmp_path), 1, 1, 4, log)  # fmt: skip
    assert (repeat.status, repeat.units, repeat.per_unit) == ("ok", (1, 5), 10.0)
    assert repeat.detail == "start-ups agreed on try 2"
    assert log.read_text().count("--cachegrind-out-file=") == 4 and not flag.exists()


def test_start_ups_that_never_agree_keep_the_last_pair_and_say_so(
    host_impl: Impl, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A collection in every longer run's start-up: START_UP_TRIES pairs, then the last
    one is the repeat, its detail naming the collections of both runs."""
    (tmp_path / "gilbench-collect-longer").touch()
    monkeypatch.setenv("TEMP", str(tmp_path))
    log = tmp_path / "count.log"
    repeat = counts.count_repeat(_serial(host_impl, "collects_at_start"), Path(sys.executable),
                                 _fake_valgrind(tmp_path), 1, 1, 4, log)  # fmt: skip
    assert repeat.status == "ok"
    first, second = (int(word) for word in repeat.detail.split()[5:8:2])
    assert second == first + 1
    assert repeat.detail.endswith(f"times, in each of {counts.START_UP_TRIES} tries")
    assert log.read_text().count("--cachegrind-out-file=") == 2 * counts.START_UP_TRIES
    (count,) = counts.summarize([repeat])
    assert counts.format_count(count).endswith("; " + repeat.detail)


def test_cachegrinds_summary_line_gives_the_instructions() -> None:
    """The Ir column of the summary line, wherever the events put it."""
    text = "desc: I1 cache: 32768 B\ncmd: python x.py\nevents: Ir\nfl=a.c\n1 5\nsummary: 2537201\n"
    assert cachegrind.parse_cachegrind(text) == 2537201
    assert cachegrind.parse_cachegrind("events: Dr Ir\nsummary: 7 11\n") == 11
    with pytest.raises(ValueError, match="no 'events:' line"):
        cachegrind.parse_cachegrind("events: Ir\n")


def _repeats() -> list[Repeat]:
    ok = [Repeat("3.14", "nbody", n, "ok", hash_seed=n, units=(1, 2),
                 instructions=(2_000_000_000 + n, 3_107_000_000 + 3 * n),
                 valgrind="valgrind-3.19.0", elapsed_s=12.5, checksum="'-0.169089263'",
                 gil_enabled=1) for n in (1, 2, 3)]  # fmt: skip
    failed = Repeat("3.14t", "nbody", 1, "timeout", "still running after 900 s; killed",
                    hash_seed=1, valgrind="valgrind-3.19.0", elapsed_s=900.0)  # fmt: skip
    jvm = Repeat("jython2.7", "nbody", 0, NOT_COUNTED, "jython2.7 runs on a JVM")
    return [*ok, failed, jvm]


def test_counts_jsonl_round_trips_through_results_loading(tmp_path: Path) -> None:
    """Repeats written to counts.jsonl come back from load_run as the same repeats, and
    summarize to the same figures: the table rebuilds from the raw file alone."""
    run_dir = tmp_path / "quick"
    shutil.copytree(QUICK, run_dir)
    counts.write_counts(run_dir, _repeats())
    run = load_run(run_dir)
    assert list(run.counts.columns) == COUNT_COLUMNS
    assert counts.repeats_of(run.counts) == _repeats()
    assert list(run.counts["per_unit"][:3]) == [1_107_000_002, 1_107_000_004, 1_107_000_006]
    figures = counts.summarize(counts.repeats_of(run.counts))
    assert figures == counts.summarize(_repeats())
    assert [counts.format_count(c) for c in figures] == [
        "instructions 3.14 nbody: 1,107.000 M a unit, CV 0.0000% over 3 repeats, counted in "
        "37.5 s",
        "instructions 3.14t nbody: timeout: still running after 900 s; killed",
        "instructions jython2.7 nbody: not counted: jython2.7 runs on a JVM",
    ]  # fmt: skip
    assert run.problems == ()


def test_a_run_without_counts_loads_with_an_empty_table() -> None:
    """Runs from before counting have no counts.jsonl: their counts table is empty."""
    run = load_run(QUICK)
    assert run.counts.empty and list(run.counts.columns) == COUNT_COLUMNS


def test_a_count_line_of_another_version_is_skipped_and_named(tmp_path: Path) -> None:
    """A line this gilbench can't read is left out, with the file, line and what to do."""
    counts.write_counts(tmp_path, _repeats()[:1])
    with store.counts_path(tmp_path).open("a") as out:
        out.write(json.dumps({**counts.record(_repeats()[1]), "version": 99}) + "\n")
    problems: list[str] = []
    table = load_counts(tmp_path, problems)
    assert list(table["repeat"]) == [1]
    assert problems == [f"{store.counts_path(tmp_path)}:2 has counts version 99; this gilbench "
                        "reads 1, skipped: use the gilbench that wrote it"]  # fmt: skip


def test_a_runs_counts_are_written_once(tmp_path: Path) -> None:
    """Counting into a run that already has counts.jsonl is refused, the file untouched."""
    counts.write_counts(tmp_path, _repeats())
    before = store.counts_path(tmp_path).read_text()
    with pytest.raises(store.StoreError, match="written once"):
        counts.count_cells([_serial(JYTHON)], {"jython2.7": Path("/x")}, tmp_path,
                           valgrind=VALGRIND)  # fmt: skip
    assert store.counts_path(tmp_path).read_text() == before


def test_a_cells_spread_is_its_coefficient_of_variation_over_repeats() -> None:
    """Mean and sample standard deviation of the per-unit counts; a failed repeat leaves
    the cell without a figure, with the failure as its status."""
    ok = [Repeat("a", "w", n, "ok", units=(1, 3), instructions=(0, 2 * per))
          for n, per in enumerate((99.0, 100.0, 101.0), start=1)]  # fmt: skip
    (count,) = counts.summarize(ok)
    assert (count.per_unit, count.stdev, count.repeats) == (100.0, 1.0, 3)
    assert count.cv == pytest.approx(0.01)
    crashed = Repeat("a", "w", 4, "crashed", "exit status 1: boom")
    (failed,) = counts.summarize([*ok, crashed])
    assert (failed.status, failed.detail, failed.repeats) == ("crashed", "exit status 1: boom", 3)
    assert math.isnan(failed.per_unit)


def test_the_host_reads_the_counters_line() -> None:
    """COUNT_PREFIX has one value in the counter's gbprotocol and the host's protocol."""
    assert inside_constants()["COUNT_PREFIX"] == protocol.COUNT_PREFIX


def test_repeats_below_the_minimum_are_refused(tmp_path: Path) -> None:
    """Two repeats can't state a spread worth the name: the call says so."""
    with pytest.raises(ValueError, match="at least 3"):
        counts.count_cells([], {}, tmp_path, 2)


def test_instructions_bench_prints_each_cells_count_spread_cost_and_the_ratio() -> None:
    """Per cell the count, its CV over repeats, N, k and seconds; how many cells meet the
    0.1% target; 3.14t over 3.14 per workload; the valgrind that counted."""
    repeats = [
        *(Repeat(impl, "nbody", n, "ok", units=(1, 2), instructions=(0, per + n * 100_000),
                 valgrind="valgrind-3.19.0", elapsed_s=10.0)
          for impl, per in (("3.14", 1_107_000_000), ("3.14t", 1_542_000_000))
          for n in (1, 2, 3)),
        Repeat("3.14t+gil", "nbody", 1, "wrong-checksum", "expected 1, got 2"),
    ]  # fmt: skip
    assert instructionsbench.format_table(repeats).splitlines() == [
        "impl       workload      instructions/unit        CV repeats   N    k  count s",
        "3.14       nbody             1,107,200,000   0.0090%       3   1    1     30.0",
        "3.14t      nbody             1,542,200,000   0.0065%       3   1    1     30.0",
        "3.14t+gil  nbody        wrong-checksum: expected 1, got 2",
        "CV at most 0.1%: 2 of 2 counted cells; counting took 60 s in all",
        "free-threaded build's instructions over the default build's:",
        "  nbody        3.14t/3.14 1.393x",
        "counted by valgrind-3.19.0 (cachegrind, --cache-sim=no)",
    ]


@pytest.mark.parametrize(
    ("argv", "counted"),
    [([], True), (["--profile", "full"], True), (["--quick"], False),
     (["--quick", "--count"], True), (["--no-count"], False)],
)  # fmt: skip
def test_the_adaptive_and_full_profiles_count_and_quick_counts_when_asked(
    argv: list[str], counted: bool
) -> None:
    """Counting is on by default in the adaptive and full profiles, off in --quick, and
    --count or --no-count decides whatever the profile."""
    from harness.cli import parse_request
    from harness.options import parse_args

    request = parse_request(parse_args(["compare", "--workload", "nbody", *argv]))
    assert request.profile.count is counted


def test_the_count_comes_first_once_and_off_the_budget(host_impl: Impl, tmp_path: Path) -> None:
    """count_first counts a run's serial cells before its passes and takes the seconds
    from the budget; a run that has its counts (resumed) counts nothing again; a profile
    that doesn't count counts nothing."""
    from harness.run.plan import PROFILES

    bench, pythons = _serial(host_impl), {"host": Path(sys.executable)}
    (tmp_path / "bin").mkdir()
    fake = _fake_valgrind(tmp_path / "bin")
    said: list[str] = []
    quick = PROFILES["quick"]
    assert counts.count_first(tmp_path / "a", [bench], pythons, quick, said.append) == quick
    assert not (tmp_path / "a").exists() and said == []
    adaptive = PROFILES["adaptive"]
    assert adaptive.budget_s is not None
    path = f"{fake.path.parent}:{Path(sys.executable).parent}"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PATH", path)  # the stand-in is the valgrind found on PATH
        after = counts.count_first(tmp_path / "b", [bench], pythons, adaptive, said.append)
        again = counts.count_first(tmp_path / "b", [bench], pythons, after, said.append)
    assert again == after and store.counts_path(tmp_path / "b").exists()
    assert after.budget_s is not None and 0 < adaptive.budget_s - after.budget_s < 60
    assert said[0].startswith("instructions host tiny: 0.000 M a unit, CV 0.0000% over 3 ")
    assert said[1].startswith("instructions counted in ") and len(said) == 2


def test_counting_stopped_by_ctrl_c_writes_nothing(host_impl: Impl, tmp_path: Path) -> None:
    """Once stopped (Ctrl-C), no cell is counted and no counts.jsonl written, so that the
    resumed run counts them."""
    said: list[str] = []
    found = counts.count_cells([_serial(host_impl)], {"host": Path(sys.executable)}, tmp_path,
                               valgrind=_fake_valgrind(tmp_path), say=said.append,
                               stopped=lambda: True)  # fmt: skip
    assert found == [] and not store.counts_path(tmp_path).exists()
    assert said == ["instructions: counting stopped; nothing written (--resume counts them)"]


def test_a_waiting_units_repeats_run_side_by_side(host_impl: Impl, tmp_path: Path) -> None:
    """A unit that mostly waits (sleepy.py: 4 waits of 25 ms) has its repeats counted at
    once, so the count takes about one repeat's wall time; each is still its own seed's."""
    import time

    started = time.monotonic()
    done = counts.count_cell(_serial(host_impl, "sleepy"), Path(sys.executable),
                             _fake_valgrind(tmp_path), 3, tmp_path / "log", more=10)  # fmt: skip
    wall = time.monotonic() - started
    assert [(r.status, r.hash_seed, r.units) for r in done] == [
        ("ok", n, (1, 11)) for n in (1, 2, 3)
    ]
    assert sum(r.elapsed_s for r in done) > 2 * wall  # three repeats' runs in under two's time
