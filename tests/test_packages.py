"""Workloads that declare packages (REQUIRES): read, installed once, refused with pip's line.

pip runs for real here, offline: PIP_NO_INDEX and PIP_FIND_LINKS point it at a folder of
wheels made by the test, and the cache is the test's own (GILBENCH_CACHE).
"""

# The report prints multiplication signs for its readers; the test quotes them.
# ruff: noqa: RUF001

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from harness import store
from harness.merge import merge
from harness.provision import packages
from harness.provision.impls import Impl
from harness.report.build import build_report
from harness.report.markdown import format_markdown
from harness.results import Run, assemble_run
from harness.run.bench import classify, unsupported
from harness.run.plan import Bench
from harness.run.protocol import INSIDE
from harness.run.workloads import (
    WorkloadError,
    load_workloads,
    parse_workload,
    select_workloads,
)
from tests.helpers import QUICK, impl_record, make_run, render, scaling_cells, split_run

pytestmark = pytest.mark.real  # it runs real interpreters: never beside another test

NEEDS_TINY = '''"""Reads gbtiny's VALUE."""

import gbtiny

CATEGORY = "cpu"
DESCRIPTION = "returns what the package gbtiny holds, for the tests"
REQUIRES = ("gbtiny>=1",)
CHECKSUM = 42


def kernel():
    return gbtiny.VALUE
'''


def write_wheel(folder: Path, name: str, version: str, value: int) -> Path:
    """A pure wheel of one module, ``name``, whose VALUE is ``value``."""
    files = {
        f"{name}/__init__.py": f"VALUE = {value}\n",
        f"{name}-{version}.dist-info/METADATA": (
            f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n\nA test package.\n"
        ),
        f"{name}-{version}.dist-info/WHEEL": (
            "Wheel-Version: 1.0\nGenerator: gilbench-tests\nRoot-Is-Purelib: true\n"
            "Tag: py3-none-any\n"
        ),
    }
    record = []
    for path, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=")
        record.append(f"{path},sha256={digest.decode()},{len(text.encode())}")
    record.append(f"{name}-{version}.dist-info/RECORD,,")
    files[f"{name}-{version}.dist-info/RECORD"] = "\n".join(record) + "\n"
    folder.mkdir(parents=True, exist_ok=True)
    wheel = folder / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as out:
        for path, text in files.items():
            out.writestr(path, text)
    return wheel


