"""Continue a run that was cut off: by SIGKILL, Ctrl-C, power loss or a cancelled CI job.

A run folder says everything needed to go on (store.py): the manifest holds the planned
cells, the implementations and the profile; each line of ``outcomes.jsonl`` vouches for
one attempt's raw piece. Taking a run up:

- kills what is left of the benchmark that was running: the process group of every
  process whose command line names this run's pieces, and no other;
- sets aside, into ``torn/``, every piece that no outcome line vouches for: the attempt
  that was cut off, which is measured again from its start;
- drops a last line of ``outcomes.jsonl`` or ``cpu_speed.jsonl`` torn by power loss;
- hands the outcome lines to the matrix, which keeps those attempts and measures the rest.

Ctrl-C asks the matrix to stop after the benchmark that is running (``stop_on_interrupt``);
a second Ctrl-C stops at once. Either way the run stays resumable.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from harness import store
from harness.options import UsageError
from harness.provision.impls import Impl
from harness.run.bench import Outcome
from harness.run.confine import groups_naming, leftovers
from harness.run.matrix import Stop
from harness.run.plan import PROFILES, Bench, Profile
from harness.run.workloads import (
    Workload,
    WorkloadError,
    load_workloads,
    parse_workload,
    variant_of,
)

Say = Callable[[str], None]
# Flags that would change what a run measures: a resumed run goes on as it was planned.
FIXED_BY_THE_RUN = ("workload", "model", "workers", "quick", "profile", "precision", "margin",
                    "impl",
                    "sparse", "cpython", "cpython_source", "shard", "into", "start_method",
                    "python", "jython_jar", "resume_from", "count")  # fmt: skip


@dataclass(frozen=True)
class Resumed:
    """A cut-off run, taken up: what it planned, and the attempts it already recorded."""

    run_dir: Path
    impls: list[Impl]
    benches: list[Bench]
    profile: Profile
    lines: list[dict[str, Any]]  # outcomes.jsonl, oldest first

    def done(self) -> dict[tuple[tuple[str, str, str, int], int], Outcome]:
        """(cell, pass) -> the outcome recorded for it: what a fixed profile keeps."""
        kept = {}
        for line in self.lines:
            if int(line["pass"]) >= 1:
                cell = (str(line["impl"]), str(line["workload"]), str(line["model"]),
                        int(line["workers"]))  # fmt: skip
                kept[(cell, int(line["pass"]))] = Outcome(
                    line["status"], str(line.get("detail", "")), float(line["elapsed_s"])
                )
        return kept


def refuse_other_flags(args: Any) -> None:
    """--resume goes on with the run's own selection; a flag that would change it is refused."""
    given = [
        name for name in FIXED_BY_THE_RUN if getattr(args, name, None) not in (None, [], False)
    ]
    if given:
        flag = "--" + given[0].replace("_", "-")
        raise UsageError(f"--resume goes on with the run's own selection and profile; drop "
                         f"{flag} (only --budget and --timeout may change)")  # fmt: skip


def find(reports: Path, name: str) -> Path:
    """The run to resume: ``name``, or the newest run in ``reports`` that did not end."""
    if name:
        candidate = Path(name) if Path(name).is_dir() else reports / name
        if not store.manifest_path(candidate).is_file():
            raise UsageError(f"--resume {name}: no run there; name a folder of {reports} "
                             "(or give --resume alone for the newest unfinished run)")  # fmt: skip
        if store.is_complete(candidate):
            raise UsageError(f"{candidate} is complete: nothing to resume; 'nox -s compare' "
                             "starts a new run")  # fmt: skip
        return candidate.resolve()
    runs = sorted((p for p in reports.glob("*") if store.manifest_path(p).is_file() and
                   not p.is_symlink()), key=lambda p: p.name)  # fmt: skip
    for run in reversed(runs):
        if not store.is_complete(run):
            return run.resolve()
    raise UsageError(f"no unfinished run in {reports}: nothing to resume; 'nox -s compare' "
                     "starts a new run")  # fmt: skip


def take_up(run_dir: Path, say: Say, budget_s: float | None = None,
            timeout_s: float | None = None) -> Resumed:  # fmt: skip
    """Clear what the cut left behind and read back what the run planned and recorded."""
    manifest = store.load_manifest(run_dir)
    if manifest.get("version") != 3 or "effort" not in manifest:
        raise UsageError(f"{run_dir} was written by a gilbench without --resume; it can't be "
                         "continued: 'nox -s compare' starts a new run")  # fmt: skip
    stop_leftover(run_dir, say)
    for path in (store.outcomes_path(run_dir), store.cpu_speed_path(run_dir)):
        drop_torn_line(path, say)
    lines = read_lines(store.outcomes_path(run_dir))
    set_aside(run_dir, lines, say)
    effort = manifest["effort"]
    profile = profile_of(effort, budget_s, timeout_s)
    impls = [impl_of(record) for record in manifest["impls"]]
    benches = benches_of(manifest, impls)
    return Resumed(run_dir, impls, benches, profile, lines)


