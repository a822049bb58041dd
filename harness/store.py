"""The on-disk layout of one run, and the manifest that describes it. Only this module knows it.

    reports/<run>/run.json          manifest: format version, machine, implementations, plan
    reports/<run>/outcomes.jsonl    one line per benchmark attempt, appended as it ends
    reports/<run>/raw/<impl>.json   pyperf's own JSON, exactly as pyperf wrote it
    reports/<run>/raw/<impl>.paired.jsonl  serial units timed beside each value (gbmeasure)
    reports/<run>/cpu_speed.jsonl   every CPU's speed, sampled between benchmarks (cpuspeed)
    reports/<run>/logs/<impl>/...   each benchmark's output
    reports/<run>/superseded/       raw files of an implementation measured again (tox)
    reports/latest -> <run>         the newest run

Raw results are only ever added to. pyperf appends each benchmark's runs to
``raw/<impl>.json`` by rewriting that file, as it always does; the paired, outcome and CPU
speed files get one line per event. An implementation measured into a run again (a tox env
re-run with ``--into``) has its earlier raw files moved to ``superseded/``, never deleted.
Everything else in ``reports/<run>/`` is derived and rebuilt by ``report``.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import subprocess
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from harness import __version__
from harness.provision.impls import Impl

ROOT = Path(__file__).resolve().parent.parent
REPORTS_DIR = ROOT / "reports"
FORMAT = "gilbench-run"
# History:
# 1 - run.json + outcomes.jsonl + raw pyperf JSON; later within it, the optional
#     raw/*.paired.jsonl and cpu_speed.jsonl.
# 2 - speedups rest on the serial units paired with each value (raw/*.paired.jsonl);
#     run.json lists the planned cells ("plan") and the gilbench that wrote it.
VERSION = 2
Cell = tuple[str, str, str, int]  # impl, workload, model, workers


class StoreError(Exception):
    """A run folder that can't be read or can't take what was asked of it; one line."""


def manifest_path(run_dir: Path) -> Path:
    return run_dir / "run.json"


def outcomes_path(run_dir: Path) -> Path:
    return run_dir / "outcomes.jsonl"


def cpu_speed_path(run_dir: Path) -> Path:
    """Where the CPU speed samples of a run go (cpuspeed.Sampler), one JSON line each."""
    return run_dir / "cpu_speed.jsonl"


def raw_path(run_dir: Path, impl_id: str) -> Path:
    """pyperf's file for one implementation: ``pyperf compare_to`` reads these."""
    return run_dir / "raw" / f"{impl_id}.json"


def paired_path(raw: Path) -> Path:
    """Where the runners put the serial units paired with ``raw``'s values (gbmeasure)."""
    return raw.with_suffix(".paired.jsonl")


def log_path(run_dir: Path, impl_id: str, bench_name: str) -> Path:
    return run_dir / "logs" / impl_id / (bench_name.replace("/", "-") + ".log")


def raw_files(run_dir: Path) -> list[Path]:
    """Every implementation's pyperf file, by name."""
    return sorted(p for p in (run_dir / "raw").glob("*.json"))


def paired_files(run_dir: Path) -> list[Path]:
    return sorted((run_dir / "raw").glob("*.paired.jsonl"))


def write_atomic(path: Path, data: str | bytes) -> None:
    """Replace ``path`` in one step: a reader sees the old file or the new one, never a part."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with tmp.open("wb") as out:
        out.write(data.encode() if isinstance(data, str) else data)
        out.flush()
        os.fsync(out.fileno())
    tmp.replace(path)


def append_line(path: Path, record: Mapping[str, object]) -> None:
    """Add one JSON line; earlier lines are never rewritten."""
    with path.open("a") as out:
        out.write(json.dumps(record, sort_keys=True) + "\n")


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
    raise StoreError(f"too many runs named {stamp!r} in {reports}; remove some")


def point_latest(run_dir: Path) -> None:
    """Atomically make ``reports/latest`` point at ``run_dir`` (a relative symlink)."""
    link = run_dir.parent / "latest"
    tmp = run_dir.parent / f".latest-{os.getpid()}"
    tmp.unlink(missing_ok=True)
    tmp.symlink_to(run_dir.name)
    tmp.replace(link)


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


def gilbench_info() -> dict[str, str]:
    """This gilbench's version and, in a git checkout, its commit."""
    commit = ""
    if (ROOT / ".git").exists():
        try:
            done = subprocess.run(
                ["git", "-C", str(ROOT), "rev-parse", "HEAD"],
                capture_output=True, text=True, timeout=10, check=False,
            )  # fmt: skip
            commit = done.stdout.strip() if done.returncode == 0 else ""
        except (OSError, subprocess.TimeoutExpired):
            pass
    return {"version": __version__, "commit": commit}