@pytest.fixture
def offline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """pip with no index, finding only the test's wheels; a cache of the test's own."""
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    monkeypatch.setenv("GILBENCH_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(wheels))
    return wheels


def bench_of(impl: Impl, workload_file: Path) -> Bench:
    return Bench(impl, parse_workload(workload_file), "serial", 1)


def test_requires_is_read_without_running_the_file(tmp_path: Path) -> None:
    """REQUIRES comes out of the file as written; a workload without it requires nothing."""
    path = tmp_path / "needs_tiny.py"
    path.write_text(NEEDS_TINY)
    assert parse_workload(path).requires == ("gbtiny>=1",)
    assert parse_workload(INSIDE.parent.parent / "workloads" / "nbody.py").requires == ()


@pytest.mark.parametrize(
    ("declared", "said"),
    [
        ('("--index-url=http://127.0.0.1/",)', "REQUIRES = ('--index-url=http://127.0.0.1/',)"),
        ('"numpy"', "REQUIRES = 'numpy'"),
        ('("numpy @ file:///tmp/x.whl",)', "REQUIRES = ('numpy @ file:///tmp/x.whl',)"),
    ],
)
def test_a_requirement_that_is_no_project_and_version_is_refused_in_one_line(
    tmp_path: Path, declared: str, said: str
) -> None:
    """An option, a bare string or a URL never reaches pip: one line says what REQUIRES must be."""
    path = tmp_path / "odd.py"
    path.write_text(NEEDS_TINY.replace('("gbtiny>=1",)', declared))
    with pytest.raises(WorkloadError) as refused:
        parse_workload(path)
    assert str(refused.value) == (
        f"workload {str(path)!r} declares {said}: it must be a list of requirements as pip "
        'takes them, e.g. REQUIRES = ("numpy>=2",)'
    )


def test_workloads_with_packages_are_measured_only_when_named() -> None:
    """The default selection needs no package index; the 'packages' tag picks all four."""
    suite = load_workloads()
    assert not [w.name for w in select_workloads(suite, []) if w.requires]
    named = select_workloads(suite, ["packages"])
    assert sorted(w.name for w in named) == [
        "lxml_parse", "msgpack_roundtrip", "numpy_large", "numpy_small",
    ]  # fmt: skip
    assert all(w.requires for w in named)


def test_pip_installs_a_set_once_records_its_versions_and_the_runner_imports_it(
    offline: Path, tmp_path: Path, host_impl: Impl
) -> None:
    """The first run installs with pip; the second finds the folder ready and runs no pip;
    the runner's environment puts the folder first on PYTHONPATH."""
    write_wheel(offline, "gbtiny", "1.3", 42)
    workload = tmp_path / "needs_tiny.py"
    workload.write_text(NEEDS_TINY)
    bench = bench_of(host_impl, workload)
    first = packages.ensure_packages(host_impl, [sys.executable], ("gbtiny>=1",))
    assert (first.ready, dict(first.versions), first.installed_s is not None) == (
        True, {"gbtiny": "1.3"}, True,
    )  # fmt: skip
    again = packages.ensure_packages(host_impl, ["/no/such/python"], ("gbtiny>=1",))
    assert (again.ready, dict(again.versions), again.installed_s) == (True, {"gbtiny": "1.3"}, None)
    assert again.record() == {"requires": ["gbtiny>=1"], "status": "ok",
                              "versions": {"gbtiny": "1.3"}}  # fmt: skip
    assert unsupported(bench) is None
    env = packages.packages_environ(bench, {"PYTHONPATH": "/elsewhere"})
    assert env["PYTHONPATH"].split(":") == [str(packages.site_of(first.folder)), "/elsewhere"]
    done = subprocess.run([sys.executable, "-c", "import gbtiny; print(gbtiny.VALUE)"],
                          env=env, capture_output=True, text=True, check=False)  # fmt: skip
    assert done.stdout == "42\n", done.stderr


def test_a_set_pip_cant_install_leaves_its_cells_unsupported_with_pips_line(
    offline: Path, tmp_path: Path, host_impl: Impl
) -> None:
    """pip's verdict is the cells' reason; the failure isn't kept, so a later run asks again
    and, once the package can be had, installs it."""
    workload = tmp_path / "needs_tiny.py"
    workload.write_text(NEEDS_TINY)
    bench = bench_of(host_impl, workload)
    said: list[str] = []
    record = packages.prepare_packages([bench], {"host": Path(sys.executable)}, said.append)
    reason = "pip could not install gbtiny>=1: No matching distribution found for gbtiny>=1"
    assert record == {"packages": {"host": {"needs_tiny": {
        "requires": ["gbtiny>=1"], "status": "unsupported", "reason": reason}}}}  # fmt: skip
    assert said == [f"packages for host: {reason}; its cells of workloads that need gbtiny>=1 "
                    "are unsupported"]  # fmt: skip
    outcome = unsupported(bench)
    assert outcome is not None and (outcome.status, outcome.detail) == ("unsupported", reason)
    write_wheel(offline, "gbtiny", "1.0", 42)
    record = packages.prepare_packages([bench], {"host": Path(sys.executable)}, said.append)
    assert record["packages"] == {"host": {"needs_tiny": {
        "requires": ["gbtiny>=1"], "status": "ok", "versions": {"gbtiny": "1.0"}}}}  # fmt: skip
    assert said[-1].startswith("packages for host: gbtiny 1.0 (installed in ")
    assert unsupported(bench) is None


def test_no_workload_requiring_packages_means_no_record_and_no_pip(host_impl: Impl) -> None:
    """A run of standard-library workloads asks pip nothing and records no packages."""
    bench = bench_of(host_impl, INSIDE.parent.parent / "workloads" / "nbody.py")
    assert packages.prepare_packages([bench], {"host": Path("/no/such/python")}, print) == {}


@pytest.mark.parametrize(
    ("output", "reason"),
    [
        (  # pip 19 (Jython's): the step it ran failed, indented, then the verdict
            "Collecting numpy\n    ERROR: Error [Errno 2] No such file or directory while "
            "executing command python setup.py egg_info\nERROR: Could not install packages "
            "due to an EnvironmentError: [Errno 2] No such file or directory\n",
            "Could not install packages due to an EnvironmentError: [Errno 2] No such file or "
            "directory (Error [Errno 2] No such file or directory while executing command "
            "python setup.py egg_info)",
        ),
        (  # pip 26: two verdicts, the last one the shortest
            "ERROR: Could not find a version that satisfies the requirement numpy>=2 (from "
            "versions: 1.16.6)\nERROR: No matching distribution found for numpy>=2\n",
            "No matching distribution found for numpy>=2",
        ),
        ("Traceback (most recent call last):\nKeyError: 'x'\n", "KeyError: 'x'"),
    ],
)
def test_pips_reason_is_its_verdict_with_the_cause_a_step_gave(output: str, reason: str) -> None:
    """One line: the last ERROR line, the indented cause beside it, else the last line."""
    assert packages.format_reason(output) == reason


def test_a_measured_cell_keeps_its_runners_note() -> None:
    """A runner that measured and said a module re-enabled the GIL leaves that as the detail."""
    note = "GILBENCH-NOTE tinyext re-enabled the GIL\n"
    outcome = classify(0, f"{note}.\n{note}")
    assert (outcome.status, outcome.detail) == ("ok", "tinyext re-enabled the GIL")
    assert (classify(0, ".\n").status, classify(0, ".\n").detail) == ("ok", "")


GIL_WARNS = '''"""Warns at import as CPython does when an extension turns the GIL back on."""
import warnings

warnings.warn("The global interpreter lock (GIL) has been enabled to load module "
              "'fake_ext', which has not declared that it can run safely without the GIL. "
              "To override this behavior and keep the GIL disabled (at your own risk), run "
              "with PYTHON_GIL=0 or -Xgil=0.", RuntimeWarning)
warnings.warn("something else", UserWarning)
'''


def test_the_gil_warning_is_kept_as_a_note_naming_the_module(tmp_path: Path) -> None:
    """The RuntimeWarning of an import that re-enabled the GIL becomes the note (said once
    on stderr for the host, only when the GIL is in force); other warnings go on."""
    workload = tmp_path / "warns.py"
    workload.write_text(GIL_WARNS)
    script = (f"import sys; sys.path.insert(0, {str(INSIDE)!r}); import gbload\n"
              f"gbload.load_workload({str(workload)!r})\n"
              "print(repr(gbload.gil_note(0))); print(repr(gbload.gil_note(1)))\n")  # fmt: skip
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          check=False)  # fmt: skip
    assert done.stdout.splitlines() == ["''", "'fake_ext re-enabled the GIL'"], done.stderr
    assert "UserWarning: something else" in done.stderr
    assert "RuntimeWarning" not in done.stderr
    assert done.stderr.count("GILBENCH-NOTE fake_ext re-enabled the GIL\n") == 1


