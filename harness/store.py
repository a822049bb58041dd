"""The on-disk layout of one run, and the manifest that describes it. Only this module knows it.

    reports/<run>/run.json          manifest: format version, machine, implementations, plan
    reports/<run>/outcomes.jsonl    one line per benchmark attempt, appended as it ends
    reports/<run>/raw/<impl>/<pass>-<bench>.json  pyperf's own JSON of one benchmark attempt
    reports/<run>/raw/<impl>/<pass>-<bench>.paired.jsonl  serial units timed beside its values
    reports/<run>/pyperf/<impl>.json  the attempts joined, for ``pyperf compare_to`` (derived)
    reports/<run>/cpu_speed.jsonl   every CPU's speed, sampled between benchmarks (cpuspeed)
    reports/<run>/counts.jsonl      instructions per unit of the serial cells, written once
    reports/<run>/logs/<impl>/...   each benchmark's output
    reports/<run>/superseded/       raw files of an implementation measured again (tox)
    reports/<run>/torn/             pieces of attempts cut off by a kill, set aside on resume
    reports/<run>/complete          written when the matrix ended; a run without it resumes
    reports/latest -> <run>         the newest complete run

Raw results are only ever added to, and no raw file is ever rewritten: each benchmark
attempt writes a piece of its own, which its line in ``outcomes.jsonl`` (appended once the
attempt ended) vouches for. A kill at any instant leaves complete pieces and at most one
piece that no line vouches for; ``--resume`` sets that one aside and measures its cell's
pass again. Format 2's one file per implementation (``raw/<impl>.json``) is still read.
The paired, outcome and CPU speed files get one line per event. An implementation
measured into a run again (a tox env re-run with ``--into``) has its earlier raw files
moved to ``superseded/``, never deleted. Everything else in ``reports/<run>/`` is derived
and rebuilt by ``report``.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import subprocess
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from harness import __version__
from harness.machine import (
    machine_info,
)
from harness.provision.impls import Impl

ROOT = Path(__file__).resolve().parent.parent  # the checkout; site-packages when installed
FORMAT = "gilbench-run"
# History:
# 1 - run.json + outcomes.jsonl + raw pyperf JSON; later within it, the optional
#     raw/*.paired.jsonl and cpu_speed.jsonl.
# 2 - speedups rest on the serial units paired with each value (raw/*.paired.jsonl);
#     run.json lists the planned cells ("plan") and the gilbench that wrote it.
# 3 - one raw piece per benchmark attempt (raw/<impl>/<pass>-<bench>.json), never
#     rewritten; a ``complete`` marker. Format 2 folders read the same.
VERSION = 3
READABLE = (2, 3)
Cell = tuple[str, str, str, int]  # impl, workload, model, workers


def reports_dir() -> Path:
    """Where runs go without ``--reports``: ``reports/`` under the current folder, so an
    installed gilbench never writes into its package (nox runs in the checkout: its own)."""
    return Path.cwd() / "reports"


class StoreError(Exception):
    """A run folder that can't be read or can't take what was asked of it; one line."""


class DiskFull(StoreError):
    """No space left where a run writes: the folder, what is free and what is needed."""


MIN_FREE = 1 << 20  # bytes free, at the least, before a benchmark attempt starts


def disk_full(folder: Path, need: int) -> DiskFull:
    try:
        free = shutil.disk_usage(folder).free
    except OSError:
        free = 0
    return DiskFull(f"no space left in {folder}: {free / 2**20:.1f} MiB free, about "
                    f"{need / 2**20:.1f} MiB needed")  # fmt: skip


def ensure_space(run_dir: Path) -> None:
    """Refuse to start an attempt that may not fit: it needs four times the largest piece
    or log the run has written so far, and at least MIN_FREE."""
    sizes = [p.stat().st_size for folder in ("raw", "logs")
             for p in (run_dir / folder).rglob("*") if p.is_file()]  # fmt: skip
    need = max(MIN_FREE, 4 * max(sizes, default=0))
    if shutil.disk_usage(run_dir).free < need:
        raise disk_full(run_dir, need)


def manifest_path(run_dir: Path) -> Path:
    return run_dir / "run.json"


def outcomes_path(run_dir: Path) -> Path:
    return run_dir / "outcomes.jsonl"


def cpu_speed_path(run_dir: Path) -> Path:
    """Where the CPU speed samples of a run go (cpuspeed.Sampler), one JSON line each."""
    return run_dir / "cpu_speed.jsonl"


# counts.jsonl's lines (run/counts.py), each carrying "version". History:
# 1 - one line per counted serial cell per repeat: units N and N+k, the instructions of
#     each run, the valgrind that counted; a cell not counted has one line with why.
COUNTS_VERSION = 1


def counts_path(run_dir: Path) -> Path:
    """Where a run's instruction counts go (run/counts.py): written once, whole."""
    return run_dir / "counts.jsonl"


def count_log_path(run_dir: Path, impl_id: str, workload: str) -> Path:
    """The output of the valgrind runs that counted a serial cell."""
    return run_dir / "logs" / impl_id / f"{workload}-serial-1.count.log"


