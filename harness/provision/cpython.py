"""Build CPython twice from one verified source: with the GIL and free-threaded.

Builds live in the per-user cache, keyed by version and configure flags. A build is complete
once its provenance file exists: that file is written last, so anything else in a prefix
without it is a half-finished build and gets wiped.
"""

from __future__ import annotations

import fcntl
import functools
import hashlib
import json
import os
import shlex
import shutil
import subprocess
import tarfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from harness.provision import sources, system
from harness.provision.sources import PINS, ProvisionError, Source, SourceUnavailable
from harness.untar import extract_data

__all__ = [
    "CONFIGURE_FLAGS",
    "PINS",
    "CPythonBuild",
    "ProvisionError",
    "cache_dir",
    "find_builds",
    "provision_cpython",
]

# Stock configure, so the builds compare with what users run; `--disable-gil` and `--prefix`
# are added per build. No PGO/LTO: they triple a 2.5-minute build (shared/NOTES.md).
CONFIGURE_FLAGS: tuple[str, ...] = ()
PROVENANCE_NAME = "gilbench-provenance.json"
LOG_NAME = "gilbench-build.log"
# History: 1 = first format.
PROVENANCE_FORMAT = 1
KINDS = {False: "default", True: "freethreaded"}
# Header -> Debian package; without them ssl/zlib/ctypes silently go missing from the build.
HEADERS = {"zlib.h": "zlib1g-dev", "openssl/ssl.h": "libssl-dev", "ffi.h": "libffi-dev"}


@dataclass(frozen=True)
class CPythonBuild:
    version: str  # "3.14.7"
    free_threaded: bool
    prefix: Path  # install prefix
    python: Path  # prefix/bin/python3.14 or prefix/bin/python3.14t
    provenance: dict[str, object]  # what was written to prefix/gilbench-provenance.json


def cache_dir() -> Path:
    """$GILBENCH_CACHE, else $XDG_CACHE_HOME/gilbench, else ~/.cache/gilbench."""
    if os.environ.get("GILBENCH_CACHE"):
        return Path(os.environ["GILBENCH_CACHE"]).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "gilbench"


def flag_key(flags: tuple[str, ...]) -> str:
    """Short hash of the configure flags: changing them builds into a fresh directory."""
    return hashlib.sha256(json.dumps(list(flags)).encode()).hexdigest()[:10]


def build_root(version: str, flags: tuple[str, ...] | None = None) -> Path:
    flags = CONFIGURE_FLAGS if flags is None else flags
    return cache_dir() / "cpython" / f"{version}-{flag_key(flags)}"


def python_path(prefix: Path, version: str, free_threaded: bool) -> Path:
    major, minor, _ = sources.parse_version(version)
    return prefix / "bin" / f"python{major}.{minor}{'t' if free_threaded else ''}"


def load_build(version: str, free_threaded: bool) -> CPythonBuild | None:
    """The complete build in the cache, or None: no provenance means not finished."""
    return inspect_build(version, free_threaded)[0]


def inspect_build(version: str, free_threaded: bool) -> tuple[CPythonBuild | None, str]:
    """The complete, working build in the cache, or None and why a finished one is broken
    (empty when there is none, or it never finished: it is wiped and built, as always)."""
    prefix = build_root(version) / KINDS[free_threaded]
    python = python_path(prefix, version, free_threaded)
    try:
        provenance = json.loads((prefix / PROVENANCE_NAME).read_text())
    except (OSError, ValueError):
        return None, ""
    # An unknown format is rebuilt rather than trusted.
    if provenance.get("format") != PROVENANCE_FORMAT:
        return None, ""
    why = broken(python, provenance.get("Py_GIL_DISABLED")) if python.is_file() else (
        f"{python} is missing")  # fmt: skip
    if why:
        return None, why
    return CPythonBuild(version, free_threaded, prefix, python, provenance), ""


