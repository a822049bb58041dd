"""Join the shards of one nightly into one run folder, which ``report`` reads like any other.

A shard is a run folder that ``compare --shard K/N`` wrote on some machine. The merged
folder has the layout store.py describes: pyperf's files joined per implementation (with
pyperf's own API, so ``pyperf compare_to`` works on them), the paired, outcome, CPU
speed and instruction count lines of every shard, and a manifest that records each
shard's machine, attempt and fate. Cells of a shard that is missing, or that had to be
refused, are recorded as ``missing``, with the reason; the other shards merge all the
same.

Shard folders come from outside (CI artifacts), so they are untrusted: only the files a
run writes are read, and a shard holding a link, a path that leaves it, or a file over
MAX_FILE_BYTES is refused as a whole.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyperf

from harness import store

# No file of a run comes near: a full-profile pyperf file of 270 cells is a few MB.
MAX_FILE_BYTES = 64 << 20
MAX_SHARD_BYTES = 1 << 30
MISSING = "shard {shard} did not arrive: its job failed or was cancelled before uploading"
MISSING_OR_REFUSED = "shard {shard} did not arrive, or was one of those refused: {refused}"


class MergeError(Exception):
    """Shards that can't be merged into one run; the message names the shard and why."""


@dataclass
class Shard:
    directory: Path
    manifest: dict[str, Any] = field(default_factory=dict)
    problem: str = ""  # why this shard's files can't be used, or ""

    @property
    def index(self) -> int:
        return int(self.manifest["shard"]["index"])

    @property
    def attempt(self) -> int:
        return int(self.manifest["shard"].get("attempt", 1))

    @property
    def label(self) -> str:
        return f"{self.index}/{self.manifest['shard']['of']}"


def check_tree(directory: Path) -> str:
    """Why ``directory`` can't be trusted as a shard (a link, an escape, a huge file), or ""."""
    root = directory.resolve()
    total = 0
    for here, dirs, files in os.walk(directory, followlinks=False):
        for name in [*dirs, *files]:
            path = Path(here) / name
            if path.is_symlink():
                return f"{path.relative_to(directory)} is a symbolic link"
            if not path.resolve().is_relative_to(root):
                return f"{path.relative_to(directory)} lies outside the shard"
            if path.is_file():
                size = path.stat().st_size
                total += size
                if size > MAX_FILE_BYTES:
                    return f"{path.relative_to(directory)} is {size} bytes (limit {MAX_FILE_BYTES})"
    if total > MAX_SHARD_BYTES:
        return f"the shard holds {total} bytes (limit {MAX_SHARD_BYTES})"
    return ""


def open_shard(directory: Path) -> Shard:
    """A shard folder; its ``problem`` says why its files can't be used, if they can't.

    Raises MergeError or StoreError when the folder is no readable shard at all.
    """
    problem = check_tree(directory)
    manifest_file = store.manifest_path(directory)
    if problem and (manifest_file.is_symlink() or not manifest_file.is_file()
                    or manifest_file.stat().st_size > MAX_FILE_BYTES):  # fmt: skip
        raise MergeError(f"{directory} was refused: {problem}")
    manifest = store.load_manifest(directory)
    if not isinstance(manifest.get("shard"), dict):
        raise MergeError(f"{directory} is a run, not a shard: measure with compare --shard K/N")
    return Shard(directory, manifest, problem)


def _workload_of(name: str) -> str:
    """A cell's planned workload: a pyperf script's benchmark ``bm_x:sub`` is ``bm_x``'s."""
    return name.split(":", 1)[0]


def _cpython(manifest: Mapping[str, Any]) -> list[tuple[object, object]]:
    return sorted(
        {(i["provenance"].get("version"), i["provenance"].get("sha256"))
         for i in manifest["impls"] if i.get("family") == "cpython" and i.get("same_source")},
        key=str,
    )  # fmt: skip


