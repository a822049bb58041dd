"""The default adaptive profile: measured until every figure is decided, looks and margin."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pandas as pd
import pytest

from harness import store
from harness.cli import open_run, parse_request
from harness.compare.cells import summarize
from harness.compare.decisions import Levels, is_look
from harness.compare.verdicts import compare_run
from harness.options import parse_args
from harness.provision.impls import Impl
from harness.results import load_run
from harness.run import adaptive
from harness.run.adaptive import Adaptive, Assessment
from harness.run.bench import Outcome
from harness.run.plan import PROFILES, Bench, plan
from harness.run.shards import Costs
from harness.run.workloads import Workload
from tests.helpers import QUICK
from tests.test_sampling import _row, _rows

pytestmark = pytest.mark.real  # it runs real interpreters: never beside another test

NEAR = (("a", "x", "threads", 2), ("a", "x", "serial", 1))  # the undecided figure's cells
DONE = (("b", "x", "threads", 2),)  # the decided figure's


def _matrix() -> list[Bench]:
    impls = [Impl(name, name, Path("/usr/bin/true")) for name in ("a", "b")]
    return plan(impls, [Workload("x", Path("x"), "cpu", (), "", 1)], ["serial", "threads"], [1, 2])


def _fake_run(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, decided_after: int,
              target: float | None = None) -> tuple[Adaptive, list[str], list[int]]:  # fmt: skip
    """An adaptive matrix whose benchmarks take 1 s each and whose looks read two figures:
    one on DONE, decided, and one on NEAR, undecided until pass ``decided_after``."""
    now = [0.0]
    looked: list[int] = []

    def measure(bench: Bench, *_: object) -> Outcome:
        now[0] += 1.0
        return Outcome("ok", "", 1.0)

    def assess(run_dir: Path, asked: float | None) -> Assessment:
        after = matrix.number - 1
        looked.append(after)
        near = "gains" if after >= decided_after else "undecided"
        rows = _rows(_row("near", NEAR, 0.97, 1.12, passes=after, decision=near),
                     _row("done", DONE, 1.5, 1.9, passes=after, decision="gains"))  # fmt: skip
        cells = SimpleNamespace(levels=Levels(sequential=True))
        return Assessment(SimpleNamespace(), cells, rows)  # type: ignore[arg-type]

    monkeypatch.setattr(adaptive, "attempt", measure)
    monkeypatch.setattr(adaptive, "assess", assess)
    monkeypatch.setattr(adaptive, "replan", lambda states, found: None)
    lines: list[str] = []
    profile = replace(PROFILES["adaptive"], budget_s=3600.0, precision=target)
    costs = Costs({name: (1.0, 1.0) for name in "ab"}, "test")
    matrix = Adaptive(_matrix(), {}, tmp_path, profile, costs, lines.append,
                      clock=lambda: now[0])  # fmt: skip
    return matrix, lines, looked


def test_after_the_pilot_only_the_cells_of_undecided_figures_are_measured(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Every cell in the first three passes; then the undecided figure's two cells, until
    a look finds it decided, and the run ends there."""
    matrix, lines, _ = _fake_run(monkeypatch, tmp_path, decided_after=7)
    while matrix.step():
        pass
    assert matrix.number == 8  # pass 8 found nothing to measure
    assert all(len(s.passes) == 3 for c, s in matrix.states.items() if c not in NEAR)
    assert all(len(matrix.states[c].passes) == 7 for c in NEAR)
    assert lines[0].startswith("8 cells to measure within 60m00s")
    assert lines[1].startswith("after pass 3: 1 of 2 figures decided, 1 undecided; about ")


def test_cells_are_dropped_only_at_looks(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The run is read back after passes 3, 4, 5 and 7 (the looks), never after pass 6:
    a figure decided between looks keeps being measured to the next one, so its last pass
    is a look."""
    matrix, _, looked = _fake_run(monkeypatch, tmp_path, decided_after=6)
    while matrix.step():
        pass
    assert looked == [3, 4, 5, 7] and all(is_look(n) for n in looked)
    assert all(len(matrix.states[c].passes) == 7 for c in NEAR)  # measured in pass 6 and 7


def test_the_progress_and_the_end_say_how_many_figures_are_decided(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The progress line counts figures decided and undecided once a look has read them,
    and so does the line that ends the run."""
    matrix, lines, _ = _fake_run(monkeypatch, tmp_path, decided_after=5)
    assert matrix.status(1, 8).startswith("pass 0: 1/8 benchmarks; figures read after pass 3;")
    for _ in range(4):
        matrix.step()
    assert matrix.status(1, 2) == (
        "pass 4: 1/2 benchmarks; 1 of 2 figures decided, 1 undecided; 59m34s of 60m00s left"
    )
    while matrix.step():
        pass
    matrix.finish()
    assert lines[-1] == "2 of 2 figures decided, 0 undecided, in 0m28s of a 60m00s budget"


def test_the_plan_says_the_undecided_figures_are_measured_again() -> None:
    """Within the budget, the plan says what happens after the first passes."""
    costs = Costs({name: (10.0, 10.0) for name in "ab"}, "test")
    line = adaptive.first_plan(adaptive.spread(_matrix()), costs, 3600.0, None)
    assert line == (
        "8 cells to measure within 60m00s; their first 3 passes take about 4m00s (test); then "
        "the cells that undecided figures rest on are measured again, the cheapest to decide "
        "first, until every figure is decided"
    )


def test_the_margin_is_recorded_in_the_runs_manifest(host_impl: Impl, tmp_path: Path) -> None:
    """--margin 10% is manifest["decisions"]["margin"]; without it, the default 5%."""
    for argv, margin in ((["--margin", "10%"], 0.10), ([], 0.05)):
        args = parse_args(["run", "--impl", "host", "--reports", str(tmp_path), *argv])
        request = parse_request(args)
        run_dir = open_run(args, request, [host_impl], [])
        assert store.load_manifest(run_dir)["decisions"] == {"margin": margin}


def test_a_wider_margin_reads_more_figures_equivalent(tmp_path: Path) -> None:
    """A run recorded with a 10% margin decides its figures against it: an overhead
    undecided within 5% is equivalent within 10%."""
    shutil.copytree(QUICK, tmp_path / "run")
    manifest = json.loads((tmp_path / "run" / "run.json").read_text())
    manifest["decisions"] = {"margin": 0.10}
    (tmp_path / "run" / "run.json").write_text(json.dumps(manifest))
    words = {}
    for run in (QUICK, tmp_path / "run"):
        cells = summarize(load_run(run))
        rows = compare_run(cells).decisions()
        words[cells.levels.margin] = _word(rows, "overhead", "hash_sha256")
    assert words == {0.05: "undecided", 0.10: "equivalent"}


def _word(rows: pd.DataFrame, topic: str, subject: str) -> Any:
    found = rows[(rows["topic"] == topic) & (rows["subject"] == subject)]["decision"]
    return found.iloc[0]