def broken(python: Path, gil_disabled: object) -> str:
    """Why a finished build no longer works (a file of it deleted or damaged, a library it
    links gone), or empty: it starts, imports what builds are checked for, and is still
    the build its provenance says. Asked once per process and build."""
    try:
        stamp = python.stat().st_mtime_ns
    except OSError as exc:
        return f"{python} is unreadable ({exc.strerror})"
    return _broken(str(python), stamp, json.dumps(gil_disabled))


# What a build is checked for when it is made, and each time it is taken from the cache.
PROBE = ("import ssl, zlib, hashlib, json, sysconfig; "
         "print(json.dumps(sysconfig.get_config_var('Py_GIL_DISABLED')))")  # fmt: skip


@functools.lru_cache(maxsize=16)
def _broken(python: str, stamp: int, gil_disabled: str) -> str:
    try:
        done = subprocess.run([python, "-I", "-c", PROBE], capture_output=True, text=True,
                              env=clean_env(), timeout=60, check=False)  # fmt: skip
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"{python} does not start ({exc})"
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or [f"exit status {done.returncode}"])[-1]
        return f"{python} fails: {last[:200]}"
    if done.stdout.strip() != gil_disabled:
        return f"{python} reports Py_GIL_DISABLED={done.stdout.strip()}, not {gil_disabled}"
    return ""


def source_id(origin: object, sha256: object) -> object:
    """What identifies a source: its hash, or for an unhashable directory its path."""
    return sha256 if sha256 is not None else origin


def same_source(build: CPythonBuild, source: Source) -> bool:
    built_from = source_id(build.provenance.get("source"), build.provenance.get("sha256"))
    return built_from == source_id(source.origin, source.sha256)


def paired(default: CPythonBuild, threaded: CPythonBuild) -> bool:
    """Both builds came from the same source (and so differ only by --disable-gil)."""
    ids = [
        source_id(b.provenance.get("source"), b.provenance.get("sha256"))
        for b in (default, threaded)
    ]
    return ids[0] == ids[1]


def find_builds(version: str | None = None) -> tuple[CPythonBuild, CPythonBuild] | None:
    """Already-built (default, free-threaded) pair for version (None = newest built pin)."""
    for candidate in sources.pinned_versions() if version is None else [version]:
        default, threaded = load_build(candidate, False), load_build(candidate, True)
        if default and threaded and paired(default, threaded):
            return default, threaded
    return None


def provision_cpython(
    version: str | None = None,
    source: Path | None = None,
    progress: Callable[[str], None] = print,
    unverified: bool = False,
    install: bool = False,
) -> tuple[CPythonBuild, CPythonBuild]:
    """Return (default build, free-threaded build), building them if needed; ``unverified``
    lets a ``source`` tarball that matches no pin be built, marked so; ``install``
    (--install-system-packages) apt-installs the build dependencies before a build."""
    sources_dir = cache_dir() / "sources"
    if source is not None:
        src = sources.fetch_source(version, source, sources_dir, progress, unverified=unverified)
        return build_pair(src, progress, install)
    if version is not None:
        if built := find_builds(version):  # also an unpinned version built from a user's source
            return built
        sources.require_pinned(version)
        src = sources.fetch_source(version, None, sources_dir, progress)
        return build_pair(src, progress, install)
    candidates = sources.pinned_versions()
    for candidate in candidates:  # newest first; the first that is built or fetched wins
        if built := find_builds(candidate):
            return built
        try:
            src = sources.fetch_source(candidate, None, sources_dir, progress)
        except SourceUnavailable:
            continue
        return build_pair(src, progress, install)
    mirrors = ", ".join(sources.load_mirror_uris()) or "none configured"
    raise ProvisionError(
        f"could not fetch any pinned CPython ({', '.join(candidates)}) from python.org or the "
        f"apt mirrors ({mirrors}); pass --cpython-source PATH to a Python-X.Y.Z.tar.xz"
    )


