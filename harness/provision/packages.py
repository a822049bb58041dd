"""The packages a workload declares (``REQUIRES``), installed for each implementation.

A workload may import more than the standard library: ``REQUIRES = ("numpy>=2",)``. Before
a run measures anything, each implementation's own pip installs each such set into a folder
of the per-user cache (``pip install --target``), from whatever index the system's pip is
configured with: wheels where they exist (``--prefer-binary``), built where they must be,
within PIP_TIMEOUT_S. A folder that is ready is used as it is, so a second run installs
nothing; the runners get it first on PYTHONPATH (JYTHONPATH, IRONPYTHONPATH), and pyperf
passes PYTHONPATH on to its workers.

An implementation that can't have them gets the workload's cells ``unsupported``, with pip's
last error line as the reason: that is a result (Jython and GraalPy mostly land there), and
the rest of the run is measured. A failure is not kept from one run to the next, so a run
after the network came back asks pip again. An implementation without pip of its own
(Jython's standalone jar) gets one from its own ``ensurepip``, kept in the cache.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from harness.provision.cpython import cache_dir
from harness.provision.impls import Impl

if TYPE_CHECKING:
    from harness.run.plan import Bench

# Long enough for wheels and a small C extension built from source on 2 cores; a source
# build past it (numpy's takes many minutes) is reported, with the time limit as the reason.
PIP_TIMEOUT_S = 600.0
READY = "gilbench-packages.json"  # versions installed: the folder is complete
FAILED = "gilbench-failed.json"  # this run's pip failure, read by the matrix for its cells
FORMAT = 1  # of the folders' layout; a new one makes new folders
REASON_LIMIT = 300  # characters of pip's line kept as a cell's reason
# The variable each family reads its module path from (Jython and IronPython ignore
# PYTHONPATH).
PATH_VARIABLE = {"jython": "JYTHONPATH", "ironpython": "IRONPYTHONPATH"}


class PackagesError(Exception):
    """An implementation's pip can't be had or can't install a set; the message says why."""


@dataclass(frozen=True)
class Packages:
    """One implementation's copy of one workload's REQUIRES: installed, or why not."""

    requires: tuple[str, ...]
    folder: Path
    versions: Mapping[str, str] = field(default_factory=dict)  # project -> version installed
    reason: str = ""  # why they can't be had; empty when installed
    installed_s: float | None = None  # seconds pip took in this run; None: from the cache

    @property
    def ready(self) -> bool:
        return not self.reason

    def record(self) -> dict[str, object]:
        """What run.json keeps of it: the requirements, then the versions or the reason."""
        said: dict[str, object] = {"requires": list(self.requires)}
        if self.ready:
            return {**said, "status": "ok", "versions": dict(self.versions)}
        return {**said, "status": "unsupported", "reason": self.reason}


def packages_dir(impl: Impl, requires: Sequence[str]) -> Path:
    """Where ``impl``'s copy of ``requires`` lives; it changes with the interpreter, as its
    virtualenv's folder does (venvs.venv_dir), and with the requirements."""
    stamp = "|".join([str(impl.python), str(impl.provenance.get("build_date", "")),
                      *sorted(requires), str(FORMAT)])  # fmt: skip
    key = hashlib.sha256(stamp.encode()).hexdigest()[:12]
    return cache_dir() / "packages" / f"{impl.family}-{key}"


def site_of(folder: Path) -> Path:
    """The folder pip installs into, and the runners import from."""
    return folder / "site"


def load_packages(impl: Impl, requires: Sequence[str]) -> Packages:
    """What the cache holds for ``impl`` and ``requires``: ready, failed in this run, or
    not installed at all (a reason that says how to install them)."""
    folder = packages_dir(impl, requires)
    for name in (READY, FAILED):
        try:
            said = json.loads((folder / name).read_text())
        except (OSError, ValueError):
            continue
        if name == READY and site_of(folder).is_dir():
            return Packages(tuple(requires), folder, dict(said.get("versions", {})))
        if name == FAILED:
            return Packages(tuple(requires), folder, reason=str(said.get("reason", "")))
    return Packages(tuple(requires), folder, reason=f"{', '.join(requires)} are not installed "
                    f"for {impl.id}: run 'nox -s compare' with this workload again")  # fmt: skip


