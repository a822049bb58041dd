"""Find a verified CPython source tarball: the user's, the cache's, python.org's or Debian's.

Debian's archive ships CPython's upstream tarball unchanged as `pythonX.Y_X.Y.Z.orig.tar.xz`,
so it is a second source for the same bytes when python.org can't be reached. The mirror is
read from the machine's apt configuration at run time; none is written here.
"""

from __future__ import annotations

import hashlib
import http.client
import lzma
import os
import re
import shutil
import tarfile
import tempfile
import urllib.request
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

# sha256 of Python-X.Y.Z.tar.xz. Each was checked against python.org's published hash, the
# pins in pyenv's build definitions and the official Docker images, and the byte-identical
# `.orig.tar.xz` in Debian's archive (shared/NOTES.md, "CPython with and without the GIL").
PINS: dict[str, str] = {
    "3.13.5": "93e583f243454e6e9e4588ca2c2662206ad961659863277afcdb96801647d640",
    "3.13.12": "2a84cd31dd8d8ea8aaff75de66fc1b4b0127dd5799aa50a64ae9a313885b4593",
    "3.13.15": "1e66a7945a48390ee4c2a4268a0e4185884059a13c4aab6d148aa208deea4a76",
    "3.14.4": "d923c51303e38e249136fc1bdf3568d56ecb03214efdef48516176d3d7faaef8",
    "3.14.5": "7e32597b99e5d9a39abed35de4693fa169df3e5850d4c334337ffd6a19a36db6",
    "3.14.6": "143b1dddefaec3bd2e21e3b839b34a2b7fb9842272883c576420d605e9f30c63",
    "3.14.7": "3b48dac8fb59f62eaa67ac83c1eb12bda1b7a08406dd286e252c11a66be27f81",
}

PYTHON_ORG_URL = "https://www.python.org/ftp/python/{v}/Python-{v}.tar.xz"
DEBIAN_POOL_PATH = "pool/main/p/python{xy}/python{xy}_{v}.orig.tar.xz"
APT_DIR = Path("/etc/apt")
# Seconds per network operation: short, so that an offline machine gives up at once.
FETCH_TIMEOUT = 5.0
# Schemes urllib can fetch; apt's others (cdrom:, mirror+file:, tor+http:) are skipped.
FETCHABLE_SCHEMES = ("http://", "https://", "ftp://", "file://")
VERSION_RE = re.compile(r"^(\d+)\.(\d+)\.(\d+)(?:(?:a|b|rc)\d+)?$")

Fetcher = Callable[[str, Path], None]


class ProvisionError(Exception):
    """One-line, user-facing message saying what went wrong and what to do."""


class SourceUnavailable(ProvisionError):
    """No source for this version could be fetched; the caller may try another version."""


@dataclass(frozen=True)
class Source:
    version: str
    path: Path  # a tarball, or an unpacked source directory
    origin: str  # URL or path it came from
    sha256: str | None  # None for a directory, which can't be hashed
    verified: bool = True  # False: a tarball matching no pin, built as asked (unverified)


def parse_version(version: str) -> tuple[int, int, int]:
    match = VERSION_RE.match(version)
    if match is None:
        raise ProvisionError(f"not a CPython version: {version!r}; write it as X.Y.Z, e.g. 3.14.7")
    return int(match[1]), int(match[2]), int(match[3])


def pinned_versions() -> list[str]:
    """Pinned stable versions, newest first."""
    stable = [
        v for v in PINS if re.fullmatch(r"\d+\.\d+\.\d+", v) and parse_version(v) >= (3, 13, 0)
    ]
    return sorted(stable, key=parse_version, reverse=True)


def require_pinned(version: str) -> None:
    if version not in PINS:
        raise ProvisionError(
            f"unknown CPython version {version!r}: pinned versions are "
            f"{', '.join(pinned_versions())}; pick one, or pass --cpython-source PATH to a "
            f"Python-{version}.tar.xz"
        )


def parse_deb822_uris(text: str) -> list[str]:
    """URIs of the enabled stanzas of a deb822 `.sources` file."""
    uris: list[str] = []
    for stanza in re.split(r"\n\s*\n", text):
        fields: dict[str, str] = {}
        key = ""
        for line in stanza.splitlines():
            if line.startswith("#") or not line.strip():
                continue
            if line[0] in " \t" and key:  # a continuation line of a multi-line field
                fields[key] += " " + line.strip()
            elif ":" in line:
                key, _, value = line.partition(":")
                key = key.strip().lower()
                fields[key] = value.strip()
        if fields.get("enabled", "yes").lower() == "no":
            continue
        uris += fields.get("uris", "").split()
    return uris