def packaged_run() -> Run:
    """3.14 and 3.14t measured numpy_small and lxml_parse; lxml.etree re-enabled 3.14t's
    GIL; jython2.7's pip could have neither."""
    impls = [impl_record("3.14", 1, False), impl_record("3.14t", 0, True),
             impl_record("jython2.7", 0, False, "2.7.4", "jython")]  # fmt: skip
    cells: dict[tuple[str, str, str, int], list[float]] = {}
    for impl in ("3.14", "3.14t"):
        cells |= scaling_cells(impl, "numpy_small", 0.05, 0.1 if impl == "3.14" else 0.055, 0.06)
        cells |= scaling_cells(impl, "lxml_parse", 0.05, 0.052, 0.06)
    refused = {w: ("unsupported", f"pip could not install {r}: No matching distribution "
                   f"found for {r}") for w, r in (("numpy_small", "numpy>=2"),
                                                  ("lxml_parse", "lxml>=5"))}  # fmt: skip
    failed = {("jython2.7", w, "serial", 1): why for w, why in refused.items()}
    run = make_run(cells, impls, {"numpy_small": "c-holds", "lxml_parse": "c-release"}, failed)
    versions = {
        "numpy_small": ("numpy>=2", {"numpy": "2.5.5"}),
        "lxml_parse": ("lxml>=5", {"lxml": "6.2.0"}),
    }
    manifest = {**run.manifest, "packages": {
        **{impl: {w: {"requires": [r], "status": "ok", "versions": v}
                  for w, (r, v) in versions.items()} for impl in ("3.14", "3.14t")},
        "jython2.7": {w: {"requires": [versions[w][0]], "status": "unsupported",
                          "reason": why[1]} for w, why in refused.items()},
    }}  # fmt: skip
    outcomes = run.outcomes.copy()
    noted = (outcomes["impl"] == "3.14t") & (outcomes["workload"] == "lxml_parse")
    outcomes.loc[noted, "detail"] = "lxml.etree re-enabled the GIL"
    return assemble_run(run.directory, manifest, outcomes, run.values)