def ensure_packages(impl: Impl, python: Sequence[str], requires: Sequence[str]) -> Packages:
    """``impl``'s copy of ``requires``, installed with pip run by ``python`` if the cache
    has none ready; a failure is recorded in the folder, for the matrix, and returned with
    its reason."""
    found = load_packages(impl, requires)
    if found.ready:
        return found
    folder = found.folder
    folder.parent.mkdir(parents=True, exist_ok=True)
    log = folder.parent / f"{folder.name}.log"
    part = folder.parent / f"{folder.name}.part-{os.getpid()}"
    shutil.rmtree(part, ignore_errors=True)
    started = time.monotonic()
    try:
        pip, env = pip_command(impl, python, log)
        cmd = [*pip, "install", "--disable-pip-version-check", "--prefer-binary",
               "--target", str(site_of(part)), *requires]  # fmt: skip
        # PIP_NO_INPUT: never wait for an answer (an environment variable, which pip 19,
        # Jython's, ignores where it predates the option)
        _run(cmd, {**env, "PIP_NO_INPUT": "1"}, log, "a")
        versions = installed_versions(site_of(part))
    except PackagesError as exc:
        shutil.rmtree(part, ignore_errors=True)
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        reason = f"pip could not install {', '.join(requires)}: {exc}"
        (folder / FAILED).write_text(json.dumps({"reason": reason}) + "\n")
        return Packages(tuple(requires), folder, reason=reason)
    seconds = time.monotonic() - started
    (part / READY).write_text(json.dumps({"requires": list(requires), "versions": versions,
                                          "seconds": round(seconds, 1)}) + "\n")  # fmt: skip
    shutil.rmtree(folder, ignore_errors=True)
    part.rename(folder)
    return Packages(tuple(requires), folder, versions, installed_s=seconds)


def pip_command(impl: Impl, python: Sequence[str], log: Path) -> tuple[list[str], dict[str, str]]:
    """The command that runs ``impl``'s pip, and what its environment needs: its own pip,
    else one that its ``ensurepip`` put into the cache (once)."""
    bootstrap = cache_dir() / "packages" / f"pip-{packages_dir(impl, ()).name}"
    site = _pip_site(bootstrap)
    if site is None:
        done = _try([*python, "-m", "pip", "--version"])
        if done.returncode == 0:
            return [*python, "-m", "pip"], {}
        shutil.rmtree(bootstrap, ignore_errors=True)
        try:
            _run([*python, "-m", "ensurepip", "--root", str(bootstrap)], {}, log, "w")
        except PackagesError as exc:
            raise PackagesError(f"{impl.id} has no pip, and its ensurepip failed: {exc}") from None
        site = _pip_site(bootstrap)
        if site is None:
            raise PackagesError(f"{impl.id} has no pip, and its ensurepip installed none "
                                f"under {bootstrap}")  # fmt: skip
    return [*python, "-m", "pip"], path_environ(impl, site, {})


def _pip_site(root: Path) -> Path | None:
    """The folder under ``root`` that ensurepip put pip into, if any."""
    found = sorted(p.parent.parent for p in root.rglob("pip/__init__.py")) if root.is_dir() else []
    return found[0] if found else None


def _try(cmd: Sequence[str]) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(list(cmd), capture_output=True, text=True, timeout=120,
                              check=False)  # fmt: skip
    except (OSError, subprocess.TimeoutExpired) as exc:
        return subprocess.CompletedProcess(list(cmd), 1, "", str(exc))


def _run(cmd: Sequence[str], env: Mapping[str, str], log: Path, mode: str) -> None:
    """Run ``cmd`` with its output appended to ``log``; raise with pip's reason if it fails."""
    with log.open(mode) as out:
        out.write("$ " + " ".join(cmd) + "\n")
        out.flush()
        start = log.stat().st_size
        try:
            done = subprocess.run(list(cmd), stdout=out, stderr=subprocess.STDOUT,
                                  stdin=subprocess.DEVNULL, env={**os.environ, **env},
                                  timeout=PIP_TIMEOUT_S, check=False)  # fmt: skip
        except subprocess.TimeoutExpired:
            raise PackagesError(f"still running after {PIP_TIMEOUT_S:.0f} s; stopped "
                                f"(see {log})") from None  # fmt: skip
        except OSError as exc:
            raise PackagesError(f"{cmd[0]} does not start ({exc.strerror})") from None
    if done.returncode != 0:
        with log.open(errors="replace") as text:
            text.seek(start)
            raise PackagesError(format_reason(text.read()))


