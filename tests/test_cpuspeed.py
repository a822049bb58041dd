"""Sampling the CPUs' speed between benchmarks, and what the report says about it."""

from __future__ import annotations

import json
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest

from harness import store
from harness.compare.steadiness import steadiness
from harness.provision.impls import Impl
from harness.results import load_run
from harness.run.cpuspeed import Sampler, machine_cpus, sample
from harness.run.matrix import run_matrix
from harness.run.plan import plan
from harness.run.workloads import parse_workload
from tests.helpers import ONE_VALUE, QUICK, TEST_WORKLOADS, render

pytestmark = pytest.mark.real  # it runs real interpreters: never beside another test


def test_a_sample_spins_on_every_cpu_and_gives_each_a_rate() -> None:
    """One pinned process per CPU spins and reports a positive rate, keyed by CPU."""
    cpus = machine_cpus()
    rates = sample(cpus, seconds=0.05)
    assert sorted(rates) == cpus
    assert all(rate > 1000 for rate in rates.values())


class FakeMeasure:
    def __init__(self, rates: Mapping[int, float]) -> None:
        self.rates = dict(rates)
        self.calls = 0

    def __call__(self, cpus: Sequence[int]) -> Mapping[int, float]:
        self.calls += 1
        return self.rates


def test_sampler_samples_only_when_due_and_appends_a_line_each(tmp_path: Path) -> None:
    """maybe() samples at first and after every_s; take() always; each sample is one line."""
    now = [0.0]
    measure = FakeMeasure({0: 2.0e7, 1: 1.0e7})
    path = tmp_path / "cpu_speed.jsonl"
    sampler = Sampler(path, [0, 1], every_s=30, measure=measure, clock=lambda: now[0])
    for at in (0.0, 10.0, 29.0, 30.0, 31.0):
        now[0] = at
        sampler.maybe()
    sampler.take()
    assert measure.calls == 3
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert [line["rates"] for line in lines] == [{"0": 20000000, "1": 10000000}] * 3


def test_a_failed_sample_writes_nothing(tmp_path: Path) -> None:
    """A sample that came back empty (a spin process died) leaves the file untouched."""
    path = tmp_path / "cpu_speed.jsonl"
    Sampler(path, [0], measure=FakeMeasure({})).take()
    assert not path.exists()


def test_steadiness_is_measured_against_the_fastest_rate_seen() -> None:
    """A CPU at half the top rate in one of two samples reads 50%, and that sample as slowed."""
    speed = steadiness([{0: 100.0, 1: 100.0}, {0: 50.0, 1: 100.0}])
    assert (speed.samples, speed.cpus, speed.slowest, speed.median, speed.slowed) == (
        2, 2, 0.5, 1.0, 1,
    )  # fmt: skip
    assert not speed.steady
    assert speed.sentence().startswith(
        "2 samples of all 2 CPUs spinning together: each CPU ran at 50% to 100% of the "
        "fastest rate seen (median 100%); in 1 of 2 a CPU was below 80%."
    )


def test_a_machine_that_holds_its_speed_is_called_steady() -> None:
    """Rates within 80% of the top in every sample: steady; no samples: says it wasn't sampled."""
    speed = steadiness([{0: 100.0, 1: 90.0}, {0: 85.0, 1: 95.0}])
    assert speed.steady
    assert speed.sentence().endswith("(median 92%); the machine held its speed.")
    assert steadiness([]).sentence() == "CPU speed was not sampled during this run."


def test_run_matrix_samples_before_benchmarks_when_due_and_once_at_the_end(
    host_impl: Impl, tmp_path: Path
) -> None:
    """Two benchmarks, a sample due only at the start: one sample before them, one after."""
    tiny = parse_workload(TEST_WORKLOADS / "tiny.py")
    benches = plan([host_impl], [tiny], ["serial"], [1, 2])
    measure = FakeMeasure({0: 1.0e7})
    sampler = Sampler(store.cpu_speed_path(tmp_path), [0], every_s=1e9, measure=measure)
    run_matrix(benches, {"host": host_impl.python}, tmp_path, ONE_VALUE, sampler=sampler)
    assert measure.calls == 2
    assert len(load_run_samples(tmp_path)) == 2


def load_run_samples(run_dir: Path) -> list[object]:
    return [json.loads(line) for line in store.cpu_speed_path(run_dir).read_text().splitlines()]


def _with_samples(tmp_path: Path, samples: list[dict[str, int]]) -> Path:
    run_dir = tmp_path / "run"
    shutil.copytree(QUICK, run_dir)
    lines = [json.dumps({"time": 0, "rates": rates}) for rates in samples]
    store.cpu_speed_path(run_dir).write_text("\n".join(lines) + "\n")
    return run_dir


def test_an_unsteady_machine_is_flagged_on_the_overview_machine_page_and_markdown(
    tmp_path: Path,
) -> None:
    """A CPU that slowed to 55% shows as a warning in index.html, impls.html and summary.md."""
    run_dir = _with_samples(tmp_path, [{"0": 100, "1": 100}, {"0": 55, "1": 100}])
    render(load_run(run_dir))
    sentence = "each CPU ran at 55% to 100% of the fastest rate seen"
    index = (run_dir / "index.html").read_text()
    assert 'class="lede warn" id="cpu-speed">⚠ 2 samples of all 2 CPUs' in index
    assert sentence in index
    assert sentence in (run_dir / "impls.html").read_text()
    assert (
        f"⚠ 2 samples of all 2 CPUs spinning together: {sentence}"
        in (run_dir / "summary.md").read_text()
    )


def test_a_steady_machine_is_stated_without_a_warning(tmp_path: Path) -> None:
    """Steady samples give the sentence on the overview without the warning mark."""
    run_dir = _with_samples(tmp_path, [{"0": 100, "1": 97}, {"0": 95, "1": 100}])
    render(load_run(run_dir))
    index = (run_dir / "index.html").read_text()
    assert '<p class="lede" id="cpu-speed">2 samples' in index
    assert "the machine held its speed." in index
    assert "⚠ 2 samples" not in (run_dir / "summary.md").read_text()


def test_a_run_without_samples_says_nothing_about_cpu_speed(tmp_path: Path) -> None:
    """Runs from before sampling render as before: no CPU speed line anywhere."""
    run_dir = tmp_path / "run"
    shutil.copytree(QUICK, run_dir)
    store.cpu_speed_path(run_dir).unlink()
    render(load_run(run_dir))
    assert 'id="cpu-speed"' not in (run_dir / "index.html").read_text()
    assert "spinning together" not in (run_dir / "summary.md").read_text()


def test_a_corrupt_sample_line_is_skipped_and_named_with_what_to_do(tmp_path: Path) -> None:
    """A broken cpu_speed.jsonl line is one problem naming file, line and the way out; the
    whole samples still count."""
    run_dir = _with_samples(tmp_path, [{"0": 100}])
    with store.cpu_speed_path(run_dir).open("a") as out:
        out.write('{"rates": [1, 2]}\nnot json at all\n')
    run = load_run(run_dir)
    assert len(run.cpu_speed) == 1
    first, second = run.problems
    assert first.startswith(f"{store.cpu_speed_path(run_dir)}:2 is not a CPU speed sample (")
    assert second.startswith(f"{store.cpu_speed_path(run_dir)}:3 is not valid JSON (")
    assert all(p.endswith("skipped: delete that line, then 'nox -s report'") for p in run.problems)
