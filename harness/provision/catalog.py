"""Every implementation gilbench knows, as rows: provisioned, discovered, or unavailable.

Only what a selection needs is provisioned or probed: ``run --impl jython2.7`` never builds
CPython, and ``run --impl 3.14t`` never starts a JVM.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from harness.provision import cpython, discover, graalpy, impls
from harness.provision.sources import pinned_versions

FAMILIES = ("cpython", "pypy", "jython", "ironpython", "graalpy")
CPYTHON_ID = re.compile(r"^\d+\.\d+t?(\+gil)?$")
BUILD_HINT = "nox -s compare -- --cpython-source PATH/Python-X.Y.Z.tar.xz"


class UnknownImplError(Exception):
    """A name that is no implementation gilbench knows."""


@dataclass(frozen=True)
class Sources:
    """Where implementations may come from, as the user asked on the command line."""

    cpython: str | None = None  # X.Y.Z to build, or None for the newest pinned
    cpython_source: Path | None = None
    jython_jar: Path | None = None
    install: bool = False  # may apt-get install build dependencies, PyPy, Jython (true as root)
    unverified: bool = False  # --unverified-source: build a tarball that matches no pin


def family_of(name: str, series: str) -> str:
    """Which family a user-typed id belongs to; raise for names that fit none."""
    for family in FAMILIES[1:]:
        if name.startswith(family):
            return family
    if CPYTHON_ID.match(name):
        return "cpython" if name.split("t")[0].split("+")[0] == series else "other-cpython"
    known = ", ".join([*impls.cpython_ids(series), "pypy3", "jython2.7", "ironpython3.4",
                       "graalpy", "another CPython as X.Y or X.Yt"])  # fmt: skip
    raise UnknownImplError(f"unknown implementation {name!r}; known: {known}")


def normalize_id(name: str) -> str:
    """tox can't name an environment with a "+": its env ``3.14t-gil`` is impl ``3.14t+gil``."""
    return name[: -len("-gil")] + "+gil" if name.endswith("t-gil") else name


def gather(
    wanted: Sequence[str] | None,
    sources: Sources,
    say: Callable[[str], None],
    extra: Sequence[str] = (),
    dry: bool = False,
) -> list[impls.Impl]:
    """Rows for ``wanted`` ids (None: every known implementation), plus ``extra`` CPythons.

    ``dry`` (planning a nightly): build and install nothing. CPython is the cached pair,
    else rows of the version that would be built; PyPy and Jython that apt could install
    count as available. Such rows have no interpreter: they are for counting cells.
    """
    series = impls.series_of(sources.cpython) if sources.cpython else impls.DEFAULT_SERIES
    names = [normalize_id(n) for n in wanted] if wanted is not None else []
    families = {family_of(n, series) for n in [*names, *extra]}
    named = set(families)
    if wanted is None:
        families |= set(FAMILIES)
    rows: list[impls.Impl] = []
    if "cpython" in families:
        rows += _planned_cpython(sources, series) if dry else _cpython(sources, series, say)
    install = (sources.install or os.geteuid() == 0) and not dry
    probes: dict[str, Callable[[], impls.Impl]] = {
        "pypy": lambda: discover.probe_pypy(install, say),
        "jython": lambda: discover.probe_jython(sources.jython_jar, install, say, dry),
        "ironpython": discover.probe_ironpython,
        "graalpy": lambda: _graalpy(say, dry, asked="graalpy" in named, install=install),
    }
    found = [probe() for family, probe in probes.items() if family in families]
    rows += [_installable(row) if dry else row for row in found]
    others = [n for n in [*names, *extra] if family_of(n, series) == "other-cpython"]
    rows += [discover.probe_other_cpython(n) for n in dict.fromkeys(others)]
    if wanted is not None:
        rows = [r for r in rows if any(_matches(r.id, n) for n in [*names, *extra])]
    return rows