def format_reason(output: str) -> str:
    """pip's one line: its last ``ERROR:`` line (its verdict), with the cause a step it ran
    gave (an indented ``ERROR:`` line) where there is one; else its last line."""
    lines = [line.rstrip() for line in output.splitlines() if line.strip()]
    verdict = [line for line in lines if line.startswith("ERROR:")]
    causes = [line.strip() for line in lines if line[:1].isspace() and "ERROR:" in line]
    said = (verdict or lines or ["no output"])[-1].removeprefix("ERROR:").strip()
    if verdict and causes:
        said += f" ({causes[-1].split('ERROR:', 1)[1].strip()})"
    return said if len(said) <= REASON_LIMIT else said[:REASON_LIMIT] + " [...]"


def installed_versions(site: Path) -> dict[str, str]:
    """Project -> version of everything pip put into ``site``, from each one's metadata."""
    versions: dict[str, str] = {}
    for meta in sorted([*site.glob("*.dist-info/METADATA"), *site.glob("*.egg-info/PKG-INFO")]):
        fields = dict(_headers(meta.read_text(errors="replace")))
        if "Name" in fields and "Version" in fields:
            versions[fields["Name"]] = fields["Version"]
    return versions


def _headers(text: str) -> Iterable[tuple[str, str]]:
    for line in text.splitlines():
        if not line.strip():
            return  # the headers end at the first empty line; the description follows
        name, sep, value = line.partition(":")
        if sep and not line[:1].isspace():
            yield name.strip(), value.strip()


def path_environ(impl: Impl, site: Path, base: Mapping[str, str]) -> dict[str, str]:
    """``base`` with ``site`` first on the module path ``impl``'s family reads."""
    variable = PATH_VARIABLE.get(impl.family, "PYTHONPATH")
    env = dict(base)
    env[variable] = os.pathsep.join([str(site), *([env[variable]] if env.get(variable) else [])])
    return env


def prepare_packages(benches: Iterable[Bench], pythons: Mapping[str, Path],
                     say: Callable[[str], None]) -> dict[str, object]:  # fmt: skip
    """Install every planned workload's REQUIRES for every implementation that measures it,
    before anything is measured; ``{"packages": impl -> workload -> record}`` for run.json,
    or {} when no workload requires any. One line for what was installed or refused."""
    record: dict[str, dict[str, object]] = {}
    asked: dict[Path, Packages] = {}  # 3.14t and 3.14t+gil share an interpreter: ask once
    for bench in benches:
        impl, workload = bench.impl, bench.workload
        done = record.get(impl.id, {})
        if not workload.requires or impl.id not in pythons or workload.name in done:
            continue
        folder = packages_dir(impl, workload.requires)
        if folder not in asked:
            python = python_of(impl, pythons[impl.id])
            asked[folder] = ensure_packages(impl, python, workload.requires)
            say(format_outcome(impl, asked[folder]))
        record.setdefault(impl.id, {})[workload.name] = asked[folder].record()
    return {"packages": record} if record else {}


def python_of(impl: Impl, python: Path) -> list[str]:
    """How to start the interpreter whose pip installs: a pure runner's implementation is
    started by its command (``java -jar jython.jar``); the others, by their venv's python."""
    return list(impl.command) if impl.runner == "pure" and impl.command else [str(python)]


def format_outcome(impl: Impl, got: Packages) -> str:
    """One line: what ``impl`` got, from the cache or pip, or why its cells are unsupported."""
    wanted = ", ".join(got.requires)
    if not got.ready:
        return f"packages for {impl.id}: {got.reason}; its cells of workloads that need " \
               f"{wanted} are unsupported"  # fmt: skip
    versions = ", ".join(f"{name} {version}" for name, version in got.versions.items())
    how = "from the cache" if got.installed_s is None else f"installed in {got.installed_s:.0f} s"
    return f"packages for {impl.id}: {versions} ({how})"


def refusal(bench: Bench) -> str:
    """Why ``bench`` can't run for want of its packages, or ""."""
    if not bench.workload.requires:
        return ""
    return load_packages(bench.impl, bench.workload.requires).reason


def packages_environ(bench: Bench, base: Mapping[str, str]) -> dict[str, str]:
    """``base`` with the bench's packages first on its module path (as it is without any)."""
    if not bench.workload.requires:
        return dict(base)
    return path_environ(bench.impl, site_of(packages_dir(bench.impl, bench.workload.requires)),
                        base)  # fmt: skip
