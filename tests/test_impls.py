"""Implementations: discovery, the impls table, and the same workloads on every one present."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pyperf
import pytest

from harness.provision import catalog, discover
from harness.provision.impls import Impl
from harness.run.bench import _calibrated, calibration_args, run_bench
from harness.run.matrix import run_matrix
from harness.run.plan import Bench, Profile
from harness.run.workloads import load_workloads, parse_workload
from tests.helpers import DATA, QUICK, TEST_WORKLOADS, joined_suite, paired_of, require_or_skip

pytestmark = pytest.mark.real  # it runs real interpreters: never beside another test

INSIDE = Path(__file__).resolve().parent.parent / "harness" / "inside"
QUICK_RAW = QUICK / "raw"
# Runs every workload once through gbmodels' serial model, which checks the checksum
# whatever the workload's protocol, and prints a verdict per file; 2.7 syntax for Jython.
CHECK_ALL = """
import sys
sys.path.insert(0, %r)
import gbmodels, gbprotocol
for path in sys.argv[1:]:
    try:
        model = gbmodels.make_model("serial", path, 1)
        model.start()
        model.round()
        model.close()
        print("%%s ok" %% path)
    except gbprotocol.WorkloadFailure as exc:
        print("%%s %%s %%s" %% (path, exc.status, exc.detail))
"""


def test_unknown_implementation_lists_the_known_ones() -> None:
    """A name that fits no family is refused with the ids gilbench knows."""
    with pytest.raises(catalog.UnknownImplError) as error:
        catalog.family_of("cython", "3.14")
    assert str(error.value) == (
        "unknown implementation 'cython'; known: 3.14, 3.14t, 3.14t+gil, pypy3, jython2.7, "
        "ironpython3.4, graalpy, another CPython as X.Y or X.Yt"
    )


def test_ids_map_to_their_families() -> None:
    """Built CPython ids, other CPythons and the other families are told apart."""
    families = [catalog.family_of(n, "3.14") for n in
                ("3.14t+gil", "3.12", "3.13t", "pypy3", "jython2.7", "graalpy")]  # fmt: skip
    assert families == ["cpython", "other-cpython", "other-cpython", "pypy", "jython", "graalpy"]


def test_impls_table_shows_reasons_and_fixes() -> None:
    """The impls table lists available rows with version and unavailable ones with a fix."""
    rows = [
        Impl(id="3.14t", family="cpython", python=Path("/x/python3.14t"), expect_gil=0,
             provenance={"version": "3.14.7"}),
        Impl(id="jython2.7", family="jython", python=Path("/usr/bin/jython"), runner="pure",
             expect_gil=0, provenance={"version": "Jython 2.7.3"}),
        Impl(id="graalpy", family="graalpy", python=None, unavailable="graalpy is not on PATH",
             hint="uv python install graalpy"),
    ]  # fmt: skip
    assert catalog.format_impls(rows) == (DATA / "golden" / "impls.txt").read_text()


def test_install_system_packages_lets_the_cpython_build_install_its_dependencies(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """--install-system-packages reaches CPython's provisioning (as it does PyPy's and
    Jython's); a build refused all the same makes its rows unavailable, with the reason."""
    asked: list[bool] = []

    def provision(*args: object, install: bool = False, **kwargs: object) -> None:
        asked.append(install)
        raise catalog.cpython.ProvisionError("missing build dependencies: ffi.h")

    monkeypatch.setattr(catalog.cpython, "provision_cpython", provision)
    monkeypatch.setattr(catalog.os, "geteuid", lambda: 1000)  # not root: only when asked
    for install in (True, False):
        rows = catalog.gather(["3.14"], catalog.Sources(install=install), lambda _: None)
        assert [(r.id, r.unavailable) for r in rows] == [
            ("3.14", "missing build dependencies: ffi.h")]  # fmt: skip
    assert asked == [True, False]


def test_missing_jython_is_unavailable_with_the_apt_command_when_installing_is_not_allowed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Without permission to install, a missing Jython is a row that says how to get it."""
    monkeypatch.setattr(discover.shutil, "which", lambda name: None)
    monkeypatch.setattr(discover.system, "ensure_packages", pytest.fail)  # must not be asked
    jython = discover.probe_jython(install=False)
    assert (jython.id, jython.available) == ("jython2.7", False)
    assert jython.unavailable == "jython is not on PATH"
    assert jython.hint.startswith("sudo apt-get install -y jython")


def test_missing_jython_is_installed_with_apt_when_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    """As root (or with --install-system-packages) a missing Jython is apt-installed, as PyPy is."""
    real = shutil.which("jython")
    require_or_skip(real is not None, "jython")
    asked: list[tuple[str, ...]] = []

    def install(names: tuple[str, ...], say: object, allow: bool) -> None:
        asked.append(tuple(names))
        monkeypatch.setattr(discover.shutil, "which", lambda name: real)  # now it's there

    monkeypatch.setattr(discover.shutil, "which", lambda name: None)
    monkeypatch.setattr(discover.system, "ensure_packages", install)
    jython = discover.probe_jython(install=True, say=lambda _: None)
    assert asked == [("jython",)]
    assert jython.available and jython.id == "jython2.7", jython.unavailable


def test_a_failed_jython_install_is_unavailable_with_apts_own_words(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An apt failure becomes the row's reason, with the command to run by hand."""

    def install(names: tuple[str, ...], say: object, allow: bool) -> None:
        raise discover.system.SystemPackagesError("'apt-get update -q' failed (no network)")

    monkeypatch.setattr(discover.shutil, "which", lambda name: None)
    monkeypatch.setattr(discover.system, "ensure_packages", install)
    jython = discover.probe_jython(install=True, say=lambda _: None)
    assert jython.unavailable == "'apt-get update -q' failed (no network)"
    assert jython.hint.startswith("sudo apt-get install -y jython")