def build_pair(
    src: Source, progress: Callable[[str], None], install: bool = False
) -> tuple[CPythonBuild, CPythonBuild]:
    """Both builds from `src`, reusing a complete one only if it came from the same source;
    ``install``: apt-install the build dependencies first, if a build is needed."""
    if sources.parse_version(src.version) < (3, 13, 0):
        raise ProvisionError(
            f"CPython {src.version!r} has no free-threaded build; pass 3.13.0 or newer"
        )
    root = build_root(src.version)
    root.mkdir(parents=True, exist_ok=True)
    pair: list[CPythonBuild] = []
    with locked(root / ".lock"):  # inside the lock, a build another process finished counts
        for free_threaded in (False, True):
            build, why = inspect_build(src.version, free_threaded)
            if why:
                progress(f"the cached build in {root / KINDS[free_threaded]} is broken "
                         f"({why}): building it again")  # fmt: skip
            if build is None or not same_source(build, src):
                ensure_build_deps(install, progress)
                build = build_one(src, free_threaded, root, progress)
            pair.append(build)
    return pair[0], pair[1]


@contextmanager
def locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock, so that two processes never build into one prefix."""
    with path.open("w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        yield


def build_one(
    src: Source, free_threaded: bool, root: Path, progress: Callable[[str], None]
) -> CPythonBuild:
    kind = KINDS[free_threaded]
    prefix, work = root / kind, root / f"{kind}.build"
    for stale in (prefix, work):  # a half-finished build from an earlier run
        shutil.rmtree(stale, ignore_errors=True)
    prefix.mkdir(parents=True)
    log = prefix / LOG_NAME
    label = f"{src.version} {'free-threaded' if free_threaded else 'default'}"
    progress(f"building {label} (log: {log})")
    started = time.monotonic()
    tree = unpack(src, work)
    flags = [*(["--disable-gil"] if free_threaded else []), f"--prefix={prefix}", *CONFIGURE_FLAGS]
    run_logged(["./configure", *flags], tree, log, "configure")
    run_logged(["make", f"-j{os.cpu_count() or 1}"], tree, log, "make")
    run_logged(["make", "install"], tree, log, "make install")
    python = python_path(prefix, src.version, free_threaded)
    gil_disabled = probe_installed(python, log)
    if gil_disabled != int(free_threaded):
        raise ProvisionError(
            f"{str(python)!r} reports Py_GIL_DISABLED={gil_disabled!r}, expected "
            f"{int(free_threaded)}; see {str(log)!r} and delete {str(prefix)!r} to retry"
        )
    seconds = round(time.monotonic() - started, 1)
    provenance: dict[str, object] = {
        "format": PROVENANCE_FORMAT,
        "version": src.version,
        "free_threaded": free_threaded,
        "source": src.origin,
        "sha256": src.sha256,
        "verified": "unverified: matches no pin"
        if not src.verified
        else ("sha256 pinned" if src.sha256 else "a source folder, not hashable"),
        "configure_flags": flags,
        "compiler": probe_compiler_version(),
        "build_date": datetime.now(UTC).isoformat(timespec="seconds"),
        "build_seconds": seconds,
        "Py_GIL_DISABLED": gil_disabled,
        "python": str(python),
        "log": str(log),
    }
    part = prefix / (PROVENANCE_NAME + ".part")
    part.write_text(json.dumps(provenance, indent=2) + "\n")
    part.replace(prefix / PROVENANCE_NAME)  # last: from now on the build is complete
    shutil.rmtree(work, ignore_errors=True)
    progress(f"built {label} in {int(seconds) // 60}m{int(seconds) % 60:02d}s")
    return CPythonBuild(src.version, free_threaded, prefix, python, provenance)


def unpack(src: Source, work: Path) -> Path:
    """A private copy of the source tree under `work`; the tarball was verified already."""
    if src.path.is_dir():
        shutil.copytree(src.path, work / "src", symlinks=True)
        return work / "src"
    with tarfile.open(src.path) as tar:
        extract_data(tar, work)
    trees = [p.parent for p in work.glob("*/configure")]
    if len(trees) != 1:
        raise ProvisionError(f"{str(src.path)!r} is not a CPython source tarball; pass one")
    return trees[0]


def run_logged(cmd: list[str], cwd: Path, log: Path, step: str) -> None:
    """Run one build step with its output appended to `log`."""
    with log.open("a") as out:
        out.write(f"\n$ {shlex.join(cmd)}\n")
        out.flush()
        done = subprocess.run(cmd, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, env=clean_env())
    if done.returncode != 0:
        raise ProvisionError(
            f"{step} failed (exit {done.returncode}); read the end of {str(log)!r}"
        )


def probe_installed(python: Path, log: Path) -> object:
    """Py_GIL_DISABLED of the installed interpreter, after checking ssl/zlib/hashlib import."""
    if not python.is_file():
        raise ProvisionError(f"make install left no {str(python)!r}; read {str(log)!r}")
    done = subprocess.run(
        [str(python), "-I", "-c", PROBE], capture_output=True, text=True, env=clean_env()
    )
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise ProvisionError(
            f"{str(python)!r} cannot import ssl, zlib and hashlib ({last}); install "
            f"{' '.join(HEADERS.values())} and delete {str(python.parent.parent)!r} to rebuild"
        )
    return json.loads(done.stdout)


def clean_env() -> dict[str, str]:
    """The environment without PYTHON* variables, which would leak into ensurepip and probes."""
    return {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}


def compiler_command() -> list[str] | None:
    """The compiler configure will pick: $CC, else gcc, else cc."""
    if os.environ.get("CC"):
        return shlex.split(os.environ["CC"])
    found = shutil.which("gcc") or shutil.which("cc")
    return [found] if found else None


def probe_compiler_version() -> str:
    cc = compiler_command()
    if cc is None:
        return "unknown"
    done = subprocess.run([*cc, "--version"], capture_output=True, text=True)
    return (done.stdout.splitlines() or ["unknown"])[0]


def header_found(cc: list[str], header: str) -> bool:
    """Ask the compiler's own include search whether `header` exists."""
    done = subprocess.run(
        [*cc, "-E", "-x", "c", "-"],
        input=f"#include <{header}>\n",
        capture_output=True,
        text=True,
    )
    return done.returncode == 0