def test_the_report_says_which_packages_kept_the_free_threaded_build_free_threaded() -> None:
    """The packages table gives versions, the GIL on 3.14t and threads' speedup, or pip's
    reason; the findings say which packages kept 3.14t's GIL off and which re-enabled it;
    summary.md marks the noted cells."""
    report = build_report(packaged_run())
    table = report.packages
    assert table is not None and table.impls == ("3.14", "3.14t", "jython2.7")
    cells = {workload: dict(zip(table.impls, row, strict=True))
             for workload, _, row in table.rows}  # fmt: skip
    assert cells["numpy_small"]["3.14"].startswith("numpy 2.5.5; threads 1.00× at 2 (95% CI ")
    assert cells["numpy_small"]["3.14t"].startswith(
        "numpy 2.5.5; GIL stayed off; threads 1.82× at 2 (95% CI "
    )
    assert cells["lxml_parse"]["3.14t"].startswith(
        "lxml 6.2.0; lxml.etree re-enabled the GIL; threads 1.92× at 2"
    )
    assert cells["lxml_parse"]["jython2.7"] == (
        "unsupported: pip could not install lxml>=5: No matching distribution found for lxml>=5"
    )
    said = [f.text for f in report.findings if f.topic == "packages"]
    assert said == [
        "On 3.14t, numpy 2.5.5 kept the GIL off; lxml 6.2.0 (lxml.etree, in lxml_parse) "
        "re-enabled the GIL: those cells ran with it on.",
        "On jython2.7, pip could not install lxml>=5 and numpy>=2: lxml_parse and numpy_small "
        "are unsupported there (pip's reasons are in the packages table).",
    ]
    summary = format_markdown(report)
    assert "## Packages: what each implementation got, and whether the GIL stayed off" in summary
    rows = [" ".join(line.split()).split(" | ") for line in summary.splitlines()]
    noted = {(row[2], row[3]) for row in rows if row[0] == "| 3.14t" and row[1] == "lxml_parse"
             and row[4] == "ok: lxml.etree re-enabled the GIL"}  # fmt: skip
    assert noted == {(m, n) for m in ("serial", "threads", "processes") for n in ("1", "2")}


def test_the_pages_show_the_packages_table_and_the_noted_cells(tmp_path: Path) -> None:
    """index.html has the packages section, escaped; results.html shows an ok cell's note."""
    render(packaged_run(), tmp_path)
    index = (tmp_path / "index.html").read_text()
    section = index[index.index('<section id="packages">') :]
    section = section[: section.index("</section>")]
    assert "<td>numpy&gt;=2</td>" in section
    assert "lxml 6.2.0; lxml.etree re-enabled the GIL; threads 1.92× at 2" in section
    assert "unsupported: pip could not install numpy&gt;=2: No matching distribution" in section
    results = (tmp_path / "results.html").read_text()
    assert results.count('ok<br><span class="muted">lxml.etree re-enabled the GIL</span>') == 6


def test_a_merged_run_keeps_every_shards_packages(tmp_path: Path) -> None:
    """Shards measure whole workloads: the merged run.json holds each shard's record."""
    run_dir = tmp_path / "run"
    shutil.copytree(QUICK, run_dir)
    shards = split_run(run_dir, 2, tmp_path / "shards")
    records = {}
    for shard in shards:
        manifest = json.loads(store.manifest_path(shard).read_text())
        mine = sorted({cell[1] for cell in manifest["plan"]})
        record = {"requires": ["numpy>=2"], "status": "ok", "versions": {"numpy": "2.5.5"}}
        manifest["packages"] = {"3.14t": {mine[0]: record}}
        records[mine[0]] = record
        store.write_manifest(shard, manifest)
    merged = json.loads(store.manifest_path(merge(shards, tmp_path / "merged")).read_text())
    assert merged["packages"] == {"3.14t": records} and len(records) == 2