def parse_one_line_uris(text: str) -> list[str]:
    """URIs of the `deb`/`deb-src` lines of a one-line-style `sources.list`."""
    uris: list[str] = []
    for line in text.splitlines():
        line = re.sub(r"\[[^\]]*\]", " ", line.split("#", 1)[0])  # drop comments, [options]
        words = line.split()
        if len(words) >= 2 and words[0] in ("deb", "deb-src"):
            uris.append(words[1])
    return uris


def load_mirror_uris(apt_dir: Path | None = None) -> list[str]:
    """Archive URIs from the apt configuration, in file order, without duplicates."""
    apt_dir = APT_DIR if apt_dir is None else apt_dir
    found: list[str] = []
    one_line = [apt_dir / "sources.list", *sorted((apt_dir / "sources.list.d").glob("*.list"))]
    for path in one_line:
        if path.is_file():
            found += parse_one_line_uris(path.read_text(errors="replace"))
    for path in sorted((apt_dir / "sources.list.d").glob("*.sources")):
        found += parse_deb822_uris(path.read_text(errors="replace"))
    uris = [u.rstrip("/") for u in found if u.startswith(FETCHABLE_SCHEMES)]
    return list(dict.fromkeys(uris))


def source_urls(version: str, apt_dir: Path | None = None) -> list[str]:
    """python.org first, then each apt mirror's copy of the same upstream tarball."""
    major, minor, _ = parse_version(version)
    pool = DEBIAN_POOL_PATH.format(xy=f"{major}.{minor}", v=version)
    return [PYTHON_ORG_URL.format(v=version)] + [f"{m}/{pool}" for m in load_mirror_uris(apt_dir)]


def download(url: str, dest: Path) -> None:
    with urllib.request.urlopen(url, timeout=FETCH_TIMEOUT) as response, dest.open("wb") as out:
        shutil.copyfileobj(response, out, 1 << 20)


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def read_tree_version(tree: Path) -> str:
    """PY_VERSION of an unpacked source tree, from Include/patchlevel.h."""
    header = tree / "Include" / "patchlevel.h"
    try:
        text = header.read_text(errors="replace")
    except OSError:
        raise ProvisionError(f"{str(tree)!r} has no Include/patchlevel.h: pass the top of a "
                             "CPython source tree, or a Python-X.Y.Z.tar.xz") from None  # fmt: skip
    match = re.search(r'#define\s+PY_VERSION\s+"([^"+]+)', text)
    if match is None:
        raise ProvisionError(
            f"no PY_VERSION in {str(header)!r}; pass the top of a CPython source tree"
        )
    return match[1]


def read_tarball_version(tarball: Path) -> str:
    """PY_VERSION from a tarball's Include/patchlevel.h, read without unpacking the rest;
    only ever called on a tarball that matched a pin or that the user marked unverified."""
    try:
        with tarfile.open(tarball) as tar:
            for member in tar:
                if member.name.endswith("/Include/patchlevel.h"):
                    extracted = tar.extractfile(member)
                    text = extracted.read().decode(errors="replace") if extracted else ""
                    match = re.search(r'#define\s+PY_VERSION\s+"([^"+]+)', text)
                    if match:
                        return match[1]
    except (tarfile.TarError, lzma.LZMAError, EOFError, zlib.error, OSError) as exc:
        raise ProvisionError(f"{str(tarball)!r} is not a readable tarball ({type(exc).__name__}"
                             "); pass a Python-X.Y.Z.tar.xz") from None  # fmt: skip
    raise ProvisionError(
        f"no Include/patchlevel.h in {str(tarball)!r}; pass a CPython source tarball"
    )


