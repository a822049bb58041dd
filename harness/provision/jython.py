"""Jython from Maven Central, when Debian's package is older or missing.

Debian 12 ships Jython 2.7.3; Maven Central has org.python:jython-standalone 2.7.4, one
jar that ``java -jar`` runs. It is resolved into gilbench's cache and its checksum checked
(maven.py) when a ``java`` and ``mvn`` are on PATH and the ``jython`` there is missing or
Debian's older package; a Jython of another origin on PATH, or ``--jython-jar``, is used as
it is. Which one was used, and why, is in the row's provenance.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from harness.provision import maven
from harness.provision.cpython import cache_dir

VERSION = "2.7.4"
ARTIFACT = ("org.python", "jython-standalone", VERSION, "jar")
PROVENANCE = "gilbench-provenance.json"


def version_key(text: str) -> tuple[int, ...]:
    """(2, 7, 3) for "2.7.3+repack1-1": the upstream version a Debian version starts with."""
    match = re.match(r"(?:\d+:)?(\d+(?:\.\d+)*)", text)
    return tuple(int(part) for part in match[1].split(".")) if match else ()


def debian_version() -> str:
    """The version of Debian's installed jython package, or "" if it isn't installed."""
    if shutil.which("dpkg-query") is None:
        return ""
    done = subprocess.run(["dpkg-query", "-W", "-f=${Status} ${Version}", "jython"],
                          capture_output=True, text=True, check=False)  # fmt: skip
    status, _, version = done.stdout.rpartition(" ")
    return version if done.returncode == 0 and status.endswith("installed") else ""


def wanted(on_path: str | None) -> str:
    """Why Maven's Jython is to be used here, or "" when it isn't (or can't be): the
    ``jython`` on PATH is missing, or is Debian's package (under /usr) at an older version."""
    if shutil.which("java") is None or shutil.which("mvn") is None:
        return ""
    if on_path is None:
        return "no jython is installed"
    debian = debian_version() if str(Path(on_path).resolve()).startswith("/usr/") else ""
    if debian and version_key(debian) < version_key(VERSION):
        return f"Debian's jython {debian} is older"
    return ""


def provision(say: Callable[[str], None]) -> tuple[Path, dict[str, object]]:
    """The jar (from the cache, else Maven) and what its provenance says."""
    root = cache_dir() / "jython" / VERSION
    try:
        record = json.loads((root / PROVENANCE).read_text())
        jar = Path(str(record["jar"]))
        if jar.is_file():
            return jar, record
    except (OSError, ValueError, KeyError):
        pass
    started = time.monotonic()
    say(f"provisioning Jython {VERSION} from Maven into {root}")
    jars = maven.resolve(root, "jython", [ARTIFACT])
    checked = maven.verify(jars)
    (jar,) = [j for j in jars if j.name.startswith(f"{ARTIFACT[1]}-{VERSION}")]
    seconds = round(time.monotonic() - started, 1)
    record = {"source": f"Maven: {':'.join(ARTIFACT[:3])}", "jar": str(jar),
              "verified": f"sha1 of {jar.name} matches the checksum Maven published",
              "artifacts": checked, "provision_seconds": seconds}  # fmt: skip
    part = root / (PROVENANCE + ".part")
    part.write_text(json.dumps(record, indent=2, sort_keys=True) + "\n")
    part.replace(root / PROVENANCE)
    say(f"provisioned Jython {VERSION} in {seconds:.0f} s: {jar.name} verified")
    return jar, record
