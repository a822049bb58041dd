"""Every workload file: declarations, checksum, and the shared 2.7/3.4 syntax."""

from __future__ import annotations

import ast
import collections
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import gbmodels
import gbpayload
import pytest

from harness.run.workloads import (
    CATEGORIES,
    WORKLOADS_DIR,
    WorkloadError,
    load_workloads,
    parse_workload,
    select_workloads,
)
from tests.helpers import DATA, TEST_WORKLOADS, require_or_skip

pytestmark = pytest.mark.real  # it runs real interpreters: never beside another test

ROOT = Path(__file__).resolve().parent.parent
INSIDE = ROOT / "harness" / "inside"
ALL = sorted(p for p in WORKLOADS_DIR.glob("*.py") if not p.name.startswith("_"))
# Those that need packages (REQUIRES) run where gilbench installed them: test_packages.py
STANDARD = [p for p in ALL if not parse_workload(p).requires]
# Modules of inside/ that only Python 3.5+ ever imports (async/await), checked against 3.5
PY35_ONLY = (INSIDE / "gbasync.py",)
# What the suite must cover (issue 4): category -> how many workloads at least
COVERAGE = {"cpu": 3, "alloc": 2, "contention": 2, "c-release": 2, "c-holds": 2, "io": 2,
            "mixed": 1}  # fmt: skip


def test_the_suite_covers_every_kind_of_work() -> None:
    """At least 12 workloads, spread over every category the GIL question needs."""
    suite = load_workloads()
    counts = collections.Counter(w.category for w in suite)
    assert len(suite) >= 12
    assert {c: min(counts[c], n) for c, n in COVERAGE.items()} == COVERAGE


def test_every_workload_says_in_one_line_what_it_stresses() -> None:
    """Descriptions are one line that fits the list, in a category the report knows."""
    for workload in load_workloads():
        assert workload.category in CATEGORIES, workload.name
        assert "\n" not in workload.description
        assert 20 < len(workload.description) <= 86, workload.name


def test_the_shared_state_workloads_are_the_two_shared_dict_ones() -> None:
    """Exactly the shared-dict workloads declare updates_seen(); both are contention ones."""
    suite = load_workloads()
    shared = {w.name for w in suite if w.shared_state}
    assert shared == {"shared_dict_locked", "shared_dict_unlocked"}
    contention = {w.name for w in suite if w.category == "contention"}
    assert contention == shared | {"literal_constants"}  # shares objects, not state


# Loads each workload through gbload, as every model does, and prints, per function, whether
# its int and float constants (beyond the always-immortal small ints) are immortal.
IMMORTAL_CHECK = """
import sys
sys.path.insert(0, %r)
import gbload
for path in sys.argv[1:]:
    module = gbload.load_workload(path)
    for name in sorted(vars(module)):
        code = getattr(getattr(module, name), "__code__", None)
        if code is None or not code.co_filename.startswith(path):
            continue
        numbers = [c for c in code.co_consts if type(c) in (int, float) and not -5 <= c <= 256]
        if numbers:
            print(path.split("/")[-1], name, all(sys._is_immortal(c) for c in numbers))
"""


def test_on_3_14t_workloads_run_as_if_from_their_pyc_with_immortal_literals(
    cpython_builds: tuple[object, object], tmp_path: Path
) -> None:
    """On the free-threaded build a workload's literals are immortal, as an imported .pyc's
    are, even with no __pycache__ to load; literal_constants' compile()d loop keeps its own
    mortal (the reference-count contention it measures)."""
    free_threaded = cpython_builds[1].python  # type: ignore[attr-defined]
    copies = []
    for name in ("int_lists", "literal_constants"):  # fresh copies: no .pyc to load
        copies.append(tmp_path / f"{name}.py")
        copies[-1].write_text((WORKLOADS_DIR / f"{name}.py").read_text())
    environ = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    done = subprocess.run(
        [str(free_threaded), "-c", IMMORTAL_CHECK % str(INSIDE), *map(str, copies)],
        capture_output=True, text=True, timeout=120, check=False, env=environ,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "int_lists.py _lcg_list True",
        "int_lists.py kernel True",
        "literal_constants.py draw False",
    ]
    assert not (tmp_path / "__pycache__").exists()


@pytest.mark.parametrize("path", STANDARD, ids=lambda p: p.stem)
def test_every_workload_returns_its_declared_checksum(path: Path) -> None:
    """Each workload of the standard library alone, run serially on the host (I/O, service
    and shared state included),
    returns exactly its CHECKSUM in every unit; a sized one, at each of its sizes, exactly
    its expected output (each unit's value is then the output's length, or the output)."""
    workload = parse_workload(path)
    for size in workload.sizes or [None]:
        pool = gbmodels.make_model("serial", str(path), 2, None, size)
        try:
            pool.start()
            if size is None:
                assert pool.round() == [workload.checksum] * 2
            else:
                expected = pool.module.expected_output(size)
                assert pool.round() == [gbpayload.check_output(expected, expected)[1]] * 2
            assert getattr(pool, "lost_updates", 0) == 0
        finally:
            pool.close()