def impl_record(impl: Impl) -> dict[str, object]:
    record = asdict(impl)
    record["python"] = str(impl.python) if impl.python else None
    record["env"] = dict(impl.env)
    record["unset_env"] = list(impl.unset_env)
    record["provenance"] = dict(impl.provenance)
    return record


def make_manifest(
    name: str,
    impls: Sequence[Impl],
    profile: str,
    selection: Mapping[str, object],
    workloads: Sequence[Mapping[str, object]],
    cells: Iterable[Cell],
    extra: Mapping[str, object] | None = None,
) -> dict[str, Any]:
    """A format-2 manifest: what was asked, on which machine, and every cell planned.

    ``extra``: a shard's ``shard`` record (compare --shard K/N): its place among the
    shards, attempt, the assignment of workloads to shards and the whole plan.
    """
    return {
        **(extra or {}),
        "format": FORMAT,
        "version": VERSION,
        "run": name,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "gilbench": gilbench_info(),
        "profile": profile,
        "selection": dict(selection),
        "machine": machine_info(),
        "impls": [impl_record(i) for i in impls],
        "workloads": list(workloads),
        "plan": [list(cell) for cell in cells],
    }


def write_manifest(run_dir: Path, manifest: Mapping[str, Any]) -> None:
    text = json.dumps(manifest, indent=2, sort_keys=True, default=str) + "\n"
    write_atomic(manifest_path(run_dir), text)


def load_manifest(run_dir: Path) -> dict[str, Any]:
    """The run's manifest; a missing, corrupt, old or unknown one is a one-line StoreError."""
    path = manifest_path(run_dir)
    try:
        manifest = json.loads(path.read_text())
    except FileNotFoundError:
        raise StoreError(f"{path} is missing: this folder holds no gilbench run") from None
    except (OSError, ValueError) as exc:
        why = " ".join(str(exc).split())
        raise StoreError(f"{path} is unreadable ({why}); it can't be repaired: "
                         "measure again with 'nox -s compare'") from None  # fmt: skip
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise StoreError(f"{path} is not a gilbench run manifest; name a folder of reports/")
    version = manifest.get("version")
    if version == 1:
        raise StoreError(
            f"{path} is run format 1, from a gilbench that predates paired speedups; this "
            f"gilbench reads format {VERSION}: open the report already in that folder, or "
            "measure again with 'nox -s compare'"
        )
    if version != VERSION:
        raise StoreError(
            f"{path} has format version {version!r}; this gilbench reads version {VERSION}: "
            "use the gilbench that wrote it, or measure again"
        )
    for key in ("impls", "plan", "selection", "workloads", "machine"):
        if not isinstance(manifest.get(key), list | dict):
            raise StoreError(f"{path} lacks {key!r}; it can't be read: measure again")
    return manifest


def join_run_dir(reports: Path, name: str, manifest: dict[str, Any]) -> Path:
    """``reports/<name>``, created or joined by another front end's run (tox envs share one).

    Joining adds the manifest's implementations and their planned cells. Whatever one of
    them measured there before is moved to ``superseded/``, never deleted, so a re-run
    never mixes two days' values.
    """
    run_dir = reports / name
    if not manifest_path(run_dir).exists():
        run_dir.mkdir(parents=True, exist_ok=True)
        write_manifest(run_dir, {**manifest, "run": name})
        return run_dir
    joined = load_manifest(run_dir)
    wanted = json.loads(json.dumps({"profile": manifest["profile"],
                                    "selection": manifest["selection"]}))  # fmt: skip
    if {"profile": joined["profile"], "selection": joined["selection"]} != wanted:
        raise StoreError(
            f"{run_dir} holds a run with another selection or profile "
            f"({joined['profile']}, {joined['selection']}); choose another --into name"
        )
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    records = {record["id"]: record for record in joined["impls"]}
    for record in manifest["impls"]:
        raw = raw_path(run_dir, record["id"])
        for path in (raw, paired_path(raw)):
            if path.exists():
                (run_dir / "superseded").mkdir(exist_ok=True)
                path.rename(run_dir / "superseded" / f"{stamp}-{path.name}")
        records[record["id"]] = record
    ids = {record["id"] for record in manifest["impls"]}
    plan = [cell for cell in joined["plan"] if cell[0] not in ids] + manifest["plan"]
    shard = {"shard": manifest["shard"]} if "shard" in manifest else {}  # a re-run's attempt
    write_manifest(run_dir, {**joined, **shard, "impls": list(records.values()), "plan": plan})
    return run_dir