def _check_alike(shards: Sequence[Shard]) -> None:
    """Refuse shards of different nightlies: selection, sharding, CPython, format."""
    first = shards[0]
    facts = {
        "profile": lambda m: m["profile"],
        "selection": lambda m: m["selection"],
        "number of shards": lambda m: m["shard"]["of"],
        "assignment of workloads to shards": lambda m: m["shard"]["assignment"],
        "nightly (batch)": lambda m: m["shard"].get("batch", ""),
        "CPython version and pin": _cpython,
    }
    for other in shards[1:]:
        for what, fact in facts.items():
            ours, theirs = fact(first.manifest), fact(other.manifest)
            if ours != theirs:
                raise MergeError(
                    f"{other.directory} is from another run than {first.directory}: its "
                    f"{what} is {theirs!r}, not {ours!r}; merge the shards of one nightly"
                )


def choose(shards: Iterable[Shard]) -> tuple[dict[int, Shard], dict[int, list[int]]]:
    """The newest attempt of each shard, and the attempts it superseded."""
    chosen: dict[int, Shard] = {}
    older: dict[int, list[int]] = {}
    for shard in sorted(shards, key=lambda s: (s.index, s.attempt, s.manifest["created"])):
        if shard.index in chosen:
            older.setdefault(shard.index, []).append(chosen[shard.index].attempt)
        chosen[shard.index] = shard
    return chosen, older


def _suite_benchmarks(shard: Shard, mine: set[str], keep: set[Path]) -> dict[str, list[Any]]:
    """The pyperf benchmarks of each raw file in the shard (``raw/<impl>/<piece>.json``, or
    format 2's ``raw/<impl>.json``), by path under raw/; a bad file refuses the shard. A
    piece no outcome line vouches for (``keep``: the attempt a cancelled job cut off) is
    left out, as a resumed run would set it aside."""
    found: dict[str, list[Any]] = {}
    for path in store.raw_files(shard.directory):
        if store.is_piece(path) and path not in keep:
            continue
        try:
            benches = list(pyperf.BenchmarkSuite.load(str(path)))
        except Exception as exc:  # pyperf raises bare ValueError/KeyError/JSONDecodeError
            raise MergeError(f"{path.name} is corrupt ({type(exc).__name__})") from exc
        for bench in benches:
            workload = _workload_of(str(bench.get_metadata().get("gilbench_workload", "")))
            if workload not in mine:
                ours = ", ".join(sorted(mine))
                raise MergeError(
                    f"{path.name} holds {bench.get_name()!r}, not one of this shard's "
                    f"workloads ({ours})"
                )
        found[path.relative_to(shard.directory / "raw").as_posix()] = benches
    return found


def _lines(path: Path, workloads: set[str] | None = None) -> list[dict[str, Any]]:
    """The JSON lines of ``path``, those of ``workloads`` only when given; a torn line is
    dropped (a shard killed mid-write), anything else not JSON refuses the shard."""
    if not path.is_file():
        return []
    text = path.read_text().splitlines()
    rows = []
    for number, line in enumerate(text, start=1):
        try:
            row = json.loads(line) if line.strip() else None
        except ValueError:
            if number == len(text):
                continue
            raise MergeError(f"{path.name}:{number} is not JSON") from None
        if not isinstance(row, dict):
            continue
        if workloads is None or _workload_of(str(row.get("workload", ""))) in workloads:
            rows.append(row)
    return rows


def merge(directories: Sequence[Path], into: Path) -> Path:
    """Merge the shard folders into the new run folder ``into``; return it."""
    if into.exists() and any(into.iterdir()):
        raise MergeError(f"{into} already holds files: merge into a new folder")
    shards, refused = [], []
    for directory in directories:
        try:
            shards.append(open_shard(directory))
        except (MergeError, store.StoreError) as exc:
            refused.append(str(exc))
    if not shards:
        why = "; ".join(refused) or "none was given"
        raise MergeError(f"no shard to merge: {why}")
    _check_alike(shards)
    chosen, older = choose(shards)
    return _write(list(chosen.values()), older, refused, into)


