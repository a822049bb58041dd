"""The fault-injection suite (``nox -s faults``, which the nightly workflow runs; the test
command runs all of it but the broken build): real faults injected into real small runs on
the CPython build, and a table of what survived.

- SIGKILL at random moments of a small compare, each followed by ``--resume``;
- a full disk: a real tmpfs of 16 MiB, filled to just over what one attempt needs (root
  only; elsewhere the row says why it was skipped);
- corrupt files in a finished run: a torn raw piece, garbage lines in outcomes.jsonl,
  cpu_speed.jsonl and a paired file, each followed by ``report``;
- misbehaving workloads measured beside a good one: a segfault, MemoryError, a flood of
  output, a random checksum, a raise, a fork that outlives it, a thread that never ends;
- a CI job cancelled mid-way and re-run on a fresh runner, which takes up the first
  attempt's upload (``--resume-from``);
- a deleted virtualenv, made again with one line;
- a damaged CPython build in a cache of its own, named and built again (about 3 minutes
  here: left out of the test command, whose other faults take about 2).

A row's "cells lost" counts attempts recorded before a fault that are gone after it, and
cells the uninterrupted run measured that the faulted one didn't. Goal: every fault
survived, 0 cells lost.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyperf

from harness import store
from harness.results import load_run
from harness.run.confine import groups_naming

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "data" / "workloads"
SMALL = ["--impl", "3.14", "--workload", f"{FIXTURES / 'sleepy.py'},{FIXTURES / 'tiny.py'}",
         "--model", "serial,threads", "--workers", "1,2", "--sparse", "--quick"]  # fmt: skip
CELLS = ["impl", "workload", "model", "workers"]


@dataclass
class Row:
    """One fault: how often it was injected, how many runs came through, what was lost."""

    fault: str
    injected: int
    survived: int
    lost: int
    note: str = ""

    @property
    def ok(self) -> bool:
        """Injected at least once (a fault never injected is not survived), every time
        survived, nothing lost."""
        return self.injected > 0 and self.survived == self.injected and self.lost == 0

    @property
    def skipped(self) -> bool:
        """Not injected, for a reason the row gives (no root for a tmpfs, no build to break)."""
        return self.injected == 0 and self.note.startswith("skipped")


def harness(reports: Path, *argv: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "harness", *argv, "--reports", str(reports)],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True)  # fmt: skip


def the_run(reports: Path) -> Path:
    runs = [p for p in reports.iterdir() if store.manifest_path(p).is_file() and not p.is_symlink()]
    assert len(runs) == 1, runs
    return runs[0]


def attempts(run_dir: Path) -> set[tuple[str, str, str, int, int]]:
    """The attempts a run recorded: (impl, workload, model, workers, pass)."""
    path = store.outcomes_path(run_dir)
    found = set()
    for line in path.read_text().splitlines() if path.is_file() else []:
        record = json.loads(line)
        found.add((record["impl"], record["workload"], record["model"], int(record["workers"]),
                   int(record["pass"])))  # fmt: skip
    return found


def whole(run_dir: Path) -> bool:
    """No torn file: every JSON file, JSON line and vouched raw piece of the run parses."""
    try:
        for path in run_dir.rglob("*"):
            if "torn" in path.relative_to(run_dir).parts or not path.is_file():
                continue
            if path.suffix == ".json" and path.parent.parent.name == "raw":
                pyperf.BenchmarkSuite.load(str(path))
            elif path.suffix == ".json":
                json.loads(path.read_text())
            elif path.suffix == ".jsonl":
                for line in path.read_text().splitlines():
                    json.loads(line)
    except (ValueError, OSError, KeyError):
        return False
    return True


def ok_cells(run_dir: Path) -> set[tuple[str, str, str, int]]:
    summary = pd.read_csv(run_dir / "summary.csv")
    ok = summary[summary["status"] == "ok"]
    return {(str(i), str(w), str(m), int(n)) for i, w, m, n in ok[CELLS].itertuples(index=False)}


def reference(work: Path) -> Path:
    """An uninterrupted small run: what every faulted run must end up with."""
    done = harness(work / "reference", "run", *SMALL)
    _, err = done.communicate(timeout=900)
    if done.returncode != 0:
        raise SystemExit(f"the reference run failed: {err[-2000:]}")
    return the_run(work / "reference")


def kills(work: Path, expected: Path, times: int, rng: random.Random) -> Row:
    """SIGKILL the harness (its benchmark lives on, as after a real kill) at a random moment
    of each of ``times`` stretches of the run, then --resume. A kill is survived when every
    attempt recorded before it is in the finished run, which is whole and complete."""
    reports = work / "killed"
    total = len(attempts(expected))
    proc, kept_before = harness(reports, "run", *SMALL), []
    for _ in range(times):
        wait_for = rng.randint(1, total - 2)
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and proc.poll() is None:
            runs = [p for p in reports.glob("2*") if store.manifest_path(p).is_file()]
            if runs and len(attempts(runs[0])) >= wait_for:
                break
            time.sleep(0.05)
        time.sleep(rng.uniform(0.0, 1.5))
        if proc.poll() is not None:
            break  # it ended first: no fault in this stretch
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=60)
        kept_before.append(attempts(the_run(reports)))
        proc = harness(reports, "compare", "--resume")
    _, err = proc.communicate(timeout=900)
    run_dir = the_run(reports)
    final = attempts(run_dir)
    sound = proc.returncode == 0 and store.is_complete(run_dir) and whole(run_dir)
    survived = sum(sound and before <= final for before in kept_before)
    lost = sum(len(before - final) for before in kept_before)
    lost += len(ok_cells(expected) - ok_cells(run_dir)) if sound else total
    twice = len(load_run(run_dir).outcomes) - len(final)
    note = f"{twice} attempts recorded twice" if twice else ("" if sound else err[-150:])
    return Row("SIGKILL at a random moment, then --resume", len(kept_before), survived, lost,
               note)  # fmt: skip


FULL_DISK = "full disk (16 MiB tmpfs), then --resume"


def full_disk(work: Path, expected: Path) -> Row:
    """A real tmpfs left with a little over what one attempt needs; freed, then --resume."""
    name = FULL_DISK
    if os.geteuid() != 0:
        return Row(name, 0, 0, 0, "skipped: mounting a tmpfs needs root")
    disk = work / "disk"
    disk.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(disk)], check=True)
    try:
        ballast = disk / "ballast"
        ballast.write_bytes(b"\0" * (shutil.disk_usage(disk).free - store.MIN_FREE - 65536))
        reports = disk / "reports"
        cut = harness(reports, "run", *SMALL)
        _, err = cut.communicate(timeout=600)
        run_dir = the_run(reports)
        lines = err.strip().splitlines()
        said = lines[-1] if lines else ""
        named = said.startswith("gilbench: error: no space left in")
        one_line = cut.returncode == 2 and "Traceback" not in err and named and said.endswith(
            f"--resume {run_dir.name}")  # fmt: skip
        before = attempts(run_dir)
        intact = whole(run_dir)
        ballast.unlink()
        done = harness(reports, "compare", "--resume")
        _, err = done.communicate(timeout=600)
        survived = one_line and intact and done.returncode == 0 and store.is_complete(run_dir)
        lost = len(before - attempts(run_dir)) + len(ok_cells(expected) - ok_cells(run_dir))
        return Row(name, 1, int(survived), lost, "" if one_line else f"said: {said[:120]}")
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


TINY = ["--workload", str(FIXTURES / "tiny.py"), "--model", "serial", "--workers", "1", "--quick"]


def rerun(work: Path) -> Row:
    """A CI job cancelled mid-way, re-run on a fresh runner: the first attempt is SIGKILLed
    with its benchmark (the runner is gone), its folder becomes the upload the re-run
    downloads, and the re-run (empty reports/) takes it up with --resume-from."""
    name, earlier = "shard-1-of-1", work / "earlier-attempts"
    argv = ["compare", "--shard", "1/1", "--into", name, "--resume-from", str(earlier), *TINY,
            "--batch", "faults"]  # fmt: skip
    first = work / "attempt-1"
    proc = harness(first, *argv, "--attempt", "1")
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and proc.poll() is None:
        if len(attempts(first / name)) >= 2:
            break
        time.sleep(0.05)
    cut = proc.poll() is None  # the kill lands mid-way, not on an attempt that ended
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=60)
    for group in groups_naming(f"{(first / name).resolve()}/raw/".encode()):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(group, signal.SIGKILL)
    before = attempts(first / name)
    shutil.copytree(first / name, earlier / f"{name}-attempt-1")
    second = subprocess.run([sys.executable, "-m", "harness", *argv, "--attempt", "2",
                             "--reports", str(work / "attempt-2")], cwd=ROOT,
                            capture_output=True, text=True, timeout=900, check=False)  # fmt: skip
    run_dir = work / "attempt-2" / name
    sound = second.returncode == 0 and store.is_complete(run_dir) and whole(run_dir)
    shard = store.load_manifest(run_dir)["shard"] if sound else {}
    sound = sound and (shard["attempt"], shard.get("took_up_attempt")) == (2, 1)
    planned = {tuple(c) for c in store.load_manifest(run_dir)["plan"]} if sound else set()
    available = {str(r["id"]) for r in store.load_manifest(run_dir)["impls"]
                 if not r["unavailable"]} if sound else set()  # fmt: skip
    lost = len(before - attempts(run_dir)) if sound else len(before)
    lost += len({c for c in planned if c[0] in available} - ok_cells(run_dir)) if sound else 0
    said = "" if sound else (second.stderr.strip().splitlines() or ["no output"])[-1][:150]
    injected = int(cut and bool(before))  # killed mid-way, with attempts to take up
    if not injected:
        said = "not injected: the first attempt ended, or recorded nothing, before the kill"
    return Row("cancelled CI job, re-run elsewhere (--resume-from)", injected,
               int(sound) * injected, lost, said)  # fmt: skip


def deleted_venv(work: Path, expected: Path) -> Row:
    """The virtualenv a finished run measured with is deleted, then a run: one line names
    it, it is made again, and the run measures as before."""
    from harness.provision.venvs import venv_dir
    from harness.run.resume import impl_of

    record = next(r for r in store.load_manifest(expected)["impls"] if r["id"] == "3.14")
    where = venv_dir(impl_of(record))
    shutil.rmtree(where)
    done = subprocess.run([sys.executable, "-m", "harness", "run", "--impl", "3.14", *TINY,
                           "--reports", str(work / "venv")], cwd=ROOT, capture_output=True,
                          text=True, timeout=600, check=False)  # fmt: skip
    named = [line for line in done.stderr.splitlines() if f"{where} was deleted" in line]
    run_dir = the_run(work / "venv")
    cell = ("3.14", "tiny", "serial", 1)
    survived = done.returncode == 0 and len(named) == 1 and cell in ok_cells(run_dir)
    return Row("deleted virtualenv, then a run", 1, int(survived), int(cell not in ok_cells(
        run_dir)), "" if named else f"said: {done.stderr[-150:]}")  # fmt: skip


def broken_build(work: Path) -> Row:
    """A cached CPython build whose interpreter was damaged (truncated), in a cache of its
    own: a run names it, builds it again from the cached tarball, and measures with it."""
    from harness.provision import cpython

    name = "broken cached CPython build, then a run"
    built = cpython.find_builds()
    if built is None:
        return Row(name, 0, 0, 0, "skipped: no cached CPython build to break")
    default, _ = built
    cache = work / "cache"
    root = cache / "cpython" / default.prefix.parent.name
    shutil.copytree(cpython.cache_dir() / "sources", cache / "sources")
    for kind in ("default", "freethreaded"):
        shutil.copytree(default.prefix.parent / kind, root / kind, symlinks=True)
    python = root / "default" / default.python.relative_to(default.prefix)
    python.write_bytes(python.read_bytes()[:4096])  # a build half overwritten
    done = subprocess.run([sys.executable, "-m", "harness", "run", "--impl", "3.14", *TINY,
                           "--reports", str(work / "rebuilt")], cwd=ROOT, capture_output=True,
                          text=True, timeout=1800, check=False,
                          env={**os.environ, "GILBENCH_CACHE": str(cache)})  # fmt: skip
    named = [line for line in done.stderr.splitlines() if "is broken" in line]
    cell = ("3.14", "tiny", "serial", 1)
    ok = done.returncode == 0 and cell in ok_cells(the_run(work / "rebuilt"))
    survived = ok and len(named) == 1 and not cpython.broken(python, 0)
    return Row(name, 1, int(survived), int(not ok),
               "" if named else f"said: {done.stderr[-150:]}")  # fmt: skip


def _tear_piece(run_dir: Path) -> None:
    piece = sorted((run_dir / "raw").glob("*/*.json"))[0]
    piece.write_bytes(piece.read_bytes()[:200])


def _garbage(path: Callable[[Path], Path]) -> Callable[[Path], None]:
    def damage(run_dir: Path) -> None:
        with path(run_dir).open("a") as out:
            out.write("\x00garbage {not json\n")

    return damage


# Each damage done to a finished run, and how many of its ok cells it may cost.
DAMAGES: dict[str, tuple[Callable[[Path], None], int]] = {
    "torn raw piece, then report": (_tear_piece, 1),
    "garbage line in outcomes.jsonl": (_garbage(store.outcomes_path), 0),
    "garbage line in cpu_speed.jsonl": (_garbage(store.cpu_speed_path), 0),
    "garbage line in a paired file": (_garbage(lambda d: store.paired_files(d)[0]), 0),
}


def corrupt(work: Path, finished: Path) -> list[Row]:
    """Each damage to a copy of a finished run, then ``report``: one line naming the file,
    the report rendered, and no cell lost but the one a torn piece hits."""
    rows = []
    for number, (fault, (damage, hits)) in enumerate(DAMAGES.items()):
        copy = work / "corrupt" / str(number) / finished.name
        shutil.rmtree(copy.parent, ignore_errors=True)
        shutil.copytree(finished, copy)
        damage(copy)
        done = subprocess.run([sys.executable, "-m", "harness", "report", str(copy)], cwd=ROOT,
                              capture_output=True, text=True, timeout=300, check=False)  # fmt: skip
        named = [line for line in done.stderr.splitlines() if "skipped" in line]
        survived = done.returncode == 0 and len(named) == 1 and (copy / "index.html").is_file()
        lost = max(0, len(ok_cells(finished) - ok_cells(copy)) - hits)
        said = named[0].replace(f"{copy}/", "").removeprefix("gilbench: ") if named else ""
        rows.append(Row(fault, 1, int(survived), lost, f"said: {said[:70]}..." if said else ""))
    return rows


# What each misbehaving workload must be recorded as: its status, and words of its reason.
EXPECTED = {
    "segfaults": ("crashed", "SIGSEGV"),
    "eats_memory": ("crashed", "MemoryError"),
    "floods_output": ("crashed", ""),
    "random_checksum": ("wrong-checksum", "expected 7"),
    "crashes": ("crashed", "ZeroDivisionError"),
    "leaves_a_child": ("", ""),  # crashed (its stray killed) or timeout (it held a pipe)
    "leaves_a_thread": ("timeout", "still running after"),
}


def misbehaving(work: Path) -> Row:
    """The misbehaving workloads and tiny in one run: each cell its expected status with
    its reason, the run complete, tiny's cell measured, no process of theirs left."""
    paths = ",".join(str(FIXTURES / f"{name}.py") for name in ("tiny", *EXPECTED))
    done = harness(work / "misbehaving", "run", "--impl", "3.14", "--workload", paths,
                   "--model", "serial", "--workers", "1", "--quick", "--timeout", "10")  # fmt: skip
    done.communicate(timeout=900)
    run_dir = the_run(work / "misbehaving")
    summary = pd.read_csv(run_dir / "summary.csv", keep_default_na=False).set_index("workload")
    wrong = []
    for name, (status, words) in EXPECTED.items():
        got, why = str(summary.loc[name, "status"]), str(summary.loc[name, "detail"])
        if got == "ok" or not why or (status and got != status) or words not in why:
            wrong.append(f"{name}: {got} ({why[:60]})")
    stray = [p for p in Path("/proc").glob("[0-9]*/cmdline")
             if p.is_file() and str(run_dir).encode() in _read(p)]  # fmt: skip
    lost = int(summary.loc["tiny", "status"] != "ok")
    complete = done.returncode == 1 and store.is_complete(run_dir)  # 1: failures recorded
    note = "; ".join(wrong) + (f"; {len(stray)} processes left" if stray else "")
    survived = len(EXPECTED) - len(wrong) if complete and not stray else 0
    return Row("misbehaving workloads, each beside a good one", len(EXPECTED), survived, lost,
               note)  # fmt: skip


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError:
        return b""