def raw_path(run_dir: Path, impl_id: str) -> Path:
    """Format 2's one pyperf file for an implementation; a merged run's, too."""
    return run_dir / "raw" / f"{impl_id}.json"


def piece_path(run_dir: Path, impl_id: str, bench_name: str, number: int) -> Path:
    """The raw piece of one attempt: pass ``number`` of ``bench_name`` on ``impl_id``."""
    return run_dir / "raw" / impl_id / f"{number:04d}-{bench_name.replace('/', '-')}.json"


def piece_pass(path: Path) -> int | None:
    """The pass of a piece (``0003-...json`` -> 3); None for format 2's one file per impl."""
    return int(path.name[:4]) if is_piece(path) else None


def raw_impl(path: Path) -> str:
    """The implementation a raw file or piece (or its paired file) belongs to."""
    if path.parent.name != "raw":
        return path.parent.name
    return path.name.split(".", 1)[0] if path.name.endswith(".paired.jsonl") else path.stem


def vouched_pieces(run_dir: Path, lines: Iterable[Mapping[str, Any]]) -> set[Path]:
    """The raw pieces, and their paired files, that outcome lines vouch for: the only ones
    a reader counts (an attempt cut off before its line was written never happened)."""
    pieces = set()
    for line in lines:
        if int(line["pass"]) >= 1:
            name = f"{line['workload']}/{line['model']}/{line['workers']}"
            piece = piece_path(run_dir, str(line["impl"]), name, int(line["pass"]))
            pieces |= {piece, paired_path(piece)}
    return pieces


def is_piece(path: Path) -> bool:
    """A per-attempt piece (raw/<impl>/...), not format 2's one file per implementation."""
    return path.parent.name != "raw"


def running_path(run_dir: Path) -> Path:
    """Where an older gilbench named the benchmark running; a resume finds leftovers by
    their command lines now (run/resume.py) and removes this file."""
    return run_dir / "running"


def complete_path(run_dir: Path) -> Path:
    return run_dir / "complete"


def is_complete(run_dir: Path) -> bool:
    """Did the run's matrix end (a format-2 run, older than the marker, always had)?"""
    if complete_path(run_dir).is_file():
        return True
    try:
        return bool(json.loads(manifest_path(run_dir).read_text()).get("version") == 2)
    except (OSError, ValueError, AttributeError):
        return False


def mark_complete(run_dir: Path) -> None:
    write_atomic(complete_path(run_dir), datetime.now(UTC).isoformat(timespec="seconds") + "\n")


def paired_path(raw: Path) -> Path:
    """Where the runners put the serial units paired with ``raw``'s values (gbmeasure)."""
    return raw.with_suffix(".paired.jsonl")


def log_path(run_dir: Path, impl_id: str, bench_name: str) -> Path:
    return run_dir / "logs" / impl_id / (bench_name.replace("/", "-") + ".log")


def raw_files(run_dir: Path) -> list[Path]:
    """Every pyperf file: the pieces of each attempt, and format 2's one per implementation."""
    raw = run_dir / "raw"
    return sorted([*raw.glob("*.json"), *raw.glob("*/*.json")])


def paired_files(run_dir: Path) -> list[Path]:
    raw = run_dir / "raw"
    return sorted([*raw.glob("*.paired.jsonl"), *raw.glob("*/*.paired.jsonl")])


def write_atomic(path: Path, data: str | bytes) -> None:
    """Replace ``path`` in one step: a reader sees the old file or the new one, never a part."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    payload = data.encode() if isinstance(data, str) else data
    try:
        with tmp.open("wb") as out:
            out.write(payload)
            out.flush()
            os.fsync(out.fileno())
        tmp.replace(path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        if exc.errno == errno.ENOSPC:
            raise disk_full(path.parent, len(payload)) from None
        raise


def append_line(path: Path, record: Mapping[str, object]) -> None:
    """Add one JSON line; earlier lines are never rewritten."""
    line = json.dumps(record, sort_keys=True) + "\n"
    try:
        with path.open("a") as out:
            out.write(line)
    except OSError as exc:
        if exc.errno == errno.ENOSPC:
            raise disk_full(path.parent, len(line)) from None
        raise


def new_run_dir(reports: Path, now: datetime | None = None) -> Path:
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
            "gilbench reads formats 2 and 3: open the report already in that folder, or "
            "measure again with 'nox -s compare'"
        )
    if version not in READABLE:
        raise StoreError(
            f"{path} has format version {version!r}; this gilbench reads versions 2 and 3: "
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
        for path in (raw, paired_path(raw), raw.with_suffix("")):
            if path.exists():
                (run_dir / "superseded").mkdir(exist_ok=True)
                path.rename(run_dir / "superseded" / f"{stamp}-{path.name}")
        records[record["id"]] = record
    ids = {record["id"] for record in manifest["impls"]}
    plan = [cell for cell in joined["plan"] if cell[0] not in ids] + manifest["plan"]
    shard = {"shard": manifest["shard"]} if "shard" in manifest else {}  # a re-run's attempt
    write_manifest(run_dir, {**joined, **shard, "impls": list(records.values()), "plan": plan})
    return run_dir
