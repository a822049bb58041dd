"""The on-disk layout of one run, and the manifest that describes it.

    reports/<run>/run.json          manifest: format version, machine, implementations
    reports/<run>/outcomes.jsonl    one line per benchmark attempt, appended as it ends
    reports/<run>/raw/<impl>.json   pyperf's own JSON, exactly as pyperf wrote it
    reports/<run>/raw/<impl>.paired.jsonl  serial units timed beside each value (gbcore.Pairing)
    reports/<run>/cpu_speed.jsonl   every CPU's speed, sampled between benchmarks (cpuspeed)
    reports/<run>/logs/...          each benchmark's output
    reports/latest -> <run>         the newest run

Everything else in ``reports/<run>/`` is derived and rebuilt by ``report``.
"""

from __future__ import annotations

import json
import os
import platform
import sys
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

from harness.impls import Impl

REPORTS_DIR = Path(__file__).resolve().parent.parent / "reports"
FORMAT = "gilbench-run"
# History: 1 - first version (run.json + outcomes.jsonl + raw pyperf JSON); the optional
# raw/*.paired.jsonl came later within it (a run without them reads as before).
VERSION = 1


def new_run_dir(reports: Path = REPORTS_DIR, now: datetime | None = None) -> Path:
    """Create ``reports/<UTC timestamp>``; a suffix keeps two runs in one second apart."""
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%d-%H%M%S")
    for suffix in ("", *(f"-{i}" for i in range(2, 100))):
        candidate = reports / (stamp + suffix)
        try:
            candidate.mkdir(parents=True)
        except FileExistsError:
            continue
        return candidate
    raise FileExistsError(f"too many runs named {stamp!r} in {reports}")


def point_latest(run_dir: Path) -> None:
    """Atomically make ``reports/latest`` point at ``run_dir`` (a relative symlink)."""
    link = run_dir.parent / "latest"
    tmp = run_dir.parent / f".latest-{os.getpid()}"
    tmp.unlink(missing_ok=True)
    tmp.symlink_to(run_dir.name)
    tmp.replace(link)


def machine_info() -> dict[str, object]:
    """What a reader needs to weigh the figures: cores, affinity, CPU model, OS."""
    try:
        affinity = sorted(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        affinity = list(range(os.cpu_count() or 1))
    return {
        "cpu_count": os.cpu_count() or 1,
        "cpu_affinity": affinity,
        "cpu_model": _cpu_model(),
        "os": _os_name(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "host_python": sys.version.split()[0],
    }


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.partition(":")[2].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _os_name() -> str:
    try:
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                return line.partition("=")[2].strip().strip('"')
    except OSError:
        pass
    return platform.system()


def impl_record(impl: Impl) -> dict[str, object]:
    record = asdict(impl)
    record["python"] = str(impl.python) if impl.python else None
    record["env"] = dict(impl.env)
    record["unset_env"] = list(impl.unset_env)
    record["provenance"] = dict(impl.provenance)
    return record


def write_manifest(
    run_dir: Path,
    impls: Sequence[Impl],
    profile: str,
    selection: Mapping[str, object],
    workloads: Sequence[Mapping[str, object]],
) -> None:
    manifest = {
        "format": FORMAT,
        "version": VERSION,
        "run": run_dir.name,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "profile": profile,
        "selection": dict(selection),
        "machine": machine_info(),
        "impls": [impl_record(i) for i in impls],
        "workloads": list(workloads),
    }
    text = json.dumps(manifest, indent=2, sort_keys=True, default=str)
    (run_dir / "run.json").write_text(text + "\n")


def paired_path(raw: Path) -> Path:
    """Where the runners put the serial units paired with ``raw``'s values (gbcore.Pairing)."""
    return raw.with_suffix(".paired.jsonl")


def cpu_speed_path(run_dir: Path) -> Path:
    """Where the CPU speed samples of a run go (cpuspeed.Sampler), one JSON line each."""
    return run_dir / "cpu_speed.jsonl"


class StoreError(Exception):
    """A run folder that can't take what was asked of it."""


def join_run_dir(
    reports: Path,
    name: str,
    impls: Sequence[Impl],
    profile: str,
    selection: Mapping[str, object],
    workloads: Sequence[Mapping[str, object]],
) -> Path:
    """``reports/<name>``, created or joined by another front end's run (tox envs share one).

    Joining adds ``impls`` to the manifest. Whatever one of them measured there before is
    moved to ``superseded/``, never deleted, so a re-run never mixes two days' values.
    """
    run_dir = reports / name
    manifest_path = run_dir / "run.json"
    if not manifest_path.exists():
        run_dir.mkdir(parents=True, exist_ok=True)
        write_manifest(run_dir, impls, profile, selection, workloads)
        return run_dir
    manifest = json.loads(manifest_path.read_text())
    if manifest.get("version") != VERSION:
        raise StoreError(f"{run_dir} has format version {manifest.get('version')!r}; "
                         "choose another --into name")  # fmt: skip
    wanted = json.loads(json.dumps({"profile": profile, "selection": dict(selection)}))
    if {"profile": manifest["profile"], "selection": manifest["selection"]} != wanted:
        raise StoreError(
            f"{run_dir} holds a run with another selection or profile "
            f"({manifest['profile']}, {manifest['selection']}); choose another --into name"
        )
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    records = {record["id"]: record for record in manifest["impls"]}
    for impl in impls:
        raw = run_dir / "raw" / f"{impl.id}.json"
        for path in (raw, paired_path(raw)):
            if path.exists():
                (run_dir / "superseded").mkdir(exist_ok=True)
                path.rename(run_dir / "superseded" / f"{stamp}-{path.name}")
        records[impl.id] = impl_record(impl)
    manifest["impls"] = list(records.values())
    text = json.dumps(manifest, indent=2, sort_keys=True, default=str)
    tmp = manifest_path.with_suffix(".tmp")
    tmp.write_text(text + "\n")
    tmp.replace(manifest_path)
    return run_dir
