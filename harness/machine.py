"""The machine a run measures on: what a reader needs to weigh its figures, and the
fingerprint that says which runs' figures may be compared (store.py records both)."""

from __future__ import annotations

import hashlib
import json
import os
import platform
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

__all__ = ["FINGERPRINT_FIELDS", "RUNNER_FIELDS", "fingerprint", "machine_info", "runner_info"]


def machine_info() -> dict[str, object]:
    """What a reader needs to weigh the figures: cores, affinity, CPU model, memory, OS."""
    try:
        affinity = sorted(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        affinity = list(range(os.cpu_count() or 1))
    info: dict[str, object] = {
        "cpu_count": os.cpu_count() or 1,
        "cpu_affinity": affinity,
        "cpu_model": _first_field(Path("/proc/cpuinfo"), "model name", ":")
        or platform.processor()
        or "unknown",
        "memory_gib": _memory_gib(),
        "os": _first_field(Path("/etc/os-release"), "PRETTY_NAME", "=") or platform.system(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "kernel": platform.release(),
        "host_python": sys.version.split()[0],
        "host": platform.node(),
        "runner": runner_info(),
    }
    info["fingerprint"] = fingerprint(info)
    return info


# What makes two machines' figures comparable, and so a history's series: not the host's
# name (a CI runner's changes every job), not the Python that runs gilbench.
FINGERPRINT_FIELDS = ("cpu_model", "cpu_count", "cpu_affinity", "memory_gib", "kernel", "os",
                      "machine", "runner")  # fmt: skip
RUNNER_FIELDS = ("label", "os", "arch", "image", "image_version")  # not "name"


def fingerprint(machine: Mapping[str, Any]) -> str:
    """12 hex digits naming the machine's kind; a field a run didn't record reads "unknown"."""
    runner = machine.get("runner") or {}
    fields = {key: machine.get(key, "unknown") for key in FINGERPRINT_FIELDS}
    fields["runner"] = {key: runner[key] for key in RUNNER_FIELDS if key in runner}
    text = json.dumps(fields, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def _memory_gib() -> int | str:
    """Physical memory in whole GiB (rounded, so a VM's few reserved MB don't matter)."""
    try:
        return round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30)
    except (ValueError, OSError, AttributeError):
        return "unknown"


def runner_info(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """On a GitHub Actions runner: its label (from the workflow), name, OS, arch and image."""
    env = os.environ if environ is None else environ
    if env.get("GITHUB_ACTIONS") != "true":
        return {}
    keys = {"label": "GILBENCH_RUNNER_LABEL", "name": "RUNNER_NAME", "os": "RUNNER_OS",
            "arch": "RUNNER_ARCH", "image": "ImageOS", "image_version": "ImageVersion"}  # fmt: skip
    return {field: env[name] for field, name in keys.items() if env.get(name)}


def _first_field(path: Path, key: str, separator: str) -> str:
    try:
        for line in path.read_text().splitlines():
            if line.startswith(key):
                return line.partition(separator)[2].strip().strip('"')
    except OSError:
        pass
    return ""