def _write(chosen: list[Shard], older: Mapping[int, list[int]], refused: list[str],
           into: Path) -> Path:  # fmt: skip
    first = chosen[0].manifest
    of = int(first["shard"]["of"])
    tmp = into.with_name(f".{into.name}.merging")
    shutil.rmtree(tmp, ignore_errors=True)
    (tmp / "raw").mkdir(parents=True)
    suites: dict[str, list[Any]] = {}
    paired: dict[str, list[dict[str, Any]]] = {}
    outcomes: list[dict[str, Any]] = []
    speed: list[dict[str, Any]] = []
    counts: list[dict[str, Any]] = []  # each shard's instruction counts, of its own workloads
    records = []
    for shard in chosen:
        record = {"index": shard.index, "of": of, "attempt": shard.attempt,
                  "superseded_attempts": older.get(shard.index, []),
                  "folder": shard.directory.name, "machine": shard.manifest["machine"],
                  "workloads": _workloads(first, shard.index), "status": "merged",
                  "reason": ""}  # fmt: skip
        mine = set(record["workloads"])
        try:
            if shard.problem:
                raise MergeError(shard.problem)
            done = _lines(store.outcomes_path(shard.directory), mine)
            keep = store.vouched_pieces(shard.directory, done)
            benchmarks = _suite_benchmarks(shard, mine, keep)
            lines = {p.relative_to(shard.directory / "raw").as_posix(): _lines(p, mine)
                     for p in store.paired_files(shard.directory)
                     if not store.is_piece(p) or p in keep}  # fmt: skip
            cpu = _lines(store.cpu_speed_path(shard.directory))
            counted = _lines(store.counts_path(shard.directory), mine)
        except (MergeError, ValueError, OSError) as exc:
            record.update(status="refused", reason=str(exc))
            records.append(record)
            continue
        for name, benches in benchmarks.items():
            suites.setdefault(name, []).extend(benches)
        for name, rows in lines.items():
            paired.setdefault(name, []).extend(rows)
        outcomes += done
        counts += counted
        speed += [{**line, "machine": shard.label} for line in cpu]
        _copy_logs(shard.directory, tmp)
        records.append(record)
    present = {r["index"] for r in records if r["status"] == "merged"}
    for index in range(1, of + 1):
        if index not in {r["index"] for r in records}:
            records.append({"index": index, "of": of, "attempt": 0, "superseded_attempts": [],
                            "folder": "", "machine": {}, "status": "missing",
                            "workloads": _workloads(first, index),
                            "reason": (MISSING_OR_REFUSED if refused else MISSING).format(
                                shard=f"{index}/{of}", refused="; ".join(refused))})  # fmt: skip
    for record in records:
        if record["index"] not in present:
            outcomes += _missing_lines(first, record)
    outcomes += _unavailable_lines(first, chosen, present)
    for name, benches in suites.items():
        (tmp / "raw" / name).parent.mkdir(parents=True, exist_ok=True)
        pyperf.BenchmarkSuite(benches).dump(str(tmp / "raw" / name), replace=True)
    for name, rows in paired.items():
        (tmp / "raw" / name).parent.mkdir(parents=True, exist_ok=True)
        store.write_atomic(tmp / "raw" / name, "".join(json.dumps(r) + "\n" for r in rows))
    store.write_atomic(store.outcomes_path(tmp), "".join(json.dumps(r) + "\n" for r in outcomes))
    store.write_atomic(store.cpu_speed_path(tmp), "".join(json.dumps(r) + "\n" for r in speed))
    if counts:
        store.write_atomic(store.counts_path(tmp), "".join(json.dumps(r) + "\n" for r in counts))
    store.write_manifest(tmp, _manifest(chosen, sorted(records, key=lambda r: r["index"]),
                                        refused, into.name))  # fmt: skip
    store.mark_complete(tmp)  # its shards are resumed on their own machines, never it
    into.parent.mkdir(parents=True, exist_ok=True)
    if into.exists():
        into.rmdir()  # empty: checked before anything was written
    tmp.rename(into)
    return into


def _workloads(manifest: Mapping[str, Any], index: int) -> list[str]:
    assignment = manifest["shard"]["assignment"]
    return sorted(w for w, k in assignment.items() if int(k) == index)


