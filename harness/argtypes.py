"""The value types of gilbench's flags: each turns text into a value, or raises argparse's
ArgumentTypeError with one line that says what the flag takes."""

from __future__ import annotations

import argparse
import math
import re

from harness.run import sizes


def share(text: str, flag: str, example: str) -> float:
    """``5%`` or ``0.05`` -> 0.05, above 0 and below 1; else one line saying so."""
    share = text.strip()
    try:
        value = float(share[:-1]) / 100 if share.endswith("%") else float(share)
    except ValueError:
        value = math.nan
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(
            f"{flag} takes a share like {float(example[:-1]) / 100:g} or {example}, above 0 "
            f"and below 1, not {text!r}"
        )
    return value


def precision(text: str) -> float:
    return share(text, "--precision", "2%")


def margin(text: str) -> float:
    return share(text, "--margin", "5%")


UNITS = {"h": 3600.0, "m": 60.0, "s": 1.0}


def parse_duration(text: str) -> float:
    """``90m``, ``2h``, ``1h30m``, ``45s`` -> seconds; a bare number is refused (which unit?)."""
    parts = re.fullmatch(r"(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m)?(?:(\d+(?:\.\d+)?)s)?",
                         text.strip())  # fmt: skip
    seconds = sum(float(v) * u for v, u in zip(parts.groups(), UNITS.values(), strict=True)
                  if v) if parts else 0.0  # fmt: skip
    if not seconds > 0:
        raise argparse.ArgumentTypeError(
            f"--budget takes a duration with its unit, like 90m, 2h or 1h30m, not {text!r}"
        )
    return seconds


def whole(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of 0 or more")
    return int(text)


def positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive number of seconds")
    return value


def payload(text: str) -> tuple[float, ...]:
    """``--payload 0,1KiB,64KiB`` -> bytes (run/sizes.py)."""
    try:
        return sizes.parse_sizes(text, sizes.PAYLOAD)
    except sizes.SizeError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def task_size(text: str) -> tuple[float, ...]:
    """``--task-size 10us,1ms`` -> seconds (run/sizes.py)."""
    try:
        return sizes.parse_sizes(text, sizes.TASK_SIZE)
    except sizes.SizeError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
