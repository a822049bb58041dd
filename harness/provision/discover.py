"""Find every implementation gilbench knows, and say why each missing one is missing.

Each ``probe_*`` asks the machine (PATH, pyenv, uv's managed folder, dpkg) and returns an
``Impl``: measurable, or unavailable with the reason and the command that would fix it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Iterable
from pathlib import Path

from harness.provision import jython, maven, system
from harness.provision.impls import Impl

PYPY_PACKAGES = ("pypy3", "pypy3-dev", "pypy3-venv")  # -dev: psutil (pyperf) compiles on PyPy
JYTHON_PACKAGES = ("jython",)  # Debian's Jython 2.7; apt brings the JVM it runs on
# What every interpreter prints for probe_interpreter, in syntax Jython 2.7 also parses.
PROBE = (
    "import platform, sys; "
    "print(platform.python_implementation()); "
    "print('%d.%d' % tuple(sys.version_info[:2])); "
    "print(platform.python_version()); "
    "print(getattr(sys, '_is_gil_enabled', lambda: platform.python_implementation() "
    "not in ('Jython', 'IronPython'))() and 1 or 0)"
)
PROBE_TIMEOUT_S = 60  # a cold JVM on a busy 2-core machine takes several seconds
UV_PYTHONS = Path.home() / ".local" / "share" / "uv" / "python"
PYENV_VERSIONS = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"


def probe_interpreter(command: Iterable[str]) -> dict[str, str] | None:
    """Ask an interpreter what it is; None if it doesn't run (e.g. a pyenv shim exiting 127)."""
    try:
        done = subprocess.run(
            [*command, "-c", PROBE], capture_output=True, text=True, timeout=PROBE_TIMEOUT_S,
            check=False, env={k: v for k, v in os.environ.items() if k != "PYTHON_GIL"},
        )  # fmt: skip
    except (OSError, subprocess.TimeoutExpired):
        return None
    lines = done.stdout.split()
    if done.returncode != 0 or len(lines) < 4:
        return None
    return {"implementation": lines[0], "series": lines[1], "version": lines[2], "gil": lines[3]}


def _debian_package(name: str) -> str:
    done = subprocess.run(
        ["dpkg-query", "-W", "-f=${Version}", name], capture_output=True, text=True, check=False
    ) if shutil.which("dpkg-query") else None  # fmt: skip
    return f"Debian package {name} {done.stdout}" if done and done.returncode == 0 else ""


def _unavailable(impl_id: str, family: str, reason: str, hint: str) -> Impl:
    return Impl(id=impl_id, family=family, python=None, unavailable=reason, hint=hint)


def probe_pypy(install: bool, say: Callable[[str], None]) -> Impl:
    """PyPy from PATH or uv; on Debian, apt-installed when ``install`` allows it."""
    hint = "sudo apt-get install -y " + " ".join(PYPY_PACKAGES)
    exe = shutil.which("pypy3") or _newest(UV_PYTHONS.glob("pypy-*/bin/pypy3"))
    debian_without_headers = (
        exe is not None and _is_debian_pypy(exe) and bool(system.missing_packages(PYPY_PACKAGES))
    )
    if exe is None or debian_without_headers:
        if not install:
            return _unavailable("pypy3", "pypy", "pypy3 (with its -dev and -venv parts) is "
                                "not installed", hint)  # fmt: skip
        try:
            system.ensure_packages(PYPY_PACKAGES, say=say, allow=True)
        except system.SystemPackagesError as exc:
            return _unavailable("pypy3", "pypy", str(exc), hint)
        exe = shutil.which("pypy3")
    info = probe_interpreter([exe]) if exe else None
    if exe is None or info is None:
        return _unavailable("pypy3", "pypy", f"{exe} does not run", hint)
    return Impl(
        id=f"pypy{info['series']}",
        family="pypy",
        python=Path(exe),
        expect_gil=1,  # PyPy has a GIL; its JIT is what it brings
        build="-",
        provenance={"version": f"PyPy, Python {info['version']}",
                    "source": _debian_package("pypy3") or str(exe)},
    )  # fmt: skip


def _is_debian_pypy(exe: str) -> bool:
    return str(Path(exe).resolve()).startswith("/usr/")


