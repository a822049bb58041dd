"""Resume: a run cut off by SIGKILL or Ctrl-C goes on where it stopped, and loses nothing."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest

from harness import store
from harness.cli import main
from harness.options import UsageError
from harness.provision import cpython
from harness.results import load_run
from harness.run import confine, resume
from tests import faults
from tests.helpers import TEST_WORKLOADS

pytestmark = pytest.mark.real  # it runs real interpreters: never beside another test

ROOT = Path(__file__).resolve().parent.parent
# --no-count: what a kill leaves of the timed passes is the subject (test_counts.py: counts)
SMALL = ["--impl", "3.14", "--workload", f"{TEST_WORKLOADS / 'sleepy.py'},"
         f"{TEST_WORKLOADS / 'tiny.py'}", "--model", "serial,threads", "--workers", "1,2",
         "--sparse", "--no-count"]  # fmt: skip
CELLS = ["impl", "workload", "model", "workers"]


def _start(reports: Path, *argv: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "harness", *argv, "--reports", str(reports)],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)  # fmt: skip


def _lines(run_dir: Path) -> int:
    path = store.outcomes_path(run_dir)
    return len(path.read_text().splitlines()) if path.is_file() else 0


def _the_run(reports: Path) -> Path:
    (run_dir,) = [p for p in reports.iterdir() if store.manifest_path(p).is_file()
                  and not p.is_symlink()]  # fmt: skip
    return run_dir


def _kill_after(proc: subprocess.Popen[str], reports: Path, lines: int, delay: float) -> None:
    """SIGKILL the harness (its benchmark lives on, as after a real kill) once the run has
    ``lines`` outcome lines, ``delay`` seconds later; fails if it ends first."""
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and proc.poll() is None:
        runs = [p for p in reports.glob("2*") if store.manifest_path(p).is_file()]
        if runs and _lines(runs[0]) >= lines:
            break
        time.sleep(0.05)
    time.sleep(delay)
    assert proc.poll() is None, f"the run ended before it could be killed: {proc.stderr}"
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=60)


def _values_per_cell(run_dir: Path) -> dict[tuple[str, str, str, int], int]:
    values = load_run(run_dir).values
    counts = values.groupby(CELLS).size()
    return {(str(i), str(w), str(m), int(n)): int(c) for (i, w, m, n), c in counts.items()}


@pytest.mark.e2e
def test_an_adaptive_run_killed_three_times_and_resumed_ends_with_the_cells_of_one_never_killed(
    cpython_builds: tuple[cpython.CPythonBuild, cpython.CPythonBuild], tmp_path: Path
) -> None:
    """SIGKILL at three moments, each followed by --resume: the same cells and statuses, each
    attempt recorded once, its values counted once, and no torn file. (The fixed profile's
    kills, and a full disk, are in the fault suite, tests/faults.py.)"""
    effort = ["--budget", "40s"]
    whole = _start(tmp_path / "whole", "run", *SMALL, *effort)
    _, err = whole.communicate(timeout=900)
    assert whole.returncode == 0, err[-2000:]
    reference = pd.read_csv((tmp_path / "whole" / "latest") / "summary.csv")

    reports = tmp_path / "cut"
    proc = _start(reports, "run", *SMALL, *effort)
    for lines, delay in ((1, 0.0), (3, 0.7), (5, 1.4)):
        _kill_after(proc, reports, lines, delay)
        assert not (reports / "latest").exists()  # latest names complete runs only
        proc = _start(reports, "compare", "--resume")
    _, err = proc.communicate(timeout=900)
    assert proc.returncode == 0, err[-2000:]
    run_dir = _the_run(reports)
    assert "resuming" in err and (reports / "latest").resolve() == run_dir.resolve()
    summary = pd.read_csv(run_dir / "summary.csv")
    assert summary[[*CELLS, "status"]].equals(reference[[*CELLS, "status"]])
    outcomes = load_run(run_dir).outcomes
    attempts = Counter(zip(*(outcomes[c] for c in [*CELLS, "pass"]), strict=True))
    assert max(attempts.values()) == 1  # no attempt twice
    # each ok attempt's own count of values, as its outcome line gives it (Kalibera and
    # Jones choose 2 to 30 a process after the pilot); results.OUTCOME_COLUMNS drops it
    lines = [json.loads(x) for x in store.outcomes_path(run_dir).read_text().splitlines()]
    ok = pd.DataFrame([x for x in lines if x["status"] == "ok"])
    expected = ok["values"].groupby([ok[c] for c in CELLS]).sum()
    assert len(expected) == (reference["status"] == "ok").sum() > 0  # each ok cell's values
    assert _values_per_cell(run_dir) == {
        (str(i), str(w), str(m), int(n)): int(v) for (i, w, m, n), v in expected.items()
    }
    assert faults.whole(run_dir)


@pytest.mark.e2e
def test_ctrl_c_stops_after_the_running_benchmark_reports_and_says_how_to_resume(
    cpython_builds: tuple[cpython.CPythonBuild, cpython.CPythonBuild], tmp_path: Path
) -> None:
    """SIGINT: the running benchmark ends and is kept, the report is written, exit 130 with
    the command that resumes; that command then completes the run."""
    proc = _start(tmp_path, "run", *SMALL, "--quick")
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and not list(tmp_path.glob("2*/raw/3.14/*.json")):
        time.sleep(0.05)  # the second benchmark is under way: its piece is being written
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=300)
    run_dir = _the_run(tmp_path)
    assert proc.returncode == 130, err[-2000:]
    assert f"Continue with: nox -s compare -- --resume {run_dir.name}" in err
    assert (run_dir / "index.html").is_file() and not store.is_complete(run_dir)
    kept = _lines(run_dir)
    assert kept >= 1
    done = subprocess.run([sys.executable, "-m", "harness", "compare", "--resume", run_dir.name,
                           "--reports", str(tmp_path)], cwd=ROOT, capture_output=True,
                          text=True, timeout=900, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert f"resuming {run_dir}: {kept} attempts kept" in done.stderr
    assert store.is_complete(run_dir) and _lines(run_dir) == 12  # 4 cells x 3 passes


@pytest.mark.e2e
def test_two_runs_at_once_get_their_own_folders_and_two_reports_of_one_run_dont_tear_it(
    cpython_builds: tuple[cpython.CPythonBuild, cpython.CPythonBuild], tmp_path: Path
) -> None:
    """Two compares started together both complete in separate folders, latest names a
    complete one; then two report rebuilds of one run at once leave every file whole."""
    tiny = ["--impl", "3.14", "--workload", str(TEST_WORKLOADS / "tiny.py"), "--model",
            "serial", "--workers", "1", "--quick"]  # fmt: skip
    both = [_start(tmp_path, "run", *tiny) for _ in range(2)]
    for proc in both:
        _, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, err[-2000:]
    runs = sorted(p for p in tmp_path.iterdir() if not p.is_symlink())
    assert len(runs) == 2 and all(store.is_complete(run) for run in runs)
    assert (tmp_path / "latest").resolve() in [run.resolve() for run in runs]
    rebuilds = [subprocess.Popen([sys.executable, "-m", "harness", "report", str(runs[0])],
                                 cwd=ROOT, stderr=subprocess.PIPE, text=True)
                for _ in range(2)]  # fmt: skip
    for proc in rebuilds:
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err[-2000:]
    assert faults.whole(runs[0])
    assert "<html" in (runs[0] / "index.html").read_text()
    assert not list(runs[0].glob(".*.tmp")) and not list(runs[0].glob("pyperf/.*.tmp"))


def _run_folder(reports: Path, name: str, complete: bool) -> Path:
    run_dir = reports / name
    run_dir.mkdir(parents=True)
    store.write_manifest(run_dir, {"format": store.FORMAT, "version": 3})
    if complete:
        store.mark_complete(run_dir)
    return run_dir


def test_resume_takes_the_newest_unfinished_run_and_refuses_a_complete_one(
    tmp_path: Path,
) -> None:
    """--resume alone: the newest run without its ``complete`` marker; a complete run named
    explicitly, or none unfinished, is one line that says what to do."""
    older = _run_folder(tmp_path, "20261201-000000", complete=False)
    _run_folder(tmp_path, "20261202-000000", complete=True)
    assert resume.find(tmp_path, "") == older.resolve()
    with pytest.raises(UsageError, match=r"is complete: nothing to resume; 'nox -s compare'"):
        resume.find(tmp_path, "20261202-000000")
    store.mark_complete(older)
    with pytest.raises(UsageError, match=r"^no unfinished run in .*: nothing to resume"):
        resume.find(tmp_path, "")


def test_pieces_no_outcome_line_vouches_for_are_set_aside_not_deleted(tmp_path: Path) -> None:
    """The attempt a kill cut off goes to torn/; the attempts with an outcome line stay."""
    kept = store.piece_path(tmp_path, "3.14", "nbody/serial/1", 1)
    cut = store.piece_path(tmp_path, "3.14", "nbody/serial/1", 2)
    kept.parent.mkdir(parents=True)
    for path in (kept, store.paired_path(kept), cut, store.paired_path(cut)):
        path.write_text("{}\n")
    line = {"impl": "3.14", "workload": "nbody", "model": "serial", "workers": 1, "pass": 1,
            "status": "ok"}  # fmt: skip
    said: list[str] = []
    resume.set_aside(tmp_path, [line], said.append)
    assert kept.is_file() and store.paired_path(kept).is_file() and not cut.exists()
    assert (tmp_path / "torn" / "3.14" / cut.name).is_file()
    assert len(said) == 2 and "set aside in torn/" in said[0]


def test_resume_stops_every_benchmark_naming_its_pieces_and_no_other_run_s(
    tmp_path: Path,
) -> None:
    """Benchmarks left by a kill are found by their command lines, with no pid file (a kill
    before it was written), and stopped with their groups; another run's benchmark, and a
    user's command naming a piece, are left alone."""
    ours, theirs = tmp_path / "20261201-000000", tmp_path / "20261201-000000-2"

    def benchmark(run_dir: Path) -> subprocess.Popen[bytes]:
        piece = store.piece_path(run_dir, "3.14", "tiny/serial/1", 1)
        code = "import subprocess, sys, time; subprocess.Popen(['sleep', '60']); time.sleep(60)"
        return subprocess.Popen([sys.executable, "-c", code, "--append", str(piece)],
                                start_new_session=True)  # fmt: skip

    mine, stranger = benchmark(ours), benchmark(theirs)
    piece = store.piece_path(ours, "3.14", "tiny/serial/1", 1)
    reader = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", str(piece)])
    try:
        time.sleep(0.5)  # its child, which names no piece, is in its group
        said: list[str] = []
        resume.stop_leftover(ours, said.append)
        assert mine.wait(timeout=10) == -signal.SIGKILL and not confine.leftovers(mine.pid)
        assert stranger.poll() is None and len(said) == 1 and f"group {mine.pid}" in said[0]
        assert reader.poll() is None
    finally:
        os.killpg(stranger.pid, signal.SIGKILL)
        reader.kill()
        stranger.wait(), reader.wait()


