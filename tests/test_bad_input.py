"""Every mistake a user can make gets one line that says what was wrong and what to do,
exit status 2 and no traceback, before anything is built or measured.

One table, one case per distinct mistake; the lines are pinned in a golden file
(bad-input.txt, GILBENCH_UPDATE_GOLDEN=1 rewrites it), with this test's folder as <tmp>.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from harness import store
from harness.cli import main
from tests.helpers import LEGACY, QUICK, TEST_WORKLOADS, assert_golden

WELL_FORMED = 'CATEGORY = "cpu"\nDESCRIPTION = "d"\nCHECKSUM = 1\n\ndef kernel():\n    return 1\n'
SIZED = ('CATEGORY = "payload"\nDESCRIPTION = "d"\nPAYLOADS = ("1KiB",)\n\n'
         "def make_input(size):\n    return b'a' * size\n\ndef kernel(data):\n    return data\n\n"
         "def expected_output(size):\n    return b'a' * size\n")  # fmt: skip
Case = Callable[[Path], list[str]]
ROOT = Path(__file__).resolve().parent.parent


def _workload(text: str | bytes, name: str = "odd.py") -> Case:
    def make(tmp: Path) -> list[str]:
        path = tmp / name
        path.write_bytes(text if isinstance(text, bytes) else text.encode())
        return ["compare", "--workload", str(path), "--list"]

    return make


def _swap(old: str, new: str) -> Case:
    return _workload(WELL_FORMED.replace(old, new))


def _source(content: bytes | None, name: str, *extra: str) -> Case:
    def make(tmp: Path) -> list[str]:
        path = tmp / name
        if content is None:
            path.mkdir()
        else:
            path.write_bytes(content)
        return ["compare", "--cpython-source", str(path), *extra, "--reports", str(tmp)]

    return make


def _run_json(text: str | None) -> Case:
    def make(tmp: Path) -> list[str]:
        run = tmp / "run"
        run.mkdir()
        if text is not None:
            (run / "run.json").write_text(text)
        return ["report", str(run)]

    return make


def _legacy(tmp: Path) -> list[str]:
    shutil.copytree(LEGACY, tmp / "old")
    return ["report", str(tmp / "old")]


def _metadata_version(tmp: Path) -> list[str]:
    shutil.copytree(QUICK, tmp / "run")
    raw = store.raw_files(tmp / "run")[0]
    raw.write_text(re.sub(r'"gilbench_version": ?1\b', '"gilbench_version": 7', raw.read_text()))
    return ["report", str(tmp / "run")]


def _complete_run(tmp: Path) -> list[str]:
    run = tmp / "20261202-000000"
    run.mkdir()
    store.write_manifest(run, {"format": store.FORMAT, "version": 3})
    store.mark_complete(run)
    return ["compare", "--resume", run.name, "--reports", str(tmp)]


def _empty_shard(tmp: Path) -> list[str]:
    (tmp / "shard-1-of-2").mkdir()
    return ["merge", str(tmp / "shard-1-of-2"), "--into", str(tmp / "merged")]


def _not_a_shard(tmp: Path) -> list[str]:
    shutil.copytree(QUICK, tmp / "shard-1-of-2")
    return ["merge", str(tmp / "shard-1-of-2"), "--into", str(tmp / "merged")]


def _merged_into_a_run(tmp: Path) -> list[str]:
    shutil.copytree(QUICK, tmp / "taken")
    (tmp / "shard-1-of-2").mkdir()
    return ["merge", str(tmp / "shard-1-of-2"), "--into", str(tmp / "taken")]


def _argv(*argv: str) -> Case:
    return lambda tmp: [*argv]


CASES: dict[str, Case] = {
    # the command line
    "unknown-flag": _argv("compare", "--fastest"),
    "workers-zero": _argv("compare", "--workers", "0"),
    "workers-words": _argv("compare", "--workers", "two"),
    "unknown-model": _argv("compare", "--model", "teleport"),
    "unknown-workload": _argv("compare", "--workload", "no_such_workload"),
    "timeout-negative": _argv("compare", "--timeout", "-3"),
    "timeout-zero": _argv("compare", "--timeout", "0"),
    "timeout-words": _argv("compare", "--timeout", "soon"),
    "precision-zero": _argv("compare", "--precision", "0"),
    "precision-over-100": _argv("compare", "--precision", "150%"),
    "margin-zero": _argv("compare", "--margin", "0%"),
    "margin-words": _argv("compare", "--margin", "tight"),
    "budget-no-unit": _argv("compare", "--budget", "90"),
    "budget-words": _argv("compare", "--budget", "soon"),
    "precision-with-quick": _argv("compare", "--quick", "--precision", "1%"),
    "unknown-profile": _argv("compare", "--profile", "fastest"),
    "unpinned-cpython": _argv("compare", "--cpython", "9.9.9"),
    "cpython-not-a-version": _argv("compare", "--cpython", "latest"),
    "quick-unpinned-cpython": _argv("compare", "--quick", "--cpython", "9.9.9"),
    "unknown-impl": _argv("run", "--impl", "cpython2"),
    "shard-beyond": _argv("compare", "--shard", "3/2"),
    "resume-from-without-shard": _argv("compare", "--resume-from", "earlier-attempts"),
    "shard-words": _argv("compare", "--shard", "first"),
    "resume-with-workload": _argv("compare", "--resume", "--workload", "nbody"),
    "resume-nothing": lambda tmp: ["compare", "--resume", "--reports", str(tmp)],
    "resume-no-such-run": lambda tmp: ["compare", "--resume", "2099", "--reports", str(tmp)],
    "resume-complete-run": _complete_run,
    "cpus-zero-seconds": _argv("cpus", "--seconds", "0"),
    "payload-words": _argv("compare", "--workload", "payload_bytes", "--payload", "big"),
    "payload-megabytes": _argv("compare", "--workload", "payload_bytes", "--payload", "1MB"),
    "payload-too-large": _argv("compare", "--workload", "payload_bytes", "--payload", "1GiB"),
    "payload-fraction": _argv("compare", "--workload", "payload_bytes", "--payload", "0.5"),
    "payload-without-workload": _argv("compare", "--workload", "cpu", "--payload", "1KiB"),
    "task-size-no-unit": _argv("compare", "--workload", "task_size", "--task-size", "10"),
    "task-size-zero": _argv("compare", "--workload", "task_size", "--task-size", "0ms"),
    "task-size-without-workload": _argv("compare", "--workload", "nbody", "--task-size", "1ms"),
    # workload files
    "workload-syntax-error": lambda tmp: ["compare", "--workload",
                                          str(TEST_WORKLOADS / "bad_syntax.py"), "--list"],
    "workload-no-kernel": lambda tmp: ["compare", "--workload",
                                       str(TEST_WORKLOADS / "no_kernel.py"), "--list"],
    "workload-missing-category": _swap('CATEGORY = "cpu"\n', ""),
    "workload-missing-checksum": _swap("CHECKSUM = 1\n", ""),
    "workload-non-literal": _swap('CATEGORY = "cpu"', "CATEGORY = str(1)"),
    "workload-category-number": _swap('CATEGORY = "cpu"', "CATEGORY = 42"),
    "workload-category-blank": _swap('CATEGORY = "cpu"', 'CATEGORY = "  "'),
    "workload-description-none": _swap('DESCRIPTION = "d"', "DESCRIPTION = None"),
    "workload-checksum-list": _swap("CHECKSUM = 1", "CHECKSUM = [1]"),
    "workload-checksum-bool": _swap("CHECKSUM = 1", "CHECKSUM = True"),
    "workload-tags-string": _swap("CHECKSUM = 1", 'CHECKSUM = 1\nTAGS = "quick"'),
    "workload-sized-no-expected": _workload(SIZED.replace("def expected_output", "def other")),
    "workload-sized-no-sizes": _workload(SIZED.replace('PAYLOADS = ("1KiB",)\n', "")),
    "workload-sized-both-sizes": _workload(SIZED + 'TASK_SIZES = ("1ms",)\n'),
    "workload-sized-bad-size": _workload(SIZED.replace('("1KiB",)', '("lots",)')),
    "workload-sized-sizes-string": _workload(SIZED.replace('("1KiB",)', '"1KiB"')),
    "workload-empty": _workload(""),
    "workload-binary": _workload(b"\x7fELF\x02\x01\x01\x00\x00\x00\x00"),
    "workload-not-utf8": _workload(b'CATEGORY = "caf\xe9"\n'),
    "workload-directory": lambda tmp: ["compare", "--workload", str(tmp), "--list"],
    "workload-not-python": _workload("x = 1\n", name="notes.txt"),
    # tarballs and source folders
    "source-missing": lambda tmp: ["compare", "--cpython-source",
                                   str(tmp / "Python-3.14.7.tar.xz")],
    "source-no-pin": _source(b"not a tarball\n", "Python-3.14.7.tar.xz"),
    "source-torn-xz": _source(b"\xfd7zXZ\x00\x00torn", "src.tar.xz"),
    "source-unverified-unreadable": _source(b"\xfd7zXZ\x00\x00torn", "src.tar.xz",
                                            "--unverified-source"),
    "source-folder-not-cpython": _source(None, "cpython"),
    # stored results
    "report-no-run": lambda tmp: ["report", str(tmp / "nothing")],
    "run-json-missing": _run_json(None),
    "run-json-corrupt": _run_json("{not json"),
    "run-json-not-a-manifest": _run_json("[1, 2]"),
    "run-json-unknown-version": _run_json('{"format": "gilbench-run", "version": 99}'),
    "run-json-format-1": _legacy,
    "raw-metadata-version": _metadata_version,
    # shard archives
    "merge-missing-folder": lambda tmp: ["merge", str(tmp / "nope"), "--into", str(tmp / "m")],
    "merge-empty-shard": _empty_shard,
    "merge-not-a-shard": _not_a_shard,
    "merge-into-a-full-folder": _merged_into_a_run,
    "history-add-no-run": lambda tmp: ["history", "add", str(tmp / "nothing"), "--into",
                                       str(tmp / "history")],
}  # fmt: skip


def _one(case: str, tmp: Path, capsys: pytest.CaptureFixture[str]) -> str:
    argv = CASES[case](tmp)
    try:
        status = main(argv)
    except SystemExit as leaving:  # argparse's own refusals
        status = int(leaving.code or 0)
    err = capsys.readouterr().err
    assert status == 2, f"{case}: exit {status}\n{err}"
    assert "Traceback" not in err, err
    lines = err.splitlines()
    assert len(lines) == 1 and ": error: " in lines[0], f"{case}: not one line: {err}"
    return lines[-1].replace(str(tmp), "<tmp>").replace(str(ROOT), "<root>")


def test_every_mistake_is_one_line_and_exit_2(
    tmp_path_factory: pytest.TempPathFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    """At least 40 distinct mistakes: each one line saying what to do, exit 2, no traceback."""
    assert len(CASES) >= 40
    found = []
    for case in CASES:
        tmp = tmp_path_factory.mktemp(case)
        found.append(f"{case}: {_one(case, tmp, capsys)}")
    assert_golden("bad-input.txt", "\n".join(found) + "\n")


def test_a_refused_command_leaves_no_run_behind(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Refused before anything is measured or built: no run folder appears in reports."""
    for case in ("timeout-zero", "unpinned-cpython", "source-no-pin", "workload-binary"):
        tmp = tmp_path / case
        tmp.mkdir()
        argv = [a for a in CASES[case](tmp) if a != "--list"]
        if "--reports" not in argv:
            argv += ["--reports", str(tmp / "reports")]
        reports = Path(argv[argv.index("--reports") + 1])  # the case's own, or ours
        try:
            assert main(argv) == 2
        except SystemExit as leaving:
            assert leaving.code == 2
        capsys.readouterr()
        assert not [p for p in reports.glob("*") if p.is_dir()], case
