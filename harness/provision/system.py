"""Debian/Ubuntu packages gilbench needs from the system, installed with apt when allowed.

apt is used only as root (CI, containers) or when the user asks; otherwise the error gives
the exact command to run. The mirror is whatever apt is configured with.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Sequence

# What the test suite needs beyond Python packages, and why.
TEST_PACKAGES = (
    "chromium",  # the browser test drives Debian's headless Chromium (never a downloaded one)
    "pypy3",  # PyPy rows and the every-implementation workload tests
    "pypy3-dev",  # psutil (a pyperf dependency) compiles on PyPy only with these headers
    "pypy3-venv",
    "jython",  # Debian's Jython 2.7.3 (and the JRE): the workload tests; rows take Maven's 2.7.4
    "shellcheck",  # actionlint checks the workflow's run: scripts with it
    "maven",  # GraalPy's jars come from Maven Central (on a JDK 25, which apt doesn't have)
    "valgrind",  # instruction counts (run/counts.py) run the interpreters under cachegrind
)

# What CPython's configure and make need for the modules gilbench's builds are checked for
# and the standard library's usual ones (Debian's and Ubuntu's names alike): without their
# headers configure still succeeds and the modules silently go missing. Tk (GUI, dozens of
# X11 packages) and gdbm are left out: no workload imports them, and the machines gilbench
# is built on lack them too, so builds here and on CI have the same modules.
CPYTHON_BUILD_PACKAGES = (
    "gcc",
    "make",
    "pkg-config",  # configure finds libffi and OpenSSL through it
    "libffi-dev",  # ctypes
    "libssl-dev",  # ssl, hashlib's OpenSSL digests
    "zlib1g-dev",  # zlib, and so ensurepip
    "libbz2-dev",  # bz2
    "liblzma-dev",  # lzma
    "libreadline-dev",  # readline
    "libncurses-dev",  # curses
    "libsqlite3-dev",  # sqlite3
    "uuid-dev",  # _uuid
)


class SystemPackagesError(Exception):
    """Packages are missing and can't be installed from here."""


def missing_packages(names: Sequence[str]) -> list[str]:
    """The packages among ``names`` that dpkg doesn't list as installed."""
    if shutil.which("dpkg-query") is None:
        return list(names)
    missing = []
    for name in names:
        done = subprocess.run(
            ["dpkg-query", "-W", "-f=${Status}", name],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        if done.returncode != 0 or "install ok installed" not in done.stdout:
            missing.append(name)
    return missing


def ensure_packages(
    names: Sequence[str], say: Callable[[str], None] = print, allow: bool | None = None
) -> None:
    """Install the missing ones with apt-get; raise with the command if that can't be done."""
    missing = missing_packages(names)
    if not missing:
        return
    command = "apt-get install -y " + " ".join(missing)
    allowed = (os.geteuid() == 0) if allow is None else allow
    if not allowed or shutil.which("apt-get") is None:
        raise SystemPackagesError(f"missing system packages {missing!r}; run: sudo {command}")
    # Not root but allowed (--install-system-packages, a CI runner): through sudo, which
    # must not ask for a password (-n); GitHub's runners allow it.
    sudo = [] if os.geteuid() == 0 else ["sudo", "-n", "--preserve-env=DEBIAN_FRONTEND"]
    if sudo and shutil.which("sudo") is None:
        raise SystemPackagesError(f"missing system packages {missing!r}; run as root: {command}")
    say(f"installing {' '.join(missing)} with apt-get")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    # A fresh machine has no package lists yet: update once, then install.
    for step in (["apt-get", "update", "-q"], ["apt-get", "install", "-y", "-q", *missing]):
        done = subprocess.run([*sudo, *step], env=env, capture_output=True, text=True,
                              check=False)  # fmt: skip
        if done.returncode != 0:
            last = (done.stderr.strip().splitlines() or ["no output"])[-1]
            raise SystemPackagesError(f"'{' '.join(step)}' failed ({last}); run: sudo {command}")
