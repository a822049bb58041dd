"""The nox front door: every session listed with its one-line description."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from harness.provision import impls
from tests.helpers import DATA

ROOT = Path(__file__).resolve().parent.parent


def test_nox_lists_every_session_with_a_description(tmp_path: Path) -> None:
    """`nox -l` shows compare, report, tests, lint, impls, list, cpus and bench-<impl> sessions,
    named after the newest pinned CPython series whatever builds the cache holds."""
    nox = shutil.which("nox", path=str(Path(sys.executable).parent)) or shutil.which("nox")
    assert nox, "nox is a test dependency (pyproject [test] extra)"
    env = {**os.environ, "GILBENCH_CACHE": str(tmp_path / "empty-cache")}
    done = subprocess.run([nox, "-l", "--no-color"], cwd=ROOT, capture_output=True, text=True,
                          timeout=120, check=True, env=env)  # fmt: skip
    listed = [line for line in done.stdout.splitlines() if line[:2] in ("* ", "- ")]
    assert f"- bench-{impls.DEFAULT_SERIES}t+gil -> " in "\n".join(listed)
    assert "\n".join(listed) + "\n" == (DATA / "golden" / "nox-l.txt").read_text()
