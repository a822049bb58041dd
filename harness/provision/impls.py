"""The implementations gilbench compares, under one id each.

The id a user types (``3.14t``) is the nox session suffix (``bench-3.14t``), the ``impl``
column of every table and the label in the report.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from harness.provision.cpython import CPythonBuild

# The newest CPython series gilbench pins; used to name sessions before anything is built.
DEFAULT_SERIES = "3.14"


# PyPy's tracing JIT, the JVM's (Jython, GraalPy) and .NET's (IronPython).
JIT_FAMILIES = frozenset({"pypy", "graalpy", "jython", "ironpython"})


@dataclass(frozen=True)
class Impl:
    """One row of the comparison: an interpreter plus the way it is run."""

    id: str
    family: str  # "cpython", "pypy", "jython", ...
    python: Path | None  # the base interpreter; None when unavailable
    command: tuple[str, ...] = ()  # how to start it, when not just `python` (java -jar …)
    runner: str = "pyperf"  # "pyperf": inside/runner.py in a venv; "pure": inside/pure_runner.py
    expect_gil: int | None = None  # 1/0: what a run must find in force; None: not checked
    env: Mapping[str, str] = field(default_factory=dict)  # set for every run
    unset_env: tuple[str, ...] = ()  # removed from the environment of every run
    build: str = ""  # configure flags or equivalent, recorded with every benchmark
    provenance: Mapping[str, object] = field(default_factory=dict)
    same_source: bool = False  # built by gilbench from the pinned tarball
    unavailable: str = ""  # why it can't be measured here; empty when it can
    hint: str = ""  # the command that would make it available

    @property
    def jit(self) -> bool:
        """Whether the implementation compiles hot code as it runs, and so needs warm-ups."""
        return self.family in JIT_FAMILIES

    @property
    def available(self) -> bool:
        return not self.unavailable


def series_of(version: str) -> str:
    """``3.14.7`` -> ``3.14``."""
    return ".".join(version.split(".")[:2])


def cpython_ids(series: str) -> tuple[str, str, str]:
    """The three CPython configurations built from one tarball."""
    return (series, series + "t", series + "t+gil")


def cpython_impls(default: CPythonBuild, free_threaded: CPythonBuild) -> list[Impl]:
    """Turn a provisioned pair of builds into the three CPython configurations."""
    series = series_of(default.version)
    plain, ft, ft_gil = cpython_ids(series)
    common_flags = " ".join(str(f) for f in _flags(default.provenance))
    ft_flags = " ".join(str(f) for f in _flags(free_threaded.provenance))
    return [
        Impl(
            id=plain,
            family="cpython",
            python=default.python,
            expect_gil=1,
            # PYTHON_GIL=0 on a default build is a fatal error: never pass one through.
            unset_env=("PYTHON_GIL",),
            build=common_flags,
            provenance=default.provenance,
            same_source=True,
        ),
        Impl(
            id=ft,
            family="cpython",
            python=free_threaded.python,
            expect_gil=0,
            unset_env=("PYTHON_GIL",),
            build=ft_flags,
            provenance=free_threaded.provenance,
            same_source=True,
        ),
        Impl(
            id=ft_gil,
            family="cpython",
            python=free_threaded.python,
            expect_gil=1,
            env={"PYTHON_GIL": "1"},
            build=ft_flags + " PYTHON_GIL=1",
            provenance=free_threaded.provenance,
            same_source=True,
        ),
    ]


def unavailable_cpython(series: str, reason: str, hint: str) -> list[Impl]:
    """Rows for CPython configurations that could not be provisioned."""
    return [
        Impl(id=i, family="cpython", python=None, unavailable=reason, hint=hint)
        for i in cpython_ids(series)
    ]


def _flags(provenance: Mapping[str, object]) -> list[object]:
    flags = provenance.get("configure_flags", [])
    return list(flags) if isinstance(flags, list | tuple) else [flags]