def profile_of(effort: Mapping[str, Any], budget_s: float | None,
               timeout_s: float | None) -> Profile:  # fmt: skip
    known = {f.name for f in fields(Profile)}
    settings = {k: v for k, v in effort.items() if k in known}
    settings["pyperf_args"] = tuple(settings.get("pyperf_args", ()))
    base = PROFILES.get(str(settings.get("name")), PROFILES["adaptive"])
    profile = Profile(**{**{f.name: getattr(base, f.name) for f in fields(Profile)}, **settings})
    changes: dict[str, Any] = {}
    if budget_s is not None:
        changes["budget_s"] = budget_s
    if timeout_s is not None:
        changes["timeout_s"] = timeout_s
    return Profile(**{**{f.name: getattr(profile, f.name) for f in fields(Profile)}, **changes})


def impl_of(record: Mapping[str, Any]) -> Impl:
    """An implementation as the manifest recorded it (store.impl_record)."""
    known = {f.name for f in fields(Impl)}
    given = {k: v for k, v in record.items() if k in known}
    given["python"] = Path(given["python"]) if given.get("python") else None
    given["command"] = tuple(given.get("command") or ())
    given["unset_env"] = tuple(given.get("unset_env") or ())
    return Impl(**given)


def benches_of(manifest: Mapping[str, Any], impls: list[Impl]) -> list[Bench]:
    """The planned cells, with the workloads found again by their recorded paths."""
    builtin = {w.name: w for w in load_workloads()}
    workloads: dict[str, Workload] = {}
    for record in manifest["workloads"]:
        name = str(record["name"])
        path = record.get("path")
        try:
            found = parse_workload(Path(path)) if path else builtin[name]
            workloads[name] = variant_of(found, record.get("size"))  # a sized one's size
        except (KeyError, WorkloadError, OSError) as exc:
            raise UsageError(
                f"the run's workload {name!r} can't be found again ({exc}); "
                "put its file back where it was, or start a new run"
            ) from None
    by_id = {i.id: i for i in impls}
    return [Bench(by_id[str(i)], workloads[str(w)], str(m), int(n))
            for i, w, m, n in manifest["plan"]]  # fmt: skip


def read_lines(path: Path) -> list[dict[str, Any]]:
    """The JSON lines of ``path``; a line that isn't one is left to the report to name."""
    found: list[dict[str, Any]] = []
    if not path.is_file():
        return found
    for line in path.read_text(errors="replace").splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict) and {"impl", "workload", "model", "workers", "pass",
                                         "status"} <= record.keys():  # fmt: skip
            found.append(record)
    return found


def drop_torn_line(path: Path, say: Say) -> None:
    """A last line cut short (power loss) is removed; every whole line stays as it was."""
    if not path.is_file():
        return
    data = path.read_bytes()
    if not data or data.endswith(b"\n"):
        return
    keep = data[: data.rfind(b"\n") + 1]
    store.write_atomic(path, keep)
    say(f"{path.name}: its last line was cut short and is dropped; its attempt is measured again")


def set_aside(run_dir: Path, lines: list[dict[str, Any]], say: Say) -> None:
    """Move the pieces no outcome line vouches for into ``torn/``; none is deleted."""
    keep = store.vouched_pieces(run_dir, lines)
    for piece in sorted((run_dir / "raw").glob("*/*")):
        if piece in keep or not piece.is_file():
            continue
        target = run_dir / "torn" / piece.parent.name / piece.name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(piece), str(target))
        say(f"{piece.relative_to(run_dir)}: cut off before its outcome was recorded; set "
            f"aside in torn/, its cell's pass is measured again")  # fmt: skip


def stop_leftover(run_dir: Path, say: Say) -> None:
    """Kill every benchmark that outlived the run that started it: the process groups of
    the processes whose command line names this run's pieces, never a stranger's.

    They are found in /proc by their command line, not by a file the run wrote: a kill
    between a benchmark's start and that file's write would leave one no file names, and
    it would go on appending to a piece the resumed run measures again.
    """
    store.running_path(run_dir).unlink(missing_ok=True)  # an older gilbench's pid file
    marker = f"{run_dir.resolve()}/raw/".encode()
    for group in sorted(groups_naming(marker)):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(group, signal.SIGKILL)
            say(f"stopped the benchmark (process group {group}) left running by the cut")
        deadline = time.monotonic() + 10
        while leftovers(group) and time.monotonic() < deadline:
            time.sleep(0.05)  # gone before its piece is looked at


