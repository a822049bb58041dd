"""The nox front door: every session listed with its one-line description."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import DATA

ROOT = Path(__file__).resolve().parent.parent


def test_nox_lists_every_session_with_a_description() -> None:
    """`nox -l` shows compare, report, tests, lint, impls, list, cpus and bench-<impl> sessions."""
    nox = shutil.which("nox", path=str(Path(sys.executable).parent)) or shutil.which("nox")
    assert nox, "nox is a test dependency (pyproject [test] extra)"
    done = subprocess.run([nox, "-l", "--no-color"], cwd=ROOT, capture_output=True, text=True,
                          timeout=120, check=True)  # fmt: skip
    listed = [line for line in done.stdout.splitlines() if line[:2] in ("* ", "- ")]
    assert "\n".join(listed) + "\n" == (DATA / "golden" / "nox-l.txt").read_text()