def format_table(rows: list[Row]) -> str:
    width = max(len(r.fault) for r in rows)
    lines = [f"{'fault':<{width}}  injected  survived  cells lost  note"]
    for row in rows:
        lines.append(f"{row.fault:<{width}}  {row.injected:>8}  {row.survived:>8}  "
                     f"{row.lost:>10}  {row.note}")  # fmt: skip
    survived = sum(r.survived for r in rows)
    injected = sum(r.injected for r in rows)
    lost = sum(r.lost for r in rows)
    met = "met" if all(r.ok or r.skipped for r in rows) else "NOT met"
    lines.append(f"{'all':<{width}}  {injected:>8}  {survived:>8}  {lost:>10}  "
                 f"goal (every fault survived, 0 cells lost): {met}")  # fmt: skip
    return "\n".join(lines) + "\n"


def run_suite(work: Path, kills_n: int = 3, seed: int = 20261202,
              long: bool = True) -> list[Row]:  # fmt: skip
    """Every fault; ``long=False`` leaves out the two that take longest: the cancelled CI
    job (a compare of every implementation, twice) and the damaged build (a rebuild)."""
    expected = reference(work)
    rows = [kills(work, expected, kills_n, random.Random(seed)), full_disk(work, expected)]
    rows += corrupt(work, expected)
    rows += [misbehaving(work), deleted_venv(work, expected)]
    if long:
        rows += [rerun(work), broken_build(work)]
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=3, help="SIGKILLs in the killed run")
    parser.add_argument("--seed", type=int, default=20261202, help="for the kill moments")
    parser.add_argument("--short", action="store_true",
                        help="leave out the re-run CI job and the broken build")  # fmt: skip
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="gilbench-faults-") as tmp:
        rows = run_suite(Path(tmp), args.kills, args.seed, not args.short)
    print(format_table(rows), end="")
    return 0 if all(r.ok or r.skipped for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
