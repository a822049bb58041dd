"""The subinterpreters model, run for real on the CPython 3.14 builds gilbench provisions.

The host's test interpreter predates subinterpreters, so each test runs gbmodels in a
subprocess of a provisioned build (reused from the cache; built if missing, and under CI
a failure to provision fails instead of skipping). Both back ends are covered: PEP 734's
``concurrent.interpreters`` (3.14+) and the private ``_interpreters`` of 3.13, forced on
3.14 with ``prefer="private"``.
"""

from __future__ import annotations

import json
import subprocess
import textwrap
from pathlib import Path

import pytest

from harness.run.workloads import WORKLOADS_DIR
from tests.helpers import TEST_WORKLOADS

pytestmark = pytest.mark.real  # it runs real interpreters: never beside another test

INSIDE = Path(__file__).resolve().parent.parent / "harness" / "inside"
PROLOGUE = f"""
import json, sys
sys.path.insert(0, {str(INSIDE)!r})
import gbinterp, gbmodels, gbprotocol

def attempt(path, workers, prefer=None, rounds=1, units=1):
    try:
        pool = gbinterp.Subinterpreters(path, workers, prefer)
    except gbprotocol.WorkloadFailure as exc:
        return [exc.status, exc.detail]
    try:
        pool.start()
        return ["ok", [pool.round(units) for _ in range(rounds)]]
    except gbprotocol.WorkloadFailure as exc:
        return [exc.status, exc.detail]
    finally:
        pool.close()
"""


@pytest.fixture(scope="module", params=["default", "free-threaded"])
def python(request: pytest.FixtureRequest, cpython_builds: tuple[object, object]) -> Path:
    """The provisioned CPython build, with and without the GIL."""
    build = cpython_builds[0 if request.param == "default" else 1]
    return Path(build.python)  # type: ignore[attr-defined]