def test_a_last_line_cut_short_is_dropped_and_whole_lines_stay(tmp_path: Path) -> None:
    """Power loss mid-line: the torn tail goes, every whole line is kept byte for byte."""
    path = tmp_path / "outcomes.jsonl"
    path.write_bytes(b'{"a": 1}\n{"b": 2}\n{"c": ')
    said: list[str] = []
    resume.drop_torn_line(path, said.append)
    assert path.read_bytes() == b'{"a": 1}\n{"b": 2}\n' and len(said) == 1
    resume.drop_torn_line(path, said.append)
    assert len(said) == 1  # a whole file is left as it is


@pytest.mark.parametrize(
    ("argv", "flag"),
    [(["--workload", "nbody"], "--workload"), (["--quick"], "--quick"),
     (["--workers", "1,2"], "--workers"), (["--precision", "1%"], "--precision"),
     (["--margin", "10%"], "--margin")],
)  # fmt: skip
def test_resume_with_a_flag_that_changes_the_run_is_one_line_and_exit_2(
    argv: list[str], flag: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """A resumed run goes on as planned: a selection flag beside --resume is refused."""
    assert main(["compare", "--resume", *argv, "--reports", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err == (f"gilbench: error: --resume goes on with the run's own selection and "
                   f"profile; drop {flag} (only --budget and --timeout may change)\n")  # fmt: skip


def _attempt(tmp: Path, name: str, **changes: object) -> Path:
    """An earlier attempt's folder of shard 1/2, as a re-run job downloads it."""
    from harness.machine import machine_info

    folder = tmp / "earlier" / name
    folder.mkdir(parents=True)
    manifest = {"format": store.FORMAT, "version": 3, "effort": {"name": "quick"},
                "impls": [], "plan": [["3.14", "tiny", "serial", 1]], "selection": {},
                "workloads": [], "machine": {"fingerprint": machine_info()["fingerprint"]},
                "shard": {"index": 1, "of": 2, "batch": "7", "attempt": 1,
                          "plan": [["3.14", "tiny", "serial", 1]]}}  # fmt: skip
    for key, value in changes.items():
        target = manifest["shard"] if key in manifest["shard"] else manifest
        target[key] = value  # type: ignore[index]
    store.write_manifest(folder, manifest)
    return folder


def test_a_re_run_takes_up_only_an_attempt_of_its_shard_measured_on_a_machine_of_its_kind(
    tmp_path: Path,
) -> None:
    """Another shard, batch or machine fingerprint is refused with its reason; none found
    means measuring from the start; the newest fitting attempt is copied in."""
    from harness.machine import machine_info

    shard = {"index": 1, "of": 2, "batch": "7", "attempt": 3,
             "plan": [["3.14", "tiny", "serial", 1]]}  # fmt: skip
    _attempt(tmp_path, "other-machine", machine={"fingerprint": "0123456789ab"})
    _attempt(tmp_path, "other-shard", index=2)
    _attempt(tmp_path, "other-night", batch="6")
    said: list[str] = []
    here = machine_info()["fingerprint"]
    assert resume.adopt(tmp_path / "earlier", tmp_path / "run", shard, [], said.append) is None
    assert [line.split(": not taken up, ")[1].split("; its cells")[0] for line in said] == [
        f"it ran on a machine of another kind (fingerprint 0123456789ab, here {here})",
        "it measured another night or shard (its batch differs)",
        "it measured another night or shard (its index differs)",
    ]
    assert not (tmp_path / "run").exists()
    assert resume.adopt(tmp_path / "absent", tmp_path / "run", shard, [], said.append) is None
    good = _attempt(tmp_path, "shard-1-attempt-2", attempt=2)
    store.append_line(store.outcomes_path(good), {"impl": "3.14", "workload": "tiny",
                      "model": "serial", "workers": 1, "pass": 1, "status": "ok",
                      "elapsed_s": 2.5})  # fmt: skip
    (good / "running").write_text("12345\n")
    kept = resume.adopt(tmp_path / "earlier", tmp_path / "run", shard, [], said.append)
    assert kept == 2.5
    taken = store.load_manifest(tmp_path / "run")["shard"]
    assert (taken["attempt"], taken["took_up_attempt"]) == (3, 2)
    assert not (tmp_path / "run" / "running").exists()  # a process of the other machine
