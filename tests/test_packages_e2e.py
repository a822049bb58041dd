"""Workloads with packages on real interpreters: pip from the package index, a real build.

- A C extension built here with the free-threaded build's headers, without the
  declaration that it runs without the GIL (no Py_mod_gil slot), turns 3.14t's GIL back
  on when a workload imports it: the run measures the workload and says so.
- A user's workload with ``REQUIRES = ("numpy",)`` runs on 3.14, 3.14t and PyPy with the
  versions recorded, and is ``unsupported`` on Jython with pip's reason.
- The shipped workloads that need packages return their CHECKSUM with them installed.

These install from the package index the system's pip is configured with (once: the
packages are cached) and run real interpreters: run them under the shared lock.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pyperf
import pytest

from harness import store
from harness.provision import cpython, packages
from harness.provision.impls import Impl
from harness.run.workloads import WORKLOADS_DIR, load_workloads
from tests.helpers import raw_of, require_or_skip

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parent.parent

# Single-phase init and no PyUnstable_Module_SetGIL: on a free-threaded build, importing it
# enables the GIL, and CPython says so in a RuntimeWarning.
TINYEXT_C = r"""
#include <Python.h>

static PyObject *twice(PyObject *self, PyObject *arg) {
    long value = PyLong_AsLong(arg);
    if (value == -1 && PyErr_Occurred()) return NULL;
    return PyLong_FromLong(2 * value);
}

static PyMethodDef methods[] = {{"twice", twice, METH_O, "2 * n"}, {NULL, NULL, 0, NULL}};
static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "tinyext", NULL, -1, methods};

PyMODINIT_FUNC PyInit_tinyext(void) { return PyModule_Create(&module); }
"""

USES_TINYEXT = '''"""Calls tinyext, a C extension that doesn't declare it runs without the GIL."""

import tinyext

CATEGORY = "c-holds"
DESCRIPTION = "calls a tiny C extension built without the free-threading declaration"
CHECKSUM = 399980000  # 2 * (0 + 1 + ... + 19999)

try:
    xrange
except NameError:
    xrange = range


def kernel():
    total = 0
    for i in xrange(20000):
        total += tinyext.twice(i)
    return total
'''

USES_NUMPY = '''"""A user's own workload: numpy's dot product of small integer vectors."""

import numpy

CATEGORY = "c-holds"
DESCRIPTION = "a user's numpy workload: dot products of 64-element integer vectors"
REQUIRES = ("numpy",)
CHECKSUM = 9325008000  # sum over i of a . (a + i): integers, on every numpy

try:
    xrange
except NameError:
    xrange = range


def kernel():
    a = numpy.arange(64, dtype=numpy.int64)
    total = 0
    for i in xrange(3000):
        total += int(numpy.dot(a, a + i))
    return total
