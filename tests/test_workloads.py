"""Every workload file: declarations, checksum, and the shared 2.7/3.4 syntax."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import gbcore
import pytest

from harness.workloads import (
    WORKLOADS_DIR,
    WorkloadError,
    load_workloads,
    parse_workload,
    select_workloads,
)
from tests.conftest import TEST_WORKLOADS

ROOT = Path(__file__).resolve().parent.parent
ALL = sorted(p for p in WORKLOADS_DIR.glob("*.py") if not p.name.startswith("_"))


def test_the_suite_has_the_three_kinds_of_work() -> None:
    """Pure-Python CPU, allocation, and C code that releases the GIL are all covered."""
    categories = {w.category for w in load_workloads()}
    assert {"cpu", "alloc", "c-release"} <= categories


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.stem)
def test_every_workload_returns_its_declared_checksum(path: Path) -> None:
    """Each workload file's kernel, run on the host, returns exactly its CHECKSUM."""
    module = gbcore.load_workload(str(path))
    assert module.kernel() == parse_workload(path).checksum == module.CHECKSUM


def test_workloads_and_inside_code_use_only_syntax_shared_by_27_and_34() -> None:
    """vermin finds nothing in workloads/ or harness/inside/ that 2.7 or 3.4 lacks."""
    vermin = Path(sys.executable).parent / "vermin"
    done = subprocess.run(
        [str(vermin), "-t=2.7-", "-t=3.4-", "--no-tips", "--violations",
         str(WORKLOADS_DIR), str(ROOT / "harness" / "inside")],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr


def test_a_workload_without_a_kernel_is_refused_by_name() -> None:
    """A file missing kernel() gets an error that names the file and what it lacks."""
    with pytest.raises(WorkloadError, match=r"no_kernel\.py' lacks def kernel\(\)"):
        parse_workload(TEST_WORKLOADS / "no_kernel.py")


def test_a_workload_that_does_not_parse_is_refused_with_its_line() -> None:
    """A syntax error is reported as one line naming the file, not a traceback."""
    with pytest.raises(WorkloadError, match=r"bad_syntax\.py' can't be read: .*line 3"):
        parse_workload(TEST_WORKLOADS / "bad_syntax.py")


def test_selection_by_category_tag_and_path() -> None:
    """Workloads are picked by name, category or tag, and a .py path adds a user's file."""
    suite = load_workloads()
    assert [w.name for w in select_workloads(suite, ["c-release"])] == ["hash_sha256"]
    assert [w.name for w in select_workloads(suite, ["float"])] == ["nbody"]
    picked = select_workloads(suite, ["nbody", str(TEST_WORKLOADS / "tiny.py")])
    assert [w.name for w in picked] == ["nbody", "tiny"]


def test_a_name_that_matches_nothing_lists_the_valid_names() -> None:
    """An unknown workload name gets an error listing every valid name."""
    with pytest.raises(WorkloadError) as error:
        select_workloads(load_workloads(), ["nbdy"])
    assert str(error.value) == (
        "no workload is called 'nbdy'; valid names: alloc_trees, hash_sha256, nbody"
    )
