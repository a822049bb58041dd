"""Events: what else changed in a class of machine's setup between two of its runs, found
per class over runs that need not be consecutive, drawn on the trends and named as the
possible causes of a change that coincides with one."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from harness.history import archive
from harness.history.events import find_events, setup
from harness.history.read import read_history, run_classes
from harness.machine import machine_class, machine_info
from harness.publish import publish
from tests.test_history import NIGHTLIES, regressed_history

EPYC = {"cpu_model": "AMD EPYC 7763 64-Core Processor", "cpu_count": 4,
        "cpu_affinity": [0, 1, 2, 3], "machine": "x86_64", "memory_gib": 16,
        "kernel": "6.8.0-1017-azure", "os": "Ubuntu 24.04.1 LTS",
        "runner": {"label": "ubuntu-24.04", "image": "ubuntu24", "image_version": "20261201.1"},
        "packages": {"pyperf": "2.10.0", "numpy": "2.5.5"}}  # fmt: skip
GENOA = {**EPYC, "cpu_model": "AMD EPYC 9V74 80-Core Processor"}


def entry(night: int, machine: dict[str, Any], versions: dict[str, str] | None = None) -> Any:
    """A run of the history as archive reads it, measured on ``machine``."""
    record = {"gilbench": {"version": "0.3.0"}, "versions": versions or {"3.14": "3.14.7"}}
    manifest = {"machine": machine, "history": record}
    return archive.Entry(Path(f"2026120{night}-031700-0000000{night}"), manifest)


def test_a_machine_class_is_its_cpu_model_usable_cores_and_architecture() -> None:
    """The class names the CPU, the cores the run may use and the architecture; a recorded
    class is taken as it is, and this machine's record carries its own."""
    assert machine_class(EPYC) == "AMD EPYC 7763 64-Core Processor, 4 cores, x86_64"
    assert machine_class({**EPYC, "cpu_affinity": [0]}) == (
        "AMD EPYC 7763 64-Core Processor, 1 core, x86_64"
    )
    assert machine_class({**EPYC, "kernel": "6.11", "memory_gib": 32}) == machine_class(EPYC)
    assert machine_class({"machine_class": "named"}) == "named"
    here = machine_info()
    assert here["machine_class"] == machine_class({**here, "machine_class": None})
    assert set(here["packages"]) >= {"pyperf", "numpy", "pandas", "scipy"}


def test_events_are_found_per_class_over_its_own_runs() -> None:
    """Two classes alternate: a new kernel and pyperf on one class are its events at the
    first of its runs that had them (the other class's runs between don't count), a
    return to the old kernel is one too, and a field a run didn't record is none."""
    newer = {**EPYC, "kernel": "6.11.0-1012-azure",
             "packages": {"pyperf": "2.11.0", "numpy": "2.5.5"}}  # fmt: skip
    image = {**GENOA, "runner": {**GENOA["runner"], "image_version": "20261208.1"}}
    runs = [entry(0, EPYC), entry(1, GENOA), entry(2, EPYC), entry(3, image),
            entry(4, newer), entry(5, image, {"3.14": "3.14.8"}),
            entry(6, {**EPYC, "kernel": "unknown", "packages": {}}), entry(7, EPYC)]  # fmt: skip
    found = [(e.run[7], e.machine_class[:13], e.describe()) for e in find_events(runs)]
    assert found == [
        ("3", "AMD EPYC 9V74", "runner image ubuntu24 20261201.1 → ubuntu24 20261208.1"),
        ("4", "AMD EPYC 7763", "kernel 6.8.0-1017-azure → 6.11.0-1012-azure"),
        ("4", "AMD EPYC 7763", "pyperf 2.10.0 → 2.11.0"),
        ("5", "AMD EPYC 9V74", "3.14 3.14.7 → 3.14.8"),
        ("7", "AMD EPYC 7763", "kernel 6.11.0-1012-azure → 6.8.0-1017-azure"),
        ("7", "AMD EPYC 7763", "pyperf 2.11.0 → 2.10.0"),
    ]
    assert "CPUs" in setup(EPYC, {}) and "memory" in setup(EPYC, {})


def kernel_history(tmp_path: Path) -> Path:
    """The regressed history (its last three runs twice as slow in serial throughput), the
    slow runs on a new kernel: their manifests edited, their tables not."""
    history = regressed_history(tmp_path)
    for found in archive.entries(history)[-3:]:
        path = found.folder / "manifest.json"
        manifest = json.loads(path.read_text())
        for machine in [manifest["machine"], *(s["machine"] for s in manifest["shards"])]:
            machine["kernel"] = "6.19.1-fc-v2000"
        path.write_text(json.dumps(manifest))
    return history


def test_a_change_that_coincides_with_an_event_names_it_as_a_possible_cause(
    tmp_path: Path,
) -> None:
    """The regression found at the first run on the new kernel names the kernel; the class
    is the same, so the series goes on across it; changes.json and the page say so."""
    history = kernel_history(tmp_path)
    found = read_history(history)
    kernel = "kernel 6.18.44-fc-v1045 → 6.19.1-fc-v2000"
    assert [e.describe() for e in found.events] == [kernel]
    assert found.changes and all(c.causes == (kernel,) for c in found.changes)
    assert all(kernel in c.describe() for c in found.changes)
    site = publish(history, tmp_path / "site").site
    data = json.loads((site / "changes.json").read_text())
    assert {tuple(c["causes"]) for c in data["changes"]} == {(kernel,)}
    assert [e["field"] for e in data["events"]] == ["kernel"]
    assert "6.19.1-fc-v2000" in (site / "changes.html").read_text()
    (tmp_path / "quiet").mkdir()
    quiet = read_history(regressed_history(tmp_path / "quiet"))
    assert quiet.events == [] and all(c.causes == () for c in quiet.changes)


def test_the_trends_draw_each_event_as_a_dotted_rule_named_after_its_fields(
    tmp_path: Path,
) -> None:
    """Each dated chart has a dotted rule labelled "kernel" at the first run on the new
    kernel, its values on hover."""
    history = kernel_history(tmp_path)
    first = archive.entries(history)[-3]
    site = publish(history, tmp_path / "site").site
    text = (site / "trends.html").read_text()
    figures = [
        json.loads(chunk.split("</script>")[0].split(">", 1)[1])
        for chunk in text.split('<script type="application/json"')[1:]
    ]
    dated = [f for f in figures if f["layout"]["xaxis"].get("type") == "date"]
    assert dated
    when = pd.Timestamp(first.record["created"]).tz_convert("UTC").strftime("%Y-%m-%d %H:%M:%S")
    for figure in dated:
        (note,) = [n for n in figure["layout"]["annotations"] if n["text"] == "kernel"]
        assert note["x"] == when and "6.19.1-fc-v2000" in note["hovertext"]
        shapes = figure["layout"]["shapes"]
        assert any(s["line"].get("dash") == "dot" and s["x0"] == when for s in shapes)


def test_the_nightlies_classes_are_derived_for_runs_added_before_classes() -> None:
    """The frozen history's tables and records predate classes: every point gets its
    class from its run's machine, the pinned run's being 1 core."""
    found = archive.entries(NIGHTLIES)
    points = archive.points(found)
    classes = points.groupby("run")["machine_class"].unique()
    assert {tuple(v) for v in classes} == {
        ("AMD EPYC, 2 cores, x86_64",),
        ("AMD EPYC, 1 core, x86_64",),
    }
    assert run_classes(found[-1]) == {"AMD EPYC, 1 core, x86_64"}
