"""GraalPy from Maven Central, run on a JDK present, through a ``graalpy`` launcher.

A ``graalpy`` on PATH or managed by uv comes first (discover.probe_graalpy); this is the
provider for machines that have Java and Maven. Maven resolves the community edition's
jars into gilbench's cache, each checked against its published checksum (maven.py). The
launcher is a shell script over ``java -m`` with the jars on the module path and the Graal
compiler on the upgrade module path, so that Truffle's optimizing runtime is on: GraalPy
without its compiler runs only interpreted, with no JIT, and is another implementation.
Whether the JIT was on is read from the running interpreter, never assumed.

Version: 25.0.3, the newest GraalPy whose Truffle has a matching Graal compiler on Maven
Central (org.graalvm.compiler:compiler has no 25.1 or 25.2; GraalPy 25.2.4 runs only
interpreted there). It needs JDK 25 for the optimizing runtime; an older JDK can't run it.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from harness.provision import discover, maven, system
from harness.provision.cpython import cache_dir
from harness.provision.impls import Impl

VERSION = "25.0.3"
GROUP_LAUNCHER = ("org.graalvm.python", "python-launcher")
GROUP_COMMUNITY = ("org.graalvm.polyglot", "python-community")  # a pom: every jar it needs
COMPILER = ("org.graalvm.compiler", "compiler")
MIN_JDK = 25  # Truffle 25's optimizing runtime on a stock JDK needs JVMCI of JDK 25
MAIN = "org.graalvm.py.launcher/com.oracle.graal.python.shell.GraalPythonMain"
JVM_ROOTS = (Path("/usr/lib/jvm"),)
PROVENANCE = "gilbench-provenance.json"
HINT = ("install a JDK 25 (e.g. Temurin 25 into /usr/lib/jvm) and Maven (sudo apt-get "
        "install -y maven), then run 'nox -s compare' again")  # fmt: skip
# What the launcher answers, in one JVM start: discover's probe, then the JIT state and
# sys.version, which names the Truffle runtime ("GraalVM CE", or "Interpreted" without it).
PROBE = (discover.PROBE + "; print('Interpreted' in sys.version and 'off' or 'on'); "
         "print(sys.version)")  # fmt: skip


class GraalPyError(maven.MavenError):
    """GraalPy could not be provisioned; the message says why and what to do."""


def find_jdk(roots: tuple[Path, ...] | None = None) -> tuple[Path, str] | None:
    """The newest JDK of version MIN_JDK or later: JAVA_HOME, then the JVM folders."""
    roots = JVM_ROOTS if roots is None else roots
    found: list[tuple[tuple[int, ...], Path, str]] = []
    homes = [Path(os.environ["JAVA_HOME"])] if os.environ.get("JAVA_HOME") else []
    for home in homes + sorted(p for root in roots if root.is_dir() for p in root.iterdir()):
        version = jdk_version(home)
        if version and int(version.split(".")[0]) >= MIN_JDK and (home / "bin/java").is_file():
            key = tuple(int(part) for part in re.findall(r"\d+", version))
            found.append((key, home.resolve(), version))
    if not found:
        return None
    _, home, version = max(found)
    return home, version


def jdk_version(home: Path) -> str:
    """JAVA_VERSION of a JDK's ``release`` file ("25.0.3"), or empty if it has none."""
    try:
        text = (home / "release").read_text()
    except OSError:
        return ""
    match = re.search(r'^JAVA_VERSION="([^"]+)"', text, re.MULTILINE)
    return match[1] if match else ""


def write_launcher(path: Path, java: Path, jars: list[Path], compiler: list[Path]) -> None:
    """A ``graalpy`` that is an ordinary command: it passes its own path as the
    executable, so that sys.executable (venv, multiprocessing's spawn) names it."""
    modules = os.pathsep.join(str(j) for j in jars)
    upgrade = os.pathsep.join(str(j) for j in compiler)
    flags = ["-XX:+UnlockExperimentalVMOptions", "-XX:+EnableJVMCI",
             f"--upgrade-module-path={upgrade}",
             "--enable-native-access=org.graalvm.truffle,ALL-UNNAMED",
             "--sun-misc-unsafe-memory-access=allow"]  # fmt: skip
    script = ("#!/bin/sh\n# GraalPy " + VERSION + " from Maven Central, written by gilbench\n"
              f"exec {shlex.quote(str(java))} {' '.join(flags)} "
              '"-Dorg.graalvm.launcher.executablename=$0" '
              f"-p {shlex.quote(modules)} -m {MAIN} \"$@\"\n")  # fmt: skip
    path.parent.mkdir(parents=True, exist_ok=True)
    part = path.with_name(path.name + ".part")
    part.write_text(script)
    part.chmod(0o755)
    part.replace(path)


