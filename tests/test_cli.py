"""What a user sees at the terminal: golden output and one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.cli import main
from tests.helpers import DATA

GOLDEN = DATA / "golden"


def test_list_prints_every_workload_with_its_category(capsys: pytest.CaptureFixture[str]) -> None:
    """`list` prints one line per workload: name, category, description."""
    assert main(["list"]) == 0
    assert capsys.readouterr().out == (GOLDEN / "list.txt").read_text()


def test_bad_worker_count_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    """A non-numeric --workers is refused by argparse with a message saying what it takes."""
    with pytest.raises(SystemExit) as leaving:
        main(["compare", "--workers", "two"])
    assert leaving.value.code == 2
    assert "--workers takes whole numbers like 1,2,4, not 'two'" in capsys.readouterr().err


def test_unknown_flag_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    """A flag gilbench doesn't know exits 2 naming the flag."""
    with pytest.raises(SystemExit) as leaving:
        main(["compare", "--fastest"])
    assert leaving.value.code == 2
    assert "unrecognized arguments: --fastest" in capsys.readouterr().err


def test_unknown_model_is_one_line_listing_the_models(capsys: pytest.CaptureFixture[str]) -> None:
    """An unknown --model gets one line naming the valid models, before anything is built."""
    assert main(["compare", "--model", "fibers"]) == 2
    assert capsys.readouterr().err == (
        "gilbench: error: unknown model 'fibers'; choose from serial, threads, processes, "
        "processes-shm, subinterpreters, subinterpreters-shared, asyncio, asyncio-to-thread, "
        "threadpool, processpool, processpool-chunked, interpool\n"
    )


def test_unknown_workload_is_one_line_listing_the_names(capsys: pytest.CaptureFixture[str]) -> None:
    """An unknown --workload gets one line with the valid names, before anything is built."""
    assert main(["compare", "--workload", "nbdy"]) == 2
    assert capsys.readouterr().err == (
        "gilbench: error: no workload is called 'nbdy'; valid names: alloc_dicts, alloc_trees, "
        "hash_sha256, int_lists, io_echo, io_sleep, json_roundtrip, literal_constants, "
        "lxml_parse, method_calls, mixed_cpu_io, msgpack_roundtrip, nbody, numpy_large, "
        "numpy_small, payload_bytes, regex_scan, shared_dict_locked, shared_dict_unlocked, "
        "task_size, zlib_roundtrip\n"
    )


def test_report_without_a_run_says_what_to_do(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`report` with no stored run exits 2 and tells the user to run compare first."""
    assert main(["report", "--reports", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("gilbench: error: no run at ")
    assert err.endswith(
        "run 'nox -s compare' first, or name a folder of reports/ that has a run.json\n"
    )


def test_cpus_prints_each_sample_and_the_verdict(capsys: pytest.CaptureFixture[str]) -> None:
    """`cpus` prints one line of rates per sample, every CPU named, then one summary line."""
    assert main(["cpus", "--seconds", "0.5"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) >= 2
    assert all(line.startswith("cpu0 ") and "M/s" in line for line in lines[:-1])
    assert lines[-1].startswith(f"{len(lines) - 1} samples of all ")


def test_cpus_refuses_a_duration_that_is_not_positive(capsys: pytest.CaptureFixture[str]) -> None:
    """`cpus --seconds 0` exits 2 with one line saying what it takes."""
    with pytest.raises(SystemExit) as leaving:
        main(["cpus", "--seconds", "0"])
    assert leaving.value.code == 2
    assert "'0' is not a positive number of seconds" in capsys.readouterr().err


WELL_FORMED = 'CATEGORY = "cpu"\nDESCRIPTION = "d"\nCHECKSUM = 1\n\ndef kernel():\n    return 1\n'


@pytest.mark.parametrize(
    ("swap", "line"),
    [
        (
            ('CATEGORY = "cpu"', "CATEGORY = 42"),
            'declares CATEGORY = 42: it must be a non-empty string, e.g. CATEGORY = "cpu"',
        ),
        (('CATEGORY = "cpu"', 'CATEGORY = "  "'), "declares CATEGORY = '  ': it must be"),
        (
            ('DESCRIPTION = "d"', "DESCRIPTION = None"),
            "declares DESCRIPTION = None: it must be a string saying what the kernel stresses",
        ),
        (("CHECKSUM = 1", "CHECKSUM = [1]"), "declares CHECKSUM = [1]: it must be a whole number"),
        (("CHECKSUM = 1", "CHECKSUM = True"), "declares CHECKSUM = True: it must be a whole"),
        (
            ("CHECKSUM = 1", 'CHECKSUM = 1\nTAGS = "quick"'),
            "declares TAGS = 'quick': it must be a list of strings",
        ),
    ],
)
def test_a_declaration_of_the_wrong_type_is_one_line_and_exit_2(
    swap: tuple[str, str], line: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """CATEGORY, DESCRIPTION, CHECKSUM and TAGS of the wrong type are refused by name."""
    path = tmp_path / "odd.py"
    path.write_text(WELL_FORMED.replace(*swap))
    assert main(["compare", "--workload", str(path), "--list"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("gilbench: error: workload ") and line in err
    assert err.count("\n") == 1


@pytest.mark.parametrize("value", ["-3", "0", "soon"])
def test_a_timeout_that_is_not_positive_is_refused(
    value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """--timeout takes a positive number of seconds; anything else exits 2 naming it."""
    with pytest.raises(SystemExit) as leaving:
        main(["compare", f"--timeout={value}"])
    assert leaving.value.code == 2
    assert f"argument --timeout: {value!r} is not a positive number of seconds" in (
        capsys.readouterr().err
    )


def test_an_unpinned_cpython_asked_for_is_exit_2_before_anything_is_measured(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """--cpython 9.9.9 is one line naming the pins, not an unavailable row and a long run."""
    assert main(["compare", "--cpython", "9.9.9", "--quick"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err[-1].startswith("gilbench: error: unknown CPython version '9.9.9': pinned ")
    assert not any("results go to" in line for line in err)


def test_a_missing_cpython_source_is_exit_2_before_anything_is_built(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A --cpython-source path that doesn't exist is one line that says what to give."""
    missing = tmp_path / "Python-3.14.7.tar.xz"
    assert main(["compare", "--cpython-source", str(missing)]) == 2
    assert capsys.readouterr().err == (
        f"gilbench: error: --cpython-source {missing}: no such file or folder; give the path "
        "of a Python-X.Y.Z.tar.xz or of its unpacked source folder\n"
    )