'''


def build_tinyext(python: Path, folder: Path) -> Path:
    """tinyext compiled with gcc against ``python``'s own headers, into ``folder``."""
    ask = ("import sysconfig; print(sysconfig.get_path('include')); "
           "print(sysconfig.get_config_var('EXT_SUFFIX'))")  # fmt: skip
    include, suffix = subprocess.run([str(python), "-c", ask], capture_output=True, text=True,
                                     check=True).stdout.split()  # fmt: skip
    source = folder / "tinyext.c"
    source.write_text(TINYEXT_C)
    built = folder / f"tinyext{suffix}"
    subprocess.run(["gcc", "-shared", "-fPIC", "-O1", f"-I{include}", str(source), "-o",
                    str(built)], check=True)  # fmt: skip
    return built


def gilbench(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([sys.executable, "-m", "harness", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, check=False, timeout=3600)  # fmt: skip
    print(done.stderr[-4000:], file=sys.stderr)
    return done


def test_an_extension_without_the_free_threading_declaration_is_reported_not_failed(
    cpython_builds: tuple[cpython.CPythonBuild, cpython.CPythonBuild], tmp_path: Path
) -> None:
    """On 3.14t the workload importing tinyext is measured with the GIL on, every cell ok
    and noted 'tinyext re-enabled the GIL' in the run's outcomes, its values' metadata,
    summary.md and the findings."""
    require_or_skip(shutil.which("gcc") is not None, "gcc")
    built = build_tinyext(cpython_builds[1].python, tmp_path)
    workload = tmp_path / "uses_tinyext.py"
    workload.write_text(USES_TINYEXT)
    reports = tmp_path / "reports"
    env = {**os.environ, "PYTHONPATH": str(built.parent)}  # what the runners import it from
    done = gilbench("run", "--impl", "3.14t", "--workload", str(workload), "--model",
                    "serial,threads", "--sparse", "--quick", "--reports", str(reports),
                    env=env)  # fmt: skip
    assert done.returncode == 0
    run_dir = (reports / "latest").resolve()
    lines = [json.loads(line) for line in store.outcomes_path(run_dir).read_text().splitlines()]
    assert len(lines) == 6  # serial at 1, threads at 2: 3 passes each
    assert {(line["status"], line["detail"]) for line in lines} == {
        ("ok", "tinyext re-enabled the GIL")
    }
    for piece in raw_of(run_dir, "3.14t"):
        for bench in pyperf.BenchmarkSuite.load(str(piece)).get_benchmarks():
            for run in bench.get_runs():
                meta = run.get_metadata()
                assert (meta["gil_enabled"], meta["gilbench_gil_note"]) == (
                    1,
                    "tinyext re-enabled the GIL",
                )
    summary = (run_dir / "summary.md").read_text()
    said = "- On 3.14t, tinyext (in uses_tinyext) re-enabled the GIL: those cells ran with it on."
    assert said in summary
    assert summary.count("ok: tinyext re-enabled the GIL") == 2


def test_a_users_numpy_workload_runs_where_numpy_installs_and_says_why_elsewhere(
    cpython_builds: tuple[cpython.CPythonBuild, cpython.CPythonBuild], tmp_path: Path
) -> None:
    """REQUIRES = ("numpy",): measured on 3.14, 3.14t and PyPy with numpy's version in
    run.json and the report; on Jython every cell is unsupported with pip's reason."""
    workload = tmp_path / "my_numpy.py"
    workload.write_text(USES_NUMPY)
    reports = tmp_path / "reports"
    done = gilbench("run", "--impl", "3.14,3.14t,pypy3.9,jython2.7", "--workload",
                    str(workload), "--model", "serial,threads", "--sparse", "--quick",
                    "--reports", str(reports))  # fmt: skip
    assert done.returncode == 0
    run_dir = (reports / "latest").resolve()
    manifest = json.loads(store.manifest_path(run_dir).read_text())
    got = {impl: per["my_numpy"] for impl, per in manifest["packages"].items()}
    assert sorted(got) == ["3.14", "3.14t", "jython2.7", "pypy3.9"]
    for impl in ("3.14", "3.14t", "pypy3.9"):
        assert got[impl]["status"] == "ok" and got[impl]["requires"] == ["numpy"]
        assert list(got[impl]["versions"]) == ["numpy"], got[impl]
    jython = got["jython2.7"]
    assert jython["status"] == "unsupported"
    assert jython["reason"].startswith("pip could not install numpy: ")
    summary = pd_read(run_dir)
    for impl in ("3.14", "3.14t", "pypy3.9"):
        assert set(summary[summary["impl"] == impl]["status"]) == {"ok"}, impl
    on_jython = summary[summary["impl"] == "jython2.7"]
    assert set(zip(on_jython["status"], on_jython["detail"], strict=True)) == {
        ("unsupported", jython["reason"])
    }
    text = (run_dir / "summary.md").read_text()
    version = got["3.14t"]["versions"]["numpy"]
    assert f"On 3.14t, numpy {version} kept the GIL off." in text
    assert "On jython2.7, pip could not install numpy: my_numpy is unsupported there" in text
    print({impl: record.get("versions", record.get("reason")) for impl, record in got.items()})


def pd_read(run_dir: Path) -> pd.DataFrame:
    return pd.read_csv(run_dir / "summary.csv", keep_default_na=False)


@pytest.mark.parametrize("workload", [w for w in load_workloads() if w.requires],
                         ids=lambda w: w.name)  # fmt: skip
def test_every_workload_with_packages_returns_its_checksum_with_them(
    workload: Any, host_impl: Impl
) -> None:
    """Each shipped workload that declares REQUIRES, its packages installed by gilbench for
    the host's interpreter, returns exactly its CHECKSUM, unit after unit."""
    got = packages.ensure_packages(host_impl, [sys.executable], workload.requires)
    assert got.ready, got.reason
    env = packages.path_environ(host_impl, packages.site_of(got.folder), os.environ)
    check = (f"import sys; sys.path.insert(0, {str(ROOT / 'harness' / 'inside')!r}); "
             f"import gbload; m = gbload.load_workload({str(workload.path)!r}); "
             "print(repr([m.kernel(), m.kernel()]))")  # fmt: skip
    done = subprocess.run([sys.executable, "-c", check], env=env, capture_output=True,
                          text=True, check=False, timeout=600)  # fmt: skip
    assert done.stdout.strip() == repr([workload.checksum] * 2), done.stderr
    assert WORKLOADS_DIR in workload.path.parents