def _matches(impl_id: str, name: str) -> bool:
    """``pypy3`` names ``pypy3.9``; CPython ids must match exactly (3.14 isn't 3.14t)."""
    if CPYTHON_ID.match(name):
        return impl_id == name
    return impl_id == name or impl_id.startswith(name)


def _planned_cpython(sources: Sources, series: str) -> list[impls.Impl]:
    """The cached builds' rows, else placeholders for the builds a measure job would make."""
    built = cpython.find_builds(sources.cpython)
    if built is not None:
        return impls.cpython_impls(*built)
    version = sources.cpython or pinned_versions()[0]
    return [impls.Impl(id=i, family="cpython", python=None, provenance={"version": version})
            for i in impls.cpython_ids(impls.series_of(version))]  # fmt: skip


def _graalpy(say: Callable[[str], None], dry: bool, asked: bool,
             install: bool = False) -> impls.Impl:  # fmt: skip
    """A graalpy on PATH or managed by uv first; else, when named (``--impl graalpy``),
    GraalPy from Maven on a JDK here (Maven from apt with ``install``). Unnamed it is not
    provisioned: every process is a JVM start, and its quick cells take 14-107 s each on
    2 cores (docs/measurements.md). Named in a plan (``dry``), it counts as there: the
    nightly's measure jobs set up a JDK 25 before they measure, and a shard that then
    lacks GraalPy fails (nightly.check_expected)."""
    found = discover.probe_graalpy()
    if found.available:
        return found
    if asked:
        row = graalpy.provision(say, dry, install)
        return graalpy.planned() if dry and not row.available else row
    if graalpy.find_jdk() is None or shutil.which("mvn") is None:
        return graalpy.provision(say, dry=True)  # unavailable: says what is missing
    return replace(found, unavailable=(
        f"{found.unavailable}; GraalPy {graalpy.VERSION} from Maven would run on the JDK "
        "here, but is measured only when asked for (each of its processes starts a JVM, "
        "so its cells take many times longer)"),
        hint="nox -s compare -- --impl graalpy")  # fmt: skip


def _installable(row: impls.Impl) -> impls.Impl:
    """A missing PyPy or Jython that apt could install counts as there, for a plan."""
    if row.available or row.family not in ("pypy", "jython") or not shutil.which("apt-get"):
        return row
    return replace(row, unavailable="", provenance={"version": "to be installed with apt"})


def _cpython(sources: Sources, series: str, say: Callable[[str], None]) -> list[impls.Impl]:
    try:
        default, free_threaded = cpython.provision_cpython(
            sources.cpython, sources.cpython_source, progress=say, unverified=sources.unverified,
            install=sources.install or os.geteuid() == 0)  # fmt: skip
    except cpython.ProvisionError as exc:
        if sources.cpython or sources.cpython_source:
            raise  # asked for explicitly: one line and exit 2, not a row of unavailable cells
        return impls.unavailable_cpython(series, str(exc), BUILD_HINT)
    return impls.cpython_impls(default, free_threaded)


def format_impls(rows: Sequence[impls.Impl]) -> str:
    """The `impls` table: one line per implementation, then how to get the missing ones."""
    lines = [f"{'impl':<14} {'status':<12} {'GIL':<9} {'runner':<7} version / reason"]
    for row in rows:
        gil = "-" if row.expect_gil is None else ("enabled" if row.expect_gil else "disabled")
        if row.available:
            detail = str(row.provenance.get("version", "")) or str(row.python)
            lines.append(f"{row.id:<14} {'available':<12} {gil:<9} {row.runner:<7} {detail}")
        else:
            lines.append(f"{row.id:<14} {'unavailable':<12} {'-':<9} {'-':<7} {row.unavailable}")
    missing = [r for r in rows if not r.available and r.hint]
    if missing:
        lines.append("")
        lines += [f"to add {r.id}: {r.hint}" for r in missing]
    return "\n".join(lines) + "\n"