def probe(launcher: Path) -> dict[str, str]:
    """What the launcher runs: implementation, series, version, JIT state and sys.version."""
    try:
        done = subprocess.run([str(launcher), "-c", PROBE], capture_output=True, text=True,
                              timeout=300, check=False)  # fmt: skip
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise GraalPyError(f"{launcher} does not run ({exc})") from None
    lines = done.stdout.splitlines()
    if done.returncode != 0 or len(lines) < 6:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise GraalPyError(f"{launcher} does not run: {last[:200]}")
    return {"implementation": lines[0], "series": lines[1], "version": lines[2],
            "jit": lines[4], "sys_version": " ".join(lines[5:])}  # fmt: skip


def provision(say: Callable[[str], None], dry: bool = False, install: bool = False) -> Impl:
    """GraalPy from Maven into the cache (or the one already there), as a row; with
    ``install`` (--install-system-packages), Maven from apt if it is missing."""
    jdk = find_jdk()
    if jdk is None:
        return _unavailable(f"GraalPy from Maven needs a JDK {MIN_JDK} or newer, and none "
                            "is in JAVA_HOME or /usr/lib/jvm; no graalpy is on PATH or "
                            "managed by uv either")  # fmt: skip
    if shutil.which("mvn") is None and install and not dry:
        try:
            system.ensure_packages(["maven"], say, allow=True)
        except system.SystemPackagesError as exc:
            return _unavailable(f"GraalPy from Maven needs Maven (mvn): {exc}")
    if shutil.which("mvn") is None:
        return _unavailable("GraalPy from Maven needs Maven (mvn), which is not on PATH")
    home, jdk_version_text = jdk
    root = cache_dir() / "graalpy" / f"{VERSION}-jdk{jdk_version_text}"
    launcher = root / "bin" / "graalpy"
    try:
        record = json.loads((root / PROVENANCE).read_text())
    except (OSError, ValueError):
        record = None
    if record is None and dry:
        return planned()
    try:
        if record is None or not launcher.is_file():
            record = _provision(root, home, jdk_version_text, launcher, say)
        info = probe(launcher)
    except maven.MavenError as exc:
        return _unavailable(str(exc))
    provenance = {**record, "jit": info["jit"], "sys_version": info["sys_version"]}
    return Impl(
        id=f"graalpy{info['series']}", family="graalpy", python=launcher,
        command=(str(launcher),), runner="pure", expect_gil=1, build="-",
        provenance={**provenance, "version": f"GraalPy {VERSION}, Python {info['version']}"},
    )  # fmt: skip


def planned() -> Impl:
    """GraalPy as a plan counts it: to be provisioned from Maven where it is measured."""
    version = f"GraalPy {VERSION}, to be provisioned from Maven"
    return Impl(id="graalpy3.12", family="graalpy", python=None, runner="pure",
                provenance={"version": version})  # fmt: skip


def _provision(root: Path, home: Path, jdk: str, launcher: Path,
               say: Callable[[str], None]) -> dict[str, object]:  # fmt: skip
    started = time.monotonic()
    say(f"provisioning GraalPy {VERSION} from Maven into {root} (about 190 MB)")
    jars = maven.resolve(root, "graalpy", [(*GROUP_COMMUNITY, VERSION, "pom"),
                                           (*GROUP_LAUNCHER, VERSION, "jar")])  # fmt: skip
    compiler = maven.resolve(root, "compiler", [(*COMPILER, VERSION, "jar")])
    checked = maven.verify(jars + compiler)
    graal = [j for j in compiler if j.name.startswith(f"{COMPILER[1]}-")]  # its deps: in jars
    write_launcher(launcher, home / "bin" / "java", jars, graal)
    seconds = round(time.monotonic() - started, 1)
    record: dict[str, object] = {
        "source": f"Maven: {':'.join(GROUP_COMMUNITY)}:{VERSION} (pom), "
                  f"{':'.join(GROUP_LAUNCHER)}:{VERSION}, {':'.join(COMPILER)}:{VERSION}",
        "verified": f"sha1 of all {len(checked)} jars matches the checksums Maven published",
        "artifacts": checked,
        "jdk": f"{home} ({jdk})",
        "provision_seconds": seconds,
    }  # fmt: skip
    part = root / (PROVENANCE + ".part")
    part.write_text(json.dumps(record, indent=2, sort_keys=True) + "\n")
    part.replace(root / PROVENANCE)  # last: from now on the provisioning is complete
    say(f"provisioned GraalPy {VERSION} in {seconds:.0f} s: {len(checked)} jars verified")
    return record


def _unavailable(reason: str) -> Impl:
    return Impl(id="graalpy", family="graalpy", python=None, unavailable=reason, hint=HINT)