def missing_build_deps() -> list[tuple[str, str]]:
    """(what is missing, Debian package that provides it) for each missing build dependency."""
    missing: list[tuple[str, str]] = []
    cc = compiler_command()
    if cc is None or shutil.which(cc[0]) is None:
        missing.append(("a C compiler (gcc or cc)", "gcc"))
    elif headers := [(h, pkg) for h, pkg in HEADERS.items() if not header_found(cc, h)]:
        missing += headers
    if shutil.which("make") is None:
        missing.append(("make", "make"))
    return missing


def ensure_build_deps(install: bool, progress: Callable[[str], None]) -> None:
    """With ``install``, apt-get install what the builds need (system.CPYTHON_BUILD_PACKAGES)
    where apt is; then refuse, naming the packages, if anything is still missing."""
    if install and shutil.which("apt-get") and shutil.which("dpkg-query"):
        try:
            system.ensure_packages(system.CPYTHON_BUILD_PACKAGES, say=progress, allow=True)
        except system.SystemPackagesError as exc:  # the check below names what is missing
            progress(f"CPython's build dependencies could not be installed: {exc}")
    require_build_deps()


def require_build_deps() -> None:
    missing = missing_build_deps()
    if missing:
        raise ProvisionError(
            f"missing build dependencies: {', '.join(what for what, _ in missing)}; install them "
            f"with: sudo apt-get install {' '.join(dict.fromkeys(pkg for _, pkg in missing))}"
        )
