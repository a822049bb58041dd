"""The nightly as `nox -s nightly` drives it here: a night and its re-run, and a shard that
fails loudly when an implementation the nightly provisions is unavailable."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from harness import nightly
from harness.cli import main
from harness.provision.impls import Impl

PLAN = {
    "cells": 4, "profile": "quick", "passes": 1, "costs": "measured defaults", "note": "",
    "shards": [{"shard": f"{k}/2", "name": f"shard-{k}-of-2", "cells": 2, "estimate_s": 60.0,
                "over_limit": False, "workloads": [f"w{k}"]} for k in (1, 2)],
}  # fmt: skip


def fake_main(calls: list[list[str]], codes: dict[str, int] | None = None,
              ) -> Callable[[Sequence[str] | None], int]:  # fmt: skip
    """python -m harness as the nightly calls it, recorded: the plan prints PLAN, a shard
    makes its folder and exits with ``codes`` (by K/N), the rest succeed."""

    def run(argv: Sequence[str] | None) -> int:
        words = list(argv or [])
        calls.append(words)
        if "--plan" in words:
            print(json.dumps(PLAN))
        elif words[0] == "compare":
            reports = Path(words[words.index("--reports") + 1])
            (reports / words[words.index("--into") + 1]).mkdir(parents=True)
            return (codes or {}).get(words[words.index("--shard") + 1], 0)
        return 0

    return run


def _flag(words: list[str], flag: str) -> str | None:
    return words[words.index(flag) + 1] if flag in words else None


def test_a_re_run_takes_up_the_night_before_and_adds_as_its_next_attempt(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Attempt 1 measures a new night; --attempt 2 re-runs it: each shard resumes from the
    shard attempt 1 left, into attempt-2/, and the history add names night and attempt.
    A failed shard fails the night, after its merge and publish, as its job would."""
    first: list[list[str]] = []
    assert nightly.run_nightly(2, ["--quick"], tmp_path, fake_main(first)) == 0
    (night,) = [p.name for p in (tmp_path / "nightly").iterdir()]
    shard = first[1]
    assert _flag(shard, "--into") == f"nightly/{night}/shard-1-of-2"
    assert (_flag(shard, "--batch"), _flag(shard, "--attempt")) == (night, "1")
    assert _flag(shard, "--resume-from") is None
    merged = str(tmp_path / "nightly" / night / "merged")
    assert first[-2] == ["history", *nightly.add_args(merged, str(tmp_path / "history"),
                                                     night, "1")]  # fmt: skip
    again: list[list[str]] = []
    code = nightly.run_nightly(2, ["--quick"], tmp_path, fake_main(again, {"2/2": 1}), attempt=2)
    assert code == 1
    shard = again[2]
    assert _flag(shard, "--into") == f"nightly/{night}/attempt-2/shard-2-of-2"
    assert _flag(shard, "--resume-from") == str(tmp_path / "nightly" / night / "shard-2-of-2")
    assert (_flag(shard, "--batch"), _flag(shard, "--attempt")) == (night, "2")
    merged = str(tmp_path / "nightly" / night / "attempt-2" / "merged")
    assert again[-2] == ["history", *nightly.add_args(merged, str(tmp_path / "history"),
                                                     night, "2")]  # fmt: skip
    out = capsys.readouterr().out
    assert f"re-running night {night} as attempt 2\n" in out
    assert "shard 2/2 failed (see above)" in out


NIGHT = "20261204-031700"


@pytest.mark.parametrize(
    ("flags", "says"),
    [
        (["--attempt", "2"], "--attempt 2 re-runs a night, and {reports}/nightly holds none: "
                             "measure one first, without --attempt"),
        (["--night", "x"], "--night x names a night to re-run: give its --attempt (2 or more), "
                           "or leave --night out to measure a new night"),
        (["--attempt", "2", "--night", "x"], "no night 'x' in {reports}/nightly; nights there: "
                                             f"{NIGHT}"),
        (["--attempt", "2", "--night", NIGHT],
         f"night {NIGHT} has an attempt 2 already: re-run it as --attempt 3"),
    ],
)  # fmt: skip
def test_a_night_that_cannot_be_re_run_is_refused_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], flags: list[str], says: str
) -> None:
    """No night yet, --night without --attempt, an unknown night, an attempt made already."""
    if "--night" in flags:
        (tmp_path / "nightly" / NIGHT / "attempt-2").mkdir(parents=True)
    assert main(["nightly", *flags, "--reports", str(tmp_path)]) == 2
    assert capsys.readouterr().err == f"gilbench: error: {says.format(reports=tmp_path)}\n"


def test_a_re_run_without_a_night_named_is_of_the_newest(tmp_path: Path) -> None:
    """--attempt N alone picks the newest night; an older one may be named."""
    for night in ("20261203-031700", NIGHT):
        (tmp_path / "nightly" / night).mkdir(parents=True)
    assert nightly.pick_night(tmp_path, None, 2) == NIGHT
    assert nightly.pick_night(tmp_path, "20261203-031700", 3) == "20261203-031700"


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