def _inside(python: Path, body: str) -> object:
    """Run ``body`` after PROLOGUE in ``python``; return the JSON it prints last."""
    code = PROLOGUE + "\nif __name__ == '__main__':\n" + textwrap.indent(body.strip(), "    ")
    done = subprocess.run(
        [str(python), "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("prefer", [None, "private"])
def test_subinterpreters_run_one_checked_unit_per_worker(python: Path, prefer: str | None) -> None:
    """Each of 3 interpreters runs one unit per round, through either back end."""
    tiny = str(TEST_WORKLOADS / "tiny.py")
    got = _inside(python, f"print(json.dumps(attempt({tiny!r}, 3, {prefer!r}, rounds=2)))")
    assert got == ["ok", [[2666466670000] * 3] * 2]


@pytest.mark.parametrize("prefer", [None, "private"])
def test_subinterpreters_run_a_value_s_units_in_one_call_each(
    python: Path, prefer: str | None
) -> None:
    """round(40) brings back 40 checksums per interpreter, through either back end."""
    tiny = str(TEST_WORKLOADS / "tiny.py")
    got = _inside(python, f"print(json.dumps(attempt({tiny!r}, 2, {prefer!r}, units=40)))")
    assert got == ["ok", [[2666466670000] * 80]]


@pytest.mark.parametrize("prefer", [None, "private"])
def test_a_unit_going_wrong_midway_in_a_subinterpreter_fails_the_round(
    python: Path, prefer: str | None
) -> None:
    """The third unit of a subinterpreter's five returns a wrong checksum: the round fails."""
    wrong = str(TEST_WORKLOADS / "goes_wrong.py")
    got = _inside(python, f"print(json.dumps(attempt({wrong!r}, 2, {prefer!r}, units=5)))")
    assert got == ["wrong-checksum", "expected 41, got 42"]


# A workload that notes, at every unit, the id of the interpreter that ran it.
WHERE = """\
from concurrent import interpreters

CHECKSUM = 1


def kernel():
    with open(__file__ + ".where", "a") as out:
        out.write("%d\\n" % interpreters.get_current().id)
    return 1
"""


@pytest.mark.parametrize("prefer", [None, "private"])
def test_a_pairing_s_serial_units_run_in_the_subinterpreters_in_turn(
    python: Path, prefer: str | None, tmp_path: Path
) -> None:
    """Each value's serial units run in one of the cell's interpreters, the next in the next."""
    where = tmp_path / "where.py"
    where.write_text(WHERE)
    got = _inside(
        python,
        f"""
import argparse, gbmeasure
pool = gbinterp.Subinterpreters({str(where)!r}, 2, {prefer!r})
pool.start()
args = argparse.Namespace(impl="3.14", workload={str(where)!r}, model="subinterpreters",
                          workers=2)
pairing = gbmeasure.Pairing(args, {str(tmp_path / "paired.jsonl")!r}, pool)
open({str(where)!r} + ".where", "w").close()  # forget the warm-up round's units
pairing.after(3)
pairing.after(1)
ids = [getattr(interp, "id", interp) for interp in pool.interps]
pool.close()
with open({str(where)!r} + ".where") as record:
    print(json.dumps([ids, [int(line) for line in record]]))
""",
    )
    assert isinstance(got, list)
    ids, ran = got
    assert 0 not in ids  # the main interpreter runs none of them
    assert ran == [ids[0]] * 3 + [ids[1]]


@pytest.mark.parametrize("prefer", [None, "private"])
def test_a_subinterpreter_times_its_units_itself_the_call_into_it_outside(
    python: Path, prefer: str | None
) -> None:
    """A call into the interpreter that takes 0.3 s more counts neither in busy nor alone."""
    tiny = str(TEST_WORKLOADS / "tiny.py")
    got = _inside(
        python,
        f"""
import time
pool = gbinterp.Subinterpreters({tiny!r}, 1, {prefer!r})
pool.start()
run = pool.api.run

def slow(*args):
    time.sleep(0.3)
    return run(*args)

pool.api.run = slow
begun = time.perf_counter()
pool.round(2)
alone = pool.time_alone(2)
took = time.perf_counter() - begun
pool.close()
print(json.dumps([took > 0.6, pool.busy[0] < 0.1, alone < 0.1]))
""",
    )
    assert got == [True, True, True]


def test_every_subinterpreter_has_its_own_gil(python: Path) -> None:
    """The interpreters the model creates are isolated: their config says gil='own'."""
    tiny = str(TEST_WORKLOADS / "tiny.py")
    got = _inside(
        python,
        f"""
import _interpreters
pool = gbinterp.Subinterpreters({tiny!r}, 2)
pool.start()
print(json.dumps([_interpreters.get_config(i.id).gil for i in pool.interps]))
pool.close()
""",
    )
    assert got == ["own", "own"]


@pytest.mark.parametrize("prefer", [None, "private"])
def test_failures_come_back_from_a_subinterpreter_with_their_status(
    python: Path, prefer: str | None
) -> None:
    """A wrong checksum and a crash inside a subinterpreter keep their status and detail."""
    wrong, crash = str(TEST_WORKLOADS / "wrong_checksum.py"), str(TEST_WORKLOADS / "crashes.py")
    both = f"[attempt({wrong!r}, 2, {prefer!r}), attempt({crash!r}, 2, {prefer!r})]"
    got = _inside(python, f"print(json.dumps({both}))")
    assert isinstance(got, list)
    assert got[0] == ["wrong-checksum", "expected 41, got 42"]
    assert got[1][0] == "crashed"
    assert "ZeroDivisionError" in got[1][1]


def test_the_loopback_service_serves_kernels_in_subinterpreters(python: Path) -> None:
    """io_echo's service runs in the main interpreter; kernels in 2 subinterpreters use it."""
    echo = str(WORKLOADS_DIR / "io_echo.py")
    assert _inside(python, f"print(json.dumps(attempt({echo!r}, 2)))") == ["ok", [[4112, 4112]]]


def test_an_extension_that_refuses_subinterpreters_is_unsupported(python: Path) -> None:
    """A workload importing a single-phase extension is unsupported, naming the module."""
    single = str(TEST_WORKLOADS / "single_phase.py")
    assert _inside(python, f"print(json.dumps(attempt({single!r}, 2)))") == [
        "unsupported",
        "the workload can't be imported in a subinterpreter: ImportError: "
        "module _testsinglephase does not support loading in subinterpreters",
    ]


def test_shared_state_is_unsupported_in_subinterpreters(python: Path) -> None:
    """Subinterpreters share no objects, so a shared-dict workload is unsupported, not failed."""
    shared = str(WORKLOADS_DIR / "shared_dict_locked.py")
    assert _inside(python, f"print(json.dumps(attempt({shared!r}, 2)))") == [
        "unsupported",
        "shared_dict_locked.py keeps its shared state in one process's memory, "
        "and the subinterpreters model's workers share no memory",
    ]


def test_asyncio_models_run_on_the_build(python: Path) -> None:
    """Both asyncio models run a generator kernel and a plain one on 3.14 (GIL or not)."""
    sleepy, tiny = str(TEST_WORKLOADS / "sleepy.py"), str(TEST_WORKLOADS / "tiny.py")
    got = _inside(
        python,
        f"""
out = []
for name in ("asyncio", "asyncio-to-thread"):
    for path in ({sleepy!r}, {tiny!r}):
        pool = gbmodels.make_model(name, path, 2)
        pool.start()
        out.append(pool.round())
        pool.close()
print(json.dumps(out))
""",
    )
    assert got == [[4, 4], [2666466670000] * 2] * 2