def test_later_passes_reuse_calibrated_loops() -> None:
    """calibration_args reads the loops pyperf calibrated from its own file: in the frozen
    quick run, PyPy's nbody/serial/1 took 16, which nbody/threads/2 borrowed."""
    pypy = QUICK_RAW / "pypy3.9.json"
    suite = json.loads(pypy.read_text())
    assert _calibrated(suite, "nbody/serial/1")[0] == 16
    assert _calibrated(suite, "nbody/threads/2") == (None, None)  # it never calibrated
    assert calibration_args(pypy, "nbody/threads/2") == ["--loops", "16"]
    assert calibration_args(pypy, "no/such/bench") == []


def test_pure_runner_writes_what_pyperf_loads(tmp_path: Path) -> None:
    """pure_runner.py, run on the host, appends runs pyperf reads: calibration plus values."""
    raw = tmp_path / "out.json"
    cmd = [sys.executable, str(INSIDE / "pure_runner.py"), "--workload",
           str(TEST_WORKLOADS / "tiny.py"), "--model", "threads", "--workers", "2",
           "--impl", "host", "--build=--x", "--expect-gil", "1", "--append", str(raw),
           "--processes", "2", "--values", "2", "--quiet"]  # fmt: skip
    for _ in range(2):  # a second invocation adds to the same benchmark
        subprocess.run(cmd, check=True, timeout=120)
    (bench,) = pyperf.BenchmarkSuite.load(str(raw)).get_benchmarks()
    assert bench.get_name() == "tiny/threads/2"
    assert len(bench.get_values()) == 8
    meta = bench.get_metadata()
    assert (meta["gilbench_impl"], meta["gil_enabled"], meta["gilbench_build"]) == (
        "host",
        1,
        "--x",
    )
    assert json.loads(raw.read_text())["version"] == "1.0"


def test_jython_is_measured_without_a_gil_through_the_pure_runner(tmp_path: Path) -> None:
    """A real Jython run records values, GIL disabled, via pyperf's schema."""
    require_or_skip(shutil.which("jython") is not None, "jython")
    jython = discover.probe_jython()
    assert jython.available, jython.unavailable
    bench = Bench(jython, parse_workload(TEST_WORKLOADS / "tiny.py"), "threads", 2)
    profile = Profile("test", 1, ("--processes", "1", "--values", "2"), timeout_s=180)
    outcome = run_bench(bench, jython.python, tmp_path, profile)  # type: ignore[arg-type]
    assert outcome.status == "ok", outcome.detail
    (result,) = joined_suite(tmp_path, "jython2.7")
    assert result.get_metadata()["gil_enabled"] == 0
    assert result.get_metadata()["python_implementation"] == "jython"
    (paired,) = paired_of(tmp_path, "jython2.7")[0].read_text().splitlines()
    assert len(json.loads(paired)["seconds"]) == 2  # one serial time per value
    assert [len(busy) for busy in json.loads(paired)["busy"]] == [2, 2]  # each thread's


def test_jython_is_asked_once_about_each_model_it_lacks(tmp_path: Path) -> None:
    """Jython has no multiprocessing: the first workload finds out, the second is spared a JVM."""
    require_or_skip(shutil.which("jython") is not None, "jython")
    jython = discover.probe_jython()
    assert jython.available, jython.unavailable
    workloads = [parse_workload(TEST_WORKLOADS / f"{name}.py") for name in ("tiny", "sleepy")]
    benches = [Bench(jython, w, "processes", 2) for w in workloads]
    profile = Profile("test", 1, ("--processes", "1", "--values", "2"), timeout_s=180)
    last = run_matrix(benches, {"jython2.7": jython.python}, tmp_path, profile)  # type: ignore[dict-item]
    assert [o.status for o in last] == ["unsupported", "unsupported"]
    assert last[0].detail == last[1].detail
    assert re.fullmatch(r"Jython \S+ has no multiprocessing module", last[1].detail)
    assert [p.name for p in (tmp_path / "logs" / "jython2.7").iterdir()] == ["tiny-processes-2.log"]


def _commands(cpython_builds: tuple[object, object]) -> dict[str, list[str]]:
    """Every implementation present, as the command that starts it."""
    found = {f"cpython-{b.version}{'t' if b.free_threaded else ''}": [str(b.python)]  # type: ignore[attr-defined]
             for b in cpython_builds}  # fmt: skip
    require_or_skip(shutil.which("pypy3") is not None, "pypy3")
    require_or_skip(shutil.which("jython") is not None, "jython")
    found["pypy3"] = [str(shutil.which("pypy3"))]
    found["jython"] = [str(shutil.which("jython"))]
    return found


def test_every_workload_returns_its_checksum_on_every_implementation(
    cpython_builds: tuple[object, object],
) -> None:
    """Each workload file that needs no package, unchanged, returns its CHECKSUM on CPython,
    PyPy and Jython (those with REQUIRES run where their packages were installed:
    tests/test_packages_e2e.py)."""
    paths = [str(w.path) for w in load_workloads() if not w.requires]
    assert len(paths) >= 15
    script = CHECK_ALL % str(INSIDE)
    for name, command in _commands(cpython_builds).items():
        done = subprocess.run([*command, "-c", script, *paths], capture_output=True,
                              text=True, timeout=600, check=False)  # fmt: skip
        assert done.returncode == 0, f"{name}: {done.stderr[-2000:]}"
        verdicts = [line.split()[:2] for line in done.stdout.splitlines()]
        assert [v for v in verdicts if v[1] != "ok"] == [], f"{name}: {done.stdout}"
        assert len(verdicts) == len(paths), name