@contextmanager
def stop_on_interrupt(say: Say) -> Iterator[None]:
    """The first Ctrl-C stops the matrix after the running benchmark; the second at once."""

    def handler(signum: int, frame: object) -> None:
        if Stop.requested:
            raise KeyboardInterrupt
        Stop.requested = True
        say("Ctrl-C: stopping after the benchmark that is running (Ctrl-C again: at once)")

    Stop.requested = False
    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _same_interpreter(record: Mapping[str, Any]) -> tuple[object, ...]:
    """What must not change between two attempts of one shard: the interpreter, not its path."""
    provenance = record.get("provenance") or {}
    return (record.get("id"), bool(record.get("unavailable")), provenance.get("version"),
            provenance.get("sha256"), record.get("build"))  # fmt: skip


def why_not_taken(manifest: Mapping[str, Any], shard: Mapping[str, Any], impls: list[Impl],
                  here: str) -> str:  # fmt: skip
    """Why an earlier attempt can't be taken up by this one (empty: it can).

    Its cells are kept only if they were measured for this shard of this run, by these
    interpreters, on a machine of this one's kind (the fingerprint that keeps a history's
    series apart, ``here`` this machine's): figures from one are then as comparable as
    two nights' are.
    """
    theirs = manifest.get("shard") or {}
    if manifest.get("version") != 3 or "effort" not in manifest:
        return "it was written by a gilbench without --resume"
    for key in ("index", "of", "batch", "plan"):
        if theirs.get(key) != shard.get(key):
            return f"it measured another night or shard (its {key} differs)"
    ours = sorted(_same_interpreter(store.impl_record(i)) for i in impls)
    if sorted(_same_interpreter(r) for r in manifest["impls"]) != ours:
        return "its interpreters differ from this attempt's"
    machine = manifest.get("machine") or {}
    if machine.get("fingerprint") != here:
        return (f"it ran on a machine of another kind (fingerprint "
                f"{machine.get('fingerprint')}, here {here})")  # fmt: skip
    return ""


def adopt(earlier: Path, run_dir: Path, shard: Mapping[str, Any], impls: list[Impl],
          say: Say) -> float | None:  # fmt: skip
    """Copy into ``run_dir`` the newest attempt of this shard that ``earlier`` holds (a
    re-run CI job's download of the attempts before it) and that can be taken up; the
    seconds its attempts took, or None when there is none (measure from the start)."""
    from harness.machine import machine_info

    here = str(machine_info()["fingerprint"])
    found = []
    for folder in [earlier, *sorted(earlier.glob("*"))] if earlier.is_dir() else []:
        try:
            manifest = store.load_manifest(folder)
        except store.StoreError:
            continue
        why = why_not_taken(manifest, shard, impls, here)
        if why:
            say(f"{folder}: not taken up, {why}; its cells are measured again")
            continue
        found.append((len(read_lines(store.outcomes_path(folder))), folder, manifest))
    if not found:
        return None
    _, folder, manifest = max(found, key=lambda f: (f[0], int(f[2]["shard"].get("attempt", 1))))
    if run_dir.exists():
        raise UsageError(f"{run_dir} exists already: --resume-from copies an earlier attempt "
                         "into a new folder; remove it or name another --into")  # fmt: skip
    shutil.copytree(folder, run_dir)  # a complete attempt stays complete: nothing to add
    store.running_path(run_dir).unlink(missing_ok=True)  # names a process of another machine
    taken = int(manifest["shard"].get("attempt", 1))
    manifest["shard"] = {**manifest["shard"], "attempt": shard["attempt"],
                         "took_up_attempt": taken}  # fmt: skip
    manifest["impls"] = [store.impl_record(i) for i in impls]  # where they are on this machine
    store.write_manifest(run_dir, manifest)
    lines = read_lines(store.outcomes_path(run_dir))
    kept = sum(float(line.get("elapsed_s", 0.0)) for line in lines if int(line["pass"]) >= 1)
    say(f"taking up attempt {taken} of this shard from {folder}: {len(lines)} attempts kept")
    return kept


def resume_hint(run_dir: Path) -> str:
    """The command that continues ``run_dir``."""
    return f"nox -s compare -- --resume {run_dir.name}"
