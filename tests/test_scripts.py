"""Bring your own pyperf script: an unchanged pyperformance-style script, run for real."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pyperf
import pytest

from harness.run.bench import classify
from harness.run.protocol import SCRIPT_SITE
from harness.run.workloads import parse_workload, script_command, script_environ
from tests.helpers import DATA

pytestmark = pytest.mark.real  # it runs real interpreters: never beside another test

SCRIPT = DATA / "scripts" / "bm_sumsquares" / "run_benchmark.py"
FAST = ("--processes", "1", "--values", "2", "--warmups", "0", "--min-time", "0.001")


def _run_script(tmp_path: Path, expect_gil: str) -> tuple[subprocess.CompletedProcess[str], Path]:
    workload = parse_workload(SCRIPT)
    raw = tmp_path / "raw" / "host.json"
    raw.parent.mkdir()
    done = subprocess.run(
        script_command(workload, Path(sys.executable), raw, FAST),
        env=script_environ(workload, "host", "--prefix=/x", expect_gil, os.environ),
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    return done, raw


def _site() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gilbench_site", SCRIPT_SITE / "sitecustomize.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_an_unchanged_pyperf_script_runs_as_a_serial_row_with_gilbench_metadata(
    tmp_path: Path,
) -> None:
    """The script's own benchmark lands in raw/<impl>.json described like any gilbench row."""
    done, raw = _run_script(tmp_path, "1")
    assert done.returncode == 0, done.stderr
    (benchmark,) = pyperf.BenchmarkSuite.load(str(raw)).get_benchmarks()
    assert benchmark.get_name() == "sumsquares"  # the script's own name, untouched
    meta = benchmark.get_metadata()
    assert {k: v for k, v in meta.items() if k.startswith("gil")} == {
        "gil_enabled": 1,
        "gilbench_version": 2,
        "gilbench_impl": "host",
        "gilbench_build": "--prefix=/x",
        "gilbench_workload": "bm_sumsquares",
        "gilbench_kind": "pyperf",
        "gilbench_model": "serial",
        "gilbench_workers": 1,
        "gilbench_checksum": "-",
        "gilbench_cpus": meta["gilbench_cpus"],
        "gilbench_affinity": meta["gilbench_affinity"],
        "gilbench_cpu_count": meta["gilbench_cpu_count"],
        "gilbench_oversubscribed": 0,
    }
    assert meta["description"] == "Sum of squares in pure Python"  # the script's metadata stays
    assert len(benchmark.get_values()) == 2


def test_a_script_whose_gil_state_breaks_the_promise_is_rejected(tmp_path: Path) -> None:
    """A worker finding the GIL on where none was promised reports gil-mismatch; nothing is kept."""
    done, raw = _run_script(tmp_path, "0")
    outcome = classify(done.returncode, done.stdout + done.stderr)
    assert (outcome.status, outcome.detail) == (
        "gil-mismatch",
        "host promises GIL disabled but the GIL in force is enabled",
    )
    assert not raw.exists()


def test_without_settings_the_site_hook_leaves_pyperf_alone() -> None:
    """Outside a gilbench run (no GILBENCH_PYPERF) importing the hook wraps nothing."""
    before = pyperf.Runner.bench_func
    _site()
    assert pyperf.Runner.bench_func is before


def test_a_script_of_several_benchmarks_gets_one_workload_each() -> None:
    """bm_x's benchmark x is workload bm_x; any other benchmark is bm_x:<name>."""
    name = _site().workload_name
    assert name("bm_nbody", "nbody") == "bm_nbody"
    assert name("mine", "mine") == "mine"
    assert name("mine", "sort_small") == "mine:sort_small"
