"""The machine a run measures on: what a reader needs to weigh its figures, its class (the
kind of machine whose runs a history's series follow) and its fingerprint (the whole
setup, class and all; store.py records the three).

Hosted CI runners alternate between CPU models from one night to the next, and their
images (kernel, packages) change weekly. A series is followed per machine class, CPU model,
usable cores and architecture, across whatever nights that class measured; every other
field of the fingerprint, the host's packages and the versions measured are events
(history/events.py) that a change found may be named beside, never a break in a series."""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import platform
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from harness.provision.valgrind import installed_version

__all__ = ["FINGERPRINT_FIELDS", "PACKAGES", "RUNNER_FIELDS", "fingerprint", "machine_class",
           "machine_info", "runner_info", "usable_cores"]  # fmt: skip

# The host's packages whose versions a run records: pyperf measures, the others compute the
# figures from the values.
PACKAGES = ("pyperf", "numpy", "pandas", "scipy")


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
        "packages": host_packages(),
        # what counts the serial cells' instructions (run/counts.py); "" if not installed
        "valgrind": installed_version(),
    }
    info["fingerprint"] = fingerprint(info)
    info["machine_class"] = machine_class(info)
    return info


def host_packages() -> dict[str, str]:
    """The versions of the host's PACKAGES that are installed."""
    found = {}
    for name in PACKAGES:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return found


def usable_cores(machine: Mapping[str, Any]) -> int | str:
    """The cores a run could use: its affinity's, else the machine's count ("unknown")."""
    affinity = machine.get("cpu_affinity")
    if isinstance(affinity, list) and affinity:
        return len(affinity)
    return machine.get("cpu_count") or "unknown"


def machine_class(machine: Mapping[str, Any]) -> str:
    """The kind of machine whose figures one series follows: CPU model, usable cores and
    architecture, e.g. ``AMD EPYC 7763 64-Core Processor, 4 cores, x86_64``. The class a
    run recorded, else (a run made before classes were) the one its fields give."""
    recorded = machine.get("machine_class")
    if recorded:
        return str(recorded)
    cores = usable_cores(machine)
    return (f"{machine.get('cpu_model') or 'unknown'}, {cores} core{'' if cores == 1 else 's'}, "
            f"{machine.get('machine') or 'unknown'}")  # fmt: skip


# The machine's whole setup, which a resumed run must share (run/resume.py) and which the
# history keeps beside each figure: not the host's name (a CI runner's changes every job),
# not the Python that runs gilbench. Its class's fields and the rest: machine_class.
FINGERPRINT_FIELDS = ("cpu_model", "cpu_count", "cpu_affinity", "memory_gib", "kernel", "os",
                      "machine", "runner")  # fmt: skip
RUNNER_FIELDS = ("label", "os", "arch", "image", "image_version")  # not "name"


def fingerprint(machine: Mapping[str, Any]) -> str:
    """12 hex digits naming the machine's setup; a field a run didn't record reads "unknown"."""
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