def test_workloads_and_inside_code_use_only_syntax_shared_by_27_and_34() -> None:
    """vermin finds nothing in workloads/ or harness/inside/ that 2.7 or 3.4 lacks,
    and nothing in the 3.5-only asyncio module that 3.5 lacks."""
    vermin = Path(sys.executable).parent / "vermin"
    skip = [arg for name in [p.name for p in PY35_ONLY] + ["bad_syntax.py"]
            for arg in ("--exclude-regex", re.escape(name) + "$")]  # fmt: skip
    shared = subprocess.run(
        [str(vermin), "-t=2.7-", "-t=3.4-", "--no-tips", "--violations", *skip,
         str(WORKLOADS_DIR), str(INSIDE), str(TEST_WORKLOADS)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert shared.returncode == 0, shared.stdout + shared.stderr
    newer = subprocess.run(
        [str(vermin), "-t=3.5-", "--no-tips", "--violations", *map(str, PY35_ONLY)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert newer.returncode == 0, newer.stdout + newer.stderr


def _files_for_27() -> list[Path]:
    return [f for f in [*ALL, *sorted(INSIDE.rglob("*.py"))] if f not in PY35_ONLY]


def test_no_file_meant_for_python_27_uses_its_keywords_as_names() -> None:
    """``x.exec(...)`` or ``x.print`` parse on 3 but not on 2.7, and vermin doesn't see them."""
    for path in _files_for_27():
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            name = getattr(node, "attr", None) or getattr(node, "name", None)
            assert name not in ("exec", "print"), f"{path}:{getattr(node, 'lineno', '?')}"


def test_every_file_meant_for_python_27_compiles_on_jython() -> None:
    """Jython 2.7 compiles every workload and every inside/ module but the asyncio one."""
    jython = shutil.which("jython")
    require_or_skip(jython is not None, "Jython")
    files = [str(f) for f in _files_for_27()]
    check = "import sys\nfor f in sys.argv[1:]:\n    compile(open(f).read(), f, 'exec')\n"
    done = subprocess.run(
        [str(jython), "-c", check, *files], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr


def test_a_pyperformance_script_is_a_pyperf_workload_named_after_its_folder() -> None:
    """bm_x/run_benchmark.py, unchanged, is the serial-only pyperf workload 'bm_x'."""
    script = parse_workload(DATA / "scripts" / "bm_sumsquares" / "run_benchmark.py")
    assert (script.name, script.kind, script.category, script.checksum) == (
        "bm_sumsquares", "pyperf", "pyperf", None,
    )  # fmt: skip
    assert script.description == (
        "Sum of squares in pure Python: a pyperformance-style script (test fixture)."
    )


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
    assert [w.name for w in select_workloads(suite, ["c-release"])] == [
        "hash_sha256", "lxml_parse", "numpy_large", "zlib_roundtrip",  # named: packages too
    ]  # fmt: skip
    assert [w.name for w in select_workloads(suite, ["float"])] == ["nbody"]
    assert [w.name for w in select_workloads(suite, ["io"])] == [
        "io_echo", "io_sleep", "mixed_cpu_io",  # mixed_cpu_io is tagged io
    ]  # fmt: skip
    picked = select_workloads(suite, ["nbody", str(TEST_WORKLOADS / "tiny.py")])
    assert [w.name for w in picked] == ["nbody", "tiny"]


def test_a_name_that_matches_nothing_lists_the_valid_names() -> None:
    """An unknown workload name gets an error listing every valid name."""
    with pytest.raises(WorkloadError) as error:
        select_workloads(load_workloads(), ["nbdy"])
    assert str(error.value) == (
        "no workload is called 'nbdy'; valid names: alloc_dicts, alloc_trees, hash_sha256, "
        "int_lists, io_echo, io_sleep, json_roundtrip, literal_constants, lxml_parse, "
        "method_calls, mixed_cpu_io, msgpack_roundtrip, nbody, numpy_large, numpy_small, "
        "payload_bytes, regex_scan, shared_dict_locked, shared_dict_unlocked, task_size, "
        "zlib_roundtrip"
    )


def test_a_user_file_dropped_into_the_folder_joins_the_suite(tmp_path: Path) -> None:
    """Any .py file in the workloads folder is a workload; names starting with _ are not."""
    (tmp_path / "mine.py").write_text((TEST_WORKLOADS / "tiny.py").read_text())
    (tmp_path / "_helper.py").write_text("X = 1\n")
    assert [w.name for w in load_workloads(tmp_path)] == ["mine"]
