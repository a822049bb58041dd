"""Jars from Maven Central (or the mirror Maven's settings name), checked twice.

Maven resolves the artifacts and their dependencies into a local repository of gilbench's
cache with strict checksums (``-C``); each jar is then hashed again here against the
``.sha1`` published beside it, which Maven keeps. GraalPy (graalpy.py) and Jython
(jython.py) come this way.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
from collections.abc import Sequence
from pathlib import Path

Artifact = tuple[str, str, str, str]  # group, artifact, version, type ("jar" or "pom")


class MavenError(Exception):
    """Maven could not give what was asked for; the message says what and why."""


def _pom(name: str, artifacts: Sequence[Artifact]) -> str:
    deps = "".join(
        f"<dependency><groupId>{g}</groupId><artifactId>{a}</artifactId><version>{v}"
        f"</version>{f'<type>{t}</type>' if t != 'jar' else ''}</dependency>"
        for g, a, v, t in artifacts
    )
    return ('<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0'
            f"</modelVersion><groupId>gilbench</groupId><artifactId>{name}-jars</artifactId>"
            f"<version>1</version><packaging>pom</packaging><dependencies>{deps}"
            "</dependencies></project>\n")  # fmt: skip


def resolve(root: Path, name: str, artifacts: Sequence[Artifact]) -> list[Path]:
    """The jars of ``artifacts`` and their dependencies, resolved by Maven with strict
    checksums into ``root/m2``; the mirror is whatever Maven's settings name."""
    folder = root / name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "pom.xml").write_text(_pom(name, artifacts))
    listing = folder / "classpath.txt"
    cmd = ["mvn", "-B", "-q", "-C", f"-Dmaven.repo.local={root / 'm2'}",
           "dependency:build-classpath", f"-Dmdep.outputFile={listing}"]  # fmt: skip
    try:
        done = subprocess.run(cmd, cwd=folder, capture_output=True, text=True, timeout=1800,
                              check=False)  # fmt: skip
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise MavenError(f"mvn could not run ({exc})") from None
    if done.returncode != 0:
        said = [line for line in done.stdout.splitlines() if "ERROR" in line][:1]
        asked = ", ".join(":".join(a[:3]) for a in artifacts)
        why = " ".join(said[0].split())[:300] if said else f"exit {done.returncode}"
        raise MavenError(f"Maven could not resolve {asked} ({why})")
    paths = [Path(p) for p in listing.read_text().strip().split(os.pathsep) if p]
    return [p for p in paths if p.suffix == ".jar"]  # a pom dependency brings only its own


def verify(jars: Sequence[Path]) -> dict[str, str]:
    """Each jar's sha1, checked against the .sha1 Maven Central published for it."""
    checked = {}
    for jar in jars:
        published = jar.with_name(jar.name + ".sha1")
        try:
            expected = published.read_text().split()[0].lower()
        except (OSError, IndexError):
            raise MavenError(f"{jar} has no published checksum beside it ({published}); "
                             f"delete {jar.parent} and provision again") from None  # fmt: skip
        actual = hashlib.sha1(jar.read_bytes()).hexdigest()  # Maven's own checksum
        if actual != expected:
            raise MavenError(f"{jar} has sha1 {actual}, not the {expected} published for it; "
                             f"delete {jar} and provision again")  # fmt: skip
        checked[jar.name] = actual
    return checked
