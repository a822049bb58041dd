"""The nightly's shards: one fails loudly when an implementation the nightly provisions
is unavailable."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness import nightly
from harness.provision.impls import Impl

IMPLS = [
    Impl(id="3.14", family="cpython", python=Path("/x/python3.14")),
    Impl(id="3.14t", family="cpython", python=None, unavailable="missing build dependencies: "
         "ffi.h; install them with: sudo apt-get install libffi-dev"),
    Impl(id="3.14t+gil", family="cpython", python=None, unavailable="missing build "
         "dependencies: ffi.h; install them with: sudo apt-get install libffi-dev"),
    Impl(id="pypy3.9", family="pypy", python=Path("/usr/bin/pypy3")),
    Impl(id="ironpython3.4", family="ironpython", python=None, unavailable="ipy is not on PATH"),
    Impl(id="graalpy", family="graalpy", python=None, unavailable="graalpy is not on PATH"),
]  # fmt: skip


def test_a_shard_expects_what_the_nightly_provisions_and_what_it_was_asked_for() -> None:
    """CPython, PyPy and Jython always; GraalPy when --impl names it; IronPython never."""
    assert nightly.expected_impls(IMPLS, []) == ["3.14", "3.14t", "3.14t+gil", "pypy3.9"]
    assert nightly.expected_impls(IMPLS, ["graalpy"])[-1] == "graalpy"


def test_an_expected_implementation_that_is_unavailable_fails_the_shard_in_one_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """One line per reason, naming the implementations; exit 1 (the cells are recorded);
    on GitHub Actions the line is an error annotation; a usage error keeps its 2."""
    said: list[str] = []
    expected = nightly.expected_impls(IMPLS, [])
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    assert nightly.check_expected(IMPLS, expected, 0, said.append) == 1
    assert said == ["error: the nightly expects 3.14t and 3.14t+gil, unavailable here: missing "
                    "build dependencies: ffi.h; install them with: sudo apt-get install "
                    "libffi-dev"]  # fmt: skip
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    assert nightly.check_expected(IMPLS, expected, 1, said.append) == 1
    assert said[-1].startswith("::error::error: the nightly expects 3.14t and 3.14t+gil")
    assert nightly.check_expected(IMPLS, expected, 2, said.append) == 2
    assert nightly.check_expected(IMPLS, ["3.14", "pypy3.9"], 0, said.append) == 0
    assert len(said) == 2
