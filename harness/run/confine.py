"""Keep a misbehaving benchmark from hurting the machine or the run.

Every runner process tree gets, as soon as it starts:

- a data limit (RLIMIT_DATA: private writable memory, which a JVM's or mimalloc's mere
  address-space reservations don't count against) of half the machine's memory per
  process, so a kernel that allocates without end gets MemoryError, not the OOM killer;
- a file-size limit (RLIMIT_FSIZE) of LOG_LIMIT: a kernel that floods its output is
  killed by SIGXFSZ once its log reaches it, before it fills the disk.

After the tree's leader exits, any process left in its group (a fork that outlived the
benchmark) is killed and the benchmark counts as crashed.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from pathlib import Path

MEMORY_SHARE = 0.5  # of the machine's memory, per process of a benchmark
LOG_LIMIT = 64 * 2**20  # bytes a benchmark may write to any one file (its log, its piece)
GRACE_S = 2.0  # what a benchmark's helper processes get to leave after it ended


def memory_limit() -> int:
    """Bytes of private writable memory each process of a benchmark may have."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return -1
    return int(total * MEMORY_SHARE)


def confine(pid: int) -> None:
    """Set the limits on a runner that has just started (and so on all it starts)."""
    try:
        import resource
    except ImportError:  # not a POSIX host: nothing to set
        return
    memory = memory_limit()
    for which, cap in ((resource.RLIMIT_DATA, memory), (resource.RLIMIT_FSIZE, LOG_LIMIT)):
        if cap <= 0:
            continue
        try:
            resource.prlimit(pid, which, (cap, cap))
        except (OSError, ValueError):  # gone already, or not allowed: it runs unconfined
            continue


def _live(proc: Path) -> list[tuple[Path, int, int]]:
    """(folder, process group, session) of each live (not zombie) process in ``proc``."""
    found = []
    for stat in proc.glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if len(fields) > 3 and fields[0] != "Z":
            found.append((stat.parent, int(fields[2]), int(fields[3])))
    return found


def leftovers(group: int, proc: Path = Path("/proc")) -> list[int]:
    """The live (not zombie) processes still in process group ``group``."""
    return [int(folder.name) for folder, pgrp, _ in _live(proc) if pgrp == group]


def groups_naming(marker: bytes, proc: Path = Path("/proc")) -> set[int]:
    """The process groups of the live processes whose command line holds ``marker``, in
    sessions of their own, as every benchmark runs (not a shell's job, such as a ``tail``
    of one of its files)."""
    groups = set()
    for folder, pgrp, session in _live(proc):
        if pgrp != session:
            continue
        try:
            if marker in (folder / "cmdline").read_bytes():
                groups.add(pgrp)
        except OSError:
            continue
    return groups


def kill_leftovers(group: int, grace_s: float = GRACE_S) -> int:
    """Kill what is left of the group after ``grace_s``; how many processes were left.

    multiprocessing's resource tracker and forkserver leave once the pipe to their parent
    closes, a few milliseconds after it exited: the grace lets them go on their own.
    """
    deadline = time.monotonic() + grace_s
    left = leftovers(group)
    while left and time.monotonic() < deadline:
        time.sleep(0.05)
        left = leftovers(group)
    if left:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(group, signal.SIGKILL)
    return len(left)


def signal_name(returncode: int) -> str:
    """``SIGSEGV`` for -11; "" for an exit status."""
    try:
        return signal.Signals(-returncode).name if returncode < 0 else ""
    except ValueError:
        return f"signal {-returncode}"
