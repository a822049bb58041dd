"""Sized workloads' sizes: parsed from the command line and the workload files, named, swept.

A sized workload (one that declares ``make_input``: inside/gbpayload.py) is measured once
per size, as a variant named ``<workload>@<size>``: ``payload_bytes@64KiB``,
``task_size@100us``. The variant is a workload of its own in every table (its cells, its
speedups against its own serial cell), and its size is recorded with it. Two kinds:

- ``payload``: bytes in and out of each unit (``PAYLOADS``, ``--payload 0,1KiB,64KiB``);
- ``task size``: seconds of work in each task (``TASK_SIZES``, ``--task-size 10us,1ms``).
"""

from __future__ import annotations

import math
import re
from typing import Literal

Sweep = Literal["payload", "task size"]
PAYLOAD: Sweep = "payload"
TASK_SIZE: Sweep = "task size"
# What a workload file declares its sizes with, and the flag that sweeps others.
DECLARATION: dict[str, str] = {PAYLOAD: "PAYLOADS", TASK_SIZE: "TASK_SIZES"}
FLAG: dict[str, str] = {PAYLOAD: "--payload", TASK_SIZE: "--task-size"}
EXAMPLE: dict[str, str] = {PAYLOAD: "0,1KiB,64KiB,1MiB", TASK_SIZE: "10us,100us,1ms,10ms"}
BYTES = {"": 1, "b": 1, "kib": 2**10, "mib": 2**20, "gib": 2**30}
SECONDS = {"us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0}
# Each of W workers holds an argument and an output of the size, and the pipes and shared
# blocks as much again: 256 MiB is already a gigabyte or more on 2 workers.
MAX_PAYLOAD = 256 * 2**20
MAX_TASK_S = 10.0  # a task of more than 10 s is no small task; units that long cost minutes


class SizeError(ValueError):
    """A size that can't be read; the message is the one line a user sees."""


def parse_sizes(text: str, sweep: str) -> tuple[float, ...]:
    """``0,1KiB,64KiB`` -> (0, 1024, 65536) bytes; ``10us,1ms`` -> (1e-05, 0.001) seconds.

    Sorted, without repeats. A bad one raises SizeError saying what the flag takes."""
    parts = [p for p in text.replace(",", " ").split() if p]
    if not parts:
        raise SizeError(_wanted(sweep, text))
    return tuple(sorted({parse_size(part, sweep) for part in parts}))


def parse_size(text: str, sweep: str) -> float:
    """One size: bytes (a whole number, or with B, KiB, MiB, GiB) or seconds (with us,
    ms or s, above 0)."""
    found = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([a-zA-Zµ]*)", text.strip())
    units = BYTES if sweep == PAYLOAD else SECONDS
    if found is None or found[2].lower() not in units:
        raise SizeError(_wanted(sweep, text))
    value = float(f"{float(found[1]) * units[found[2].lower()]:.12g}")  # 1e-05, not 9.99e-06
    if sweep == PAYLOAD:
        if value != int(value) or value > MAX_PAYLOAD:
            raise SizeError(f"{FLAG[sweep]} takes whole numbers of bytes up to 256MiB, "
                            f"like {EXAMPLE[sweep]}, not {text!r}")  # fmt: skip
        return int(value)
    if not 0 < value <= MAX_TASK_S:
        raise SizeError(f"{FLAG[sweep]} takes durations above 0 and up to 10s, like "
                        f"{EXAMPLE[sweep]}, not {text!r}")  # fmt: skip
    return value


def _wanted(sweep: str, text: str) -> str:
    if sweep == PAYLOAD:
        return (f"--payload takes sizes in bytes, KiB or MiB, comma-separated, like "
                f"{EXAMPLE[sweep]}, not {text!r}")  # fmt: skip
    return (f"--task-size takes durations in us, ms or s, comma-separated, like "
            f"{EXAMPLE[sweep]}, not {text!r}")  # fmt: skip


def format_size(size: float, sweep: str) -> str:
    """A size as a variant's name carries it: ``0B``, ``1KiB``, ``1536B``; ``10us``, ``1ms``."""
    if sweep == PAYLOAD:
        count = int(size)
        for unit, scale in (("MiB", 2**20), ("KiB", 2**10)):
            if count and count % scale == 0:
                return f"{count // scale}{unit}"
        return f"{count}B"
    for unit, seconds in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6)):
        amount = size / seconds
        if amount >= 1 and math.isclose(amount, round(amount), rel_tol=1e-9):
            return f"{round(amount)}{unit}"
    return f"{size * 1e6:g}us"


def variant_name(base: str, size: float, sweep: str) -> str:
    return f"{base}@{format_size(size, sweep)}"


def base_name(name: str) -> str:
    """``payload_bytes@64KiB`` -> ``payload_bytes``; any other name is its own."""
    return name.split("@", 1)[0]


def size_of(name: str) -> tuple[str, float] | None:
    """``payload_bytes@64KiB`` -> ("payload", 65536); ``task_size@1ms`` -> ("task size",
    0.001); None for a name that carries no size. The units tell the kinds apart."""
    _, at, label = name.partition("@")
    if not at:
        return None
    for sweep in (PAYLOAD, TASK_SIZE):
        try:
            return sweep, parse_size(label, sweep)
        except SizeError:
            continue
    return None