def _missing_lines(manifest: Mapping[str, Any], record: Mapping[str, Any]) -> list[dict[str, Any]]:
    """An outcome line for every planned cell of a shard whose results can't be used."""
    mine = set(record["workloads"])
    reason = record["reason"] if record["status"] == "missing" else (
        f"shard {record['index']}/{record['of']} was refused: {record['reason']}")  # fmt: skip
    return [
        {"impl": impl, "workload": workload, "model": model, "workers": workers, "pass": 0,
         "status": "missing", "detail": reason, "elapsed_s": 0.0}
        for impl, workload, model, workers in manifest["shard"]["plan"]
        if workload in mine
    ]  # fmt: skip


def _unavailable_lines(manifest: Mapping[str, Any], chosen: Sequence[Shard],
                       present: set[int]) -> list[dict[str, Any]]:  # fmt: skip
    """An outcome line for each cell of an implementation that a merged shard lacked and
    another shard had: the merged run has it, so its cells there read missing, with the
    reason that shard gave."""
    somewhere = {r["id"] for s in chosen for r in s.manifest["impls"] if not r.get("unavailable")}
    lines = []
    for shard in chosen:
        if shard.index not in present:
            continue  # its cells are missing already, with the reason it was
        mine = set(_workloads(manifest, shard.index))
        for record in shard.manifest["impls"]:
            if record.get("unavailable") and record["id"] in somewhere:
                reason = f"unavailable on shard {shard.label}: {record['unavailable']}"
                lines += [{"impl": impl, "workload": workload, "model": model,
                           "workers": workers, "pass": 0, "status": "missing",
                           "detail": reason, "elapsed_s": 0.0}
                          for impl, workload, model, workers in manifest["shard"]["plan"]
                          if impl == record["id"] and workload in mine]  # fmt: skip
    return lines


def _manifest(chosen: Sequence[Shard], records: list[dict[str, Any]], refused: list[str],
              name: str) -> dict[str, Any]:  # fmt: skip
    """The merged run's manifest: the shards' common facts, each shard's own, every cell."""
    first = chosen[0].manifest
    impls: dict[str, Any] = {}
    plan: dict[tuple[Any, ...], None] = {}
    for shard in chosen:
        for record in shard.manifest["impls"]:  # a shard that had it, where any had it
            held = impls.setdefault(record["id"], record)
            if held.get("unavailable") and not record.get("unavailable"):
                impls[record["id"]] = record
        plan.update(dict.fromkeys(tuple(cell) for cell in shard.manifest["shard"]["plan"]))
    return {
        **{k: first[k] for k in ("format", "version", "profile", "selection", "workloads")},
        **{k: first[k] for k in ("decisions",) if k in first},  # the shards' --margin
        "run": name,
        "created": max(s.manifest["created"] for s in chosen),
        "gilbench": store.gilbench_info(),
        "machine": first["machine"],  # the first shard's; "shards" has each one's
        "impls": list(impls.values()),
        # what the shards expected to measure: unavailable, their cells read missing
        "expected": list(dict.fromkeys(e for s in chosen for e in s.manifest.get("expected", []))),
        "packages": _packages(chosen),  # each shard's, for the workloads it measured
        "plan": [list(cell) for cell in plan],
        "shards": records,
        "refused": refused,
    }


def _packages(chosen: Sequence[Shard]) -> dict[str, dict[str, Any]]:
    """impl -> workload -> what its pip installed, over the shards (provision/packages.py)."""
    joined: dict[str, dict[str, Any]] = {}
    for shard in chosen:
        for impl, per in shard.manifest.get("packages", {}).items():
            joined.setdefault(impl, {}).update(per)
    return joined


def _copy_logs(shard: Path, into: Path) -> None:
    """Each benchmark's log, kept for whoever reads a failure (names are per workload)."""
    for log in sorted((shard / "logs").glob("*/*.log")):
        target = into / "logs" / log.parent.name / log.name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(log, target)