def probe_jython(
    jar: Path | None = None,
    install: bool = False,
    say: Callable[[str], None] = print,
    dry: bool = False,
) -> Impl:
    """Jython from a jar the user names; else Maven's newer one when the `jython` on PATH
    is missing or Debian's older package (jython.py); else `jython` on PATH, on Debian
    apt-installed when ``install`` allows it, as PyPy is. ``dry`` (a plan) provisions
    nothing. Run by pure_runner.py."""
    hint = "sudo apt-get install -y jython (or pass --jython-jar PATH/jython-standalone.jar)"
    found = shutil.which("jython")
    chosen: dict[str, object] = {}
    why = jython.wanted(found) if jar is None else ""
    if why and dry:  # a plan counts its cells; the jar comes with the measuring
        return Impl(id="jython2.7", family="jython", python=None, runner="pure",
                    provenance={"version": f"Jython {jython.VERSION}, to be provisioned "
                                "from Maven"})  # fmt: skip
    if why:
        try:
            jar, chosen = jython.provision(say)
            chosen = {**chosen, "chosen": f"Maven's {jython.VERSION}: {why}"}
        except maven.MavenError as exc:
            say(f"Jython {jython.VERSION} from Maven: {exc}; Debian's is used instead")
            chosen = {"chosen": f"Debian's: Maven's {jython.VERSION} failed ({exc})"}
    if jar is None and found is None and install:
        try:
            system.ensure_packages(JYTHON_PACKAGES, say=say, allow=True)
        except system.SystemPackagesError as exc:
            return _unavailable("jython2.7", "jython", str(exc), hint)
        found = shutil.which("jython")
    if jar is not None:
        command: list[str] = ["java", "-jar", str(jar)]
    elif found is not None:
        command = [found]
    else:
        return _unavailable("jython2.7", "jython", "jython is not on PATH", hint)
    info = probe_interpreter(command)
    if info is None:
        return _unavailable("jython2.7", "jython", f"{' '.join(command)!r} does not run", hint)
    source = chosen.get("source") or (str(jar) if jar else _debian_package("jython") or found)
    return Impl(
        id=f"jython{info['series']}",
        family="jython",
        python=Path(command[-1]),
        command=tuple(command),
        runner="pure",
        expect_gil=0,  # Jython has no GIL: threads run on JVM threads
        build="-",
        provenance={**chosen, "version": f"Jython {info['version']}", "source": source},
    )  # fmt: skip


def probe_ironpython() -> Impl:
    """IronPython 3.4 as `ipy` on PATH or as a .NET global tool. Run by pure_runner.py."""
    hint = "install .NET, then: dotnet tool install --global IronPython.Console"
    exe = shutil.which("ipy") or _newest([Path.home() / ".dotnet" / "tools" / "ipy"])
    if exe is None:
        why = "ipy is not on PATH" + ("" if shutil.which("dotnet") else ", and .NET is absent")
        return _unavailable("ironpython3.4", "ironpython", why, hint)
    info = probe_interpreter([exe])
    if info is None:
        return _unavailable("ironpython3.4", "ironpython", f"{exe} does not run", hint)
    return Impl(
        id=f"ironpython{info['series']}", family="ironpython", python=Path(exe),
        command=(exe,), runner="pure", expect_gil=0, build="-",
        provenance={"version": f"IronPython {info['version']}", "source": exe},
    )  # fmt: skip


def probe_graalpy() -> Impl:
    """GraalPy on PATH or among uv-managed interpreters; run with pyperf."""
    hint = "uv python install graalpy (needs the internet), then put its bin/ on PATH"
    exe = shutil.which("graalpy") or _newest(UV_PYTHONS.glob("graalpy-*/bin/graalpy"))
    if exe is None:
        return _unavailable("graalpy", "graalpy", "graalpy is not on PATH or managed by uv", hint)
    info = probe_interpreter([exe])
    if info is None:
        return _unavailable("graalpy", "graalpy", f"{exe} does not run", hint)
    return Impl(
        id=f"graalpy{info['series']}", family="graalpy", python=Path(exe), expect_gil=1,
        build="-", provenance={"version": f"GraalPy, Python {info['version']}", "source": exe},
    )  # fmt: skip


def probe_other_cpython(name: str) -> Impl:
    """Another CPython by version (``3.12``, ``3.13t``): PATH, then pyenv, then uv."""
    series = name.rstrip("t")
    binary = f"python{name}"
    candidates: list[tuple[str, Path]] = []
    if shutil.which(binary):
        candidates.append(("PATH", Path(str(shutil.which(binary)))))
    # newest patch release first within each place
    pyenv = sorted(PYENV_VERSIONS.glob(f"{series}.*/bin/{binary}"), reverse=True)
    uv = sorted(UV_PYTHONS.glob(f"cpython-{series}.*/bin/{binary}"), reverse=True)
    candidates += [("pyenv", p) for p in pyenv] + [("uv", p) for p in uv]
    for where, exe in candidates:
        info = probe_interpreter([str(exe)])
        if info and info["implementation"] == "CPython" and info["series"] == series:
            return Impl(
                id=name, family="cpython", python=exe, expect_gil=int(info["gil"]), build="-",
                provenance={"version": info["version"], "source": f"{exe} (found on {where}; "
                            "not built by gilbench from the pinned tarball)"},
            )  # fmt: skip
    return _unavailable(name, "cpython", f"no working {binary} on PATH, in pyenv or in uv",
                        f"pyenv install {series} (or uv python install {name})")  # fmt: skip


def _newest(paths: Iterable[Path]) -> str | None:
    found = sorted(p for p in paths if p.exists())
    return str(found[-1]) if found else None