def user_source(path: Path, version: str | None, unverified: bool = False) -> Source:
    """The user's tarball or directory. A tarball is hashed before a byte of it is
    decompressed: it must match a pin, unless ``unverified`` (--unverified-source) says to
    build it anyway, marked so in its provenance and the report."""
    path = path.expanduser().resolve()
    if not path.exists():
        raise ProvisionError(
            f"CPython source {str(path)!r} does not exist; "
            "pass a Python-X.Y.Z.tar.xz or an unpacked source directory"
        )
    if path.is_dir():
        found = read_tree_version(path)
        sha256 = None
    else:
        sha256 = sha256_file(path)
        by_hash = [v for v, pin in PINS.items() if pin == sha256]
        if not by_hash and not unverified:
            named = re.fullmatch(r"Python-(\d+\.\d+\.\d+)\.tar\.xz", path.name)
            which = f"the pinned {PINS[named[1]]} of CPython {named[1]}" if named and named[
                1] in PINS else f"any pinned CPython ({', '.join(pinned_versions())})"  # fmt: skip
            raise ProvisionError(
                f"sha256 of {str(path)!r} is {sha256}, not {which}; download a genuine copy, "
                "or add --unverified-source to build it anyway, marked unverified"
            )
        found = by_hash[0] if by_hash else read_tarball_version(path)
        if found in PINS and PINS[found] != sha256:
            raise ProvisionError(
                f"sha256 of {str(path)!r} is {sha256}, not the pinned {PINS[found]} of "
                f"CPython {found}; download a genuine copy of the tarball"
            )
        if not by_hash:
            return _matching(Source(found, path, str(path), sha256, verified=False), version)
    return _matching(Source(found, path, str(path), sha256), version)


def _matching(src: Source, version: str | None) -> Source:
    if version is not None and version != src.version:
        raise ProvisionError(
            f"{str(src.path)!r} holds CPython {src.version}, not {version!r}; "
            "pass a version that matches the source, or none"
        )
    return src


def cached_tarball(version: str, sources_dir: Path) -> Source | None:
    """A tarball fetched earlier, checked again against its pin."""
    path = sources_dir / f"Python-{version}.tar.xz"
    if not path.is_file():
        return None
    origin_file = path.with_name(path.name + ".origin")
    origin = origin_file.read_text().strip() if origin_file.is_file() else str(path)
    return Source(version, path, origin, verify_pin(path, version, origin))


def verify_pin(path: Path, version: str, origin: str) -> str:
    """The sha256 of `path` if it matches the pin; otherwise the file is deleted, never kept."""
    actual = sha256_file(path)
    if actual != PINS[version]:
        path.unlink()
        raise ProvisionError(
            f"sha256 of CPython {version} from {origin!r} is {actual}, not the pinned "
            f"{PINS[version]}; the file was deleted: check the source, or pass "
            "--cpython-source PATH to a genuine copy"
        )
    return actual


def fetch_source(
    version: str | None,
    source: Path | None,
    sources_dir: Path,
    progress: Callable[[str], None],
    fetch: Fetcher | None = None,
    apt_dir: Path | None = None,
    unverified: bool = False,
) -> Source:
    """The verified source of `version`: user's, cached, python.org's, then the mirrors'."""
    if source is not None:
        return user_source(source, version, unverified)
    if version is None:
        raise ProvisionError(
            "no CPython version given; pass one of " + ", ".join(pinned_versions())
        )
    require_pinned(version)
    cached = cached_tarball(version, sources_dir)
    if cached is not None:
        return cached
    fetch = download if fetch is None else fetch
    sources_dir.mkdir(parents=True, exist_ok=True)
    dest = sources_dir / f"Python-{version}.tar.xz"
    tried: list[str] = []
    for url in source_urls(version, apt_dir):
        fd, name = tempfile.mkstemp(dir=sources_dir, prefix=dest.name, suffix=".part")
        os.close(fd)
        part = Path(name)
        try:
            progress(f"fetching {url}")
            fetch(url, part)
        except (OSError, http.client.HTTPException, ValueError) as exc:
            part.unlink(missing_ok=True)
            tried.append(f"{url} ({exc})")
            continue
        sha256 = verify_pin(part, version, url)
        dest.with_name(dest.name + ".origin").write_text(url + "\n")
        part.replace(dest)  # last, so that a tarball in the cache is always complete
        return Source(version, dest, url, sha256)
    raise SourceUnavailable(
        f"could not fetch CPython {version} from {'; '.join(tried) or 'anywhere'}; "
        f"pass --cpython-source PATH to a Python-{version}.tar.xz"
    )
