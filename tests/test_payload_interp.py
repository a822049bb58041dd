"""Sized workloads under the subinterpreter models, run for real on the CPython 3.14 builds
gilbench provisions (the host's test interpreter has no subinterpreters), and the pools
there too: each in a subprocess of the build, with and without the GIL."""

from __future__ import annotations

import json
import subprocess
import textwrap
from pathlib import Path

import pytest

from tests.helpers import TEST_WORKLOADS

pytestmark = pytest.mark.real  # it runs real interpreters: never beside another test

INSIDE = Path(__file__).resolve().parent.parent / "harness" / "inside"
PROLOGUE = f"""
import json, sys
sys.path.insert(0, {str(INSIDE)!r})
import gbmodels, gbprotocol

def attempt(model, path, size, units=3):
    try:
        pool = gbmodels.make_model(model, path, 2, None, size)
    except gbprotocol.WorkloadFailure as exc:
        return [exc.status, exc.detail]
    try:
        pool.start()
        return ["ok", pool.round(units), pool.time_alone(2) > 0]
    except gbprotocol.WorkloadFailure as exc:
        return [exc.status, str(exc.detail)[:200]]
    finally:
        pool.close()
"""
ECHO = str(TEST_WORKLOADS / "echo_payload.py")


@pytest.fixture(scope="module", params=["default", "free-threaded"])
def python(request: pytest.FixtureRequest, cpython_builds: tuple[object, object]) -> Path:
    """The provisioned CPython build, with and without the GIL."""
    build = cpython_builds[0 if request.param == "default" else 1]
    return Path(build.python)  # type: ignore[attr-defined]


def _inside(python: Path, body: str) -> object:
    """Run ``body`` after PROLOGUE in ``python``; return the JSON it prints last."""
    code = PROLOGUE + "\nif __name__ == '__main__':\n" + textwrap.indent(body.strip(), "    ")
    done = subprocess.run(
        [str(python), "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("model", ["subinterpreters", "subinterpreters-shared", "interpool",
                                   "processpool", "processes-shm"])  # fmt: skip
def test_each_interpreter_model_moves_the_data_and_checks_it_on_3_14(
    python: Path, model: str
) -> None:
    """2 workers x 3 units of 64 KiB each way, every output checked; the paired serial
    units run in a worker, on its own data."""
    found = _inside(python, f"print(json.dumps(attempt({model!r}, {ECHO!r}, 65536)))")
    assert found == ["ok", [65536] * 6, True]


@pytest.mark.parametrize("model", ["subinterpreters", "subinterpreters-shared", "interpool"])
def test_a_garbled_output_fails_the_round_in_an_interpreter_model(python: Path, model: str) -> None:
    """An output that comes back changed from an interpreter is wrong-checksum."""
    path = str(TEST_WORKLOADS / "garbles_payload.py")
    found = _inside(python, f"print(json.dumps(attempt({model!r}, {path!r}, 1024)))")
    assert isinstance(found, list)
    assert found[0] == "wrong-checksum"
    assert str(found[1]).startswith("expected output 1024 bytes, crc32 ")
