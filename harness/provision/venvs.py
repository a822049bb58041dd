"""A virtualenv with pyperf for each measured interpreter, kept in the per-user cache."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from collections.abc import Callable
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


def ensure_venv(impl: Impl, say: Callable[[str], None] = print) -> Path:
    """Return the python of ``impl``'s virtualenv, making it and installing pyperf if needed;
    one that was deleted or damaged since is made again, and ``say`` says so."""
    if impl.python is None:
        raise VenvError(f"{impl.id!r} has no interpreter: {impl.unavailable}")
    where = venv_dir(impl)
    python = where / "bin" / "python"
    why = damage(where, python)
    if not why:
        return python
    if why != "new":
        say(f"the virtualenv for {impl.id} in {where} {why}: making it again")
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


def damage(where: Path, python: Path) -> str:
    """What is wrong with a virtualenv ("new": there is none yet), or empty: it is ready,
    starts, and imports the pyperf it was made with."""
    log = where.parent / f"{where.name}.log"
    if not where.exists() and not log.exists():
        return "new"
    if not where.exists():
        return "was deleted"
    if not (where / READY_MARKER).exists() or not python.exists():
        return "is incomplete"
    check = "import pyperf, sys; sys.stdout.write(pyperf.__version__)"
    try:
        done = subprocess.run([str(python), "-c", check], capture_output=True, text=True,
                              timeout=60, check=False)  # fmt: skip
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"does not start ({exc})"
    if done.returncode != 0 or f"pyperf=={done.stdout}" != PYPERF_REQUIREMENT:
        return "is damaged (its pyperf doesn't import as " + PYPERF_REQUIREMENT + ")"
    return ""
