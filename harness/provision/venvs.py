"""A virtualenv with pyperf for each measured interpreter, kept in the per-user cache."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from pathlib import Path

from harness.provision.cpython import cache_dir
from harness.provision.impls import Impl

# The one pyperf every implementation is measured with; results.py relies on its schema.
PYPERF_REQUIREMENT = "pyperf==2.10.0"
READY_MARKER = "gilbench-ready"


class VenvError(Exception):
    """A virtualenv for an implementation could not be made."""


def venv_dir(impl: Impl) -> Path:
    """Where ``impl``'s virtualenv lives; it changes whenever the interpreter does."""
    assert impl.python is not None
    stamp = f"{impl.python}|{impl.provenance.get('build_date', '')}|{PYPERF_REQUIREMENT}"
    key = hashlib.sha256(stamp.encode()).hexdigest()[:12]
    return cache_dir() / "venvs" / f"{impl.family}-{key}"


def ensure_venv(impl: Impl) -> Path:
    """Return the python of ``impl``'s virtualenv, making it and installing pyperf if needed."""
    if impl.python is None:
        raise VenvError(f"{impl.id!r} has no interpreter: {impl.unavailable}")
    where = venv_dir(impl)
    python = where / "bin" / "python"
    if (where / READY_MARKER).exists() and python.exists():
        return python
    shutil.rmtree(where, ignore_errors=True)
    where.parent.mkdir(parents=True, exist_ok=True)
    log = where.parent / f"{where.name}.log"
    steps = (
        [str(impl.python), "-m", "venv", str(where)],
        [str(python), "-m", "pip", "install", "--quiet", PYPERF_REQUIREMENT],
    )
    with log.open("w") as out:
        for cmd in steps:
            done = subprocess.run(cmd, stdout=out, stderr=subprocess.STDOUT, check=False)
            if done.returncode != 0:
                raise VenvError(
                    f"could not prepare a virtualenv for {impl.id!r} "
                    f"({' '.join(cmd[-2:])!r} failed); see {log}"
                )
    (where / READY_MARKER).write_text(PYPERF_REQUIREMENT + "\n")
    return python
