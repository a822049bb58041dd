"""valgrind, which counts instructions (run/counts.py): Debian's package, installed as PyPy is.

apt installs it as root or when the user allows it (``--install-system-packages``);
otherwise its absence is one line that says what to run, and nothing is counted.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from harness.provision import system

VALGRIND_PACKAGES = ("valgrind",)
HINT = "sudo apt-get install -y valgrind (or pass --install-system-packages)"
VERSION_TIMEOUT_S = 30.0  # `valgrind --version` answers in milliseconds; a hung one is broken


@dataclass(frozen=True)
class Valgrind:
    """The valgrind that counts, with the version every count records; or why there is none."""

    path: Path | None
    version: str = ""  # as ``valgrind --version`` prints it: valgrind-3.19.0
    unavailable: str = ""  # why nothing can be counted here, with what to do; empty if it can

    @property
    def available(self) -> bool:
        return self.path is not None and not self.unavailable


def probe_valgrind(install: bool | None = None, say: Callable[[str], None] = print) -> Valgrind:
    """valgrind on PATH; on Debian apt-installed when ``install`` allows it (None: as root).

    Never raises: a valgrind that is missing, can't be installed or doesn't start comes
    back unavailable, its reason one line ending in what to run.
    """
    allowed = os.geteuid() == 0 if install is None else install
    found = shutil.which("valgrind")
    if found is None and allowed:
        try:
            system.ensure_packages(VALGRIND_PACKAGES, say=say, allow=True)
        except system.SystemPackagesError as exc:
            return Valgrind(None, unavailable=f"valgrind could not be installed: {exc}")
        found = shutil.which("valgrind")
    if found is None:
        return Valgrind(None, unavailable=f"valgrind is not installed; run: {HINT}")
    try:
        done = subprocess.run([found, "--version"], capture_output=True, text=True,
                              timeout=VERSION_TIMEOUT_S, check=False)  # fmt: skip
    except (OSError, subprocess.TimeoutExpired) as exc:
        return Valgrind(None, unavailable=f"{found} does not start ({exc}); reinstall it: {HINT}")
    version = done.stdout.strip()
    if done.returncode != 0 or not version.startswith("valgrind"):
        said = (done.stderr.strip().splitlines() or [version or "no output"])[-1]
        return Valgrind(None, unavailable=f"'{found} --version' failed ({said}); "
                        f"reinstall it: {HINT}")  # fmt: skip
    return Valgrind(Path(found), version)


def installed_version() -> str:
    """The version of the valgrind on PATH (``valgrind-3.19.0``), "" if there is none that
    answers: what a run's machine record says counted its instructions. Installs nothing."""
    found = shutil.which("valgrind")
    if found is None:
        return ""
    try:
        done = subprocess.run([found, "--version"], capture_output=True, text=True,
                              timeout=VERSION_TIMEOUT_S, check=False)  # fmt: skip
    except (OSError, subprocess.TimeoutExpired):
        return ""
    version = done.stdout.strip()
    return version if done.returncode == 0 and version.startswith("valgrind") else ""
