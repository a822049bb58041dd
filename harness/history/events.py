"""What changed in a machine class's setup between two of its runs: events, drawn on the
trends and named beside a change found between the same runs as its possible causes.
Pure, over the runs' manifests (archive.py reads them).

A series is followed per machine class (machine.machine_class: CPU model, usable cores,
architecture). Everything else a run recorded of its machine and software is its class's
*setup*: the kernel, OS, memory and CPUs (affinity), the CI runner's label and image,
the host's packages (machine.PACKAGES), gilbench's version and each implementation's
version. An event is a field of a class's setup whose value differs from the one its
previous run of that class had (a new kernel's first night, or a return to an old one),
dated by the first run of the class that has the new value. A field a run didn't record
(runs made before the field was, or an implementation unavailable that night) is no
event, and the value before it carries over. A run whose shards ran on several machines
of one class has all their values, joined.

An event is only ever named as a *possible* cause: the decision is the change points'
(changes.py), and an event that coincides with a change neither makes it nor unmakes it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from harness.history.archive import Entry
from harness.history.decision import Change
from harness.history.series import CLASSES, machines
from harness.machine import machine_class

JOIN = " / "  # the values of one field on several machines of a class in one run


@dataclass(frozen=True)
class Event:
    """A field of a machine class's setup that changed, and the run it changed at."""

    machine_class: str
    run: str  # the class's first run with the new value
    order: int  # that run's place in the history
    field: str  # "kernel", "runner image", "pyperf", "3.14t", ...
    before: str
    after: str

    def describe(self) -> str:
        """``kernel 6.8.0-1017-azure → 6.11.0-1012-azure``."""
        return f"{self.field} {self.before} → {self.after}"

    def as_dict(self) -> dict[str, Any]:
        return {"machine_class": self.machine_class, "run": self.run, "field": self.field,
                "before": self.before, "after": self.after}  # fmt: skip


def setup(machine: Mapping[str, Any], record: Mapping[str, Any]) -> dict[str, str]:
    """A machine's setup in one run (``record``: the run's history record), by field; the
    fields it didn't record are left out."""
    runner = machine.get("runner") or {}
    affinity = machine.get("cpu_affinity")
    memory = machine.get("memory_gib")
    image = " ".join(str(runner[k]) for k in ("image", "image_version") if runner.get(k))
    fields: dict[str, Any] = {
        "kernel": machine.get("kernel"),
        "OS": machine.get("os"),
        "memory": f"{memory} GiB" if isinstance(memory, int) else None,
        "CPUs": ",".join(map(str, affinity)) if isinstance(affinity, list) else None,
        "runner": runner.get("label"),
        "runner image": image,
        **(machine.get("packages") or {}),
        "valgrind": machine.get("valgrind"),  # what counted the instructions
        "gilbench": (record.get("gilbench") or {}).get("version"),
        **(record.get("versions") or {}),
    }
    return {field: str(value) for field, value in fields.items()
            if value not in (None, "", "unknown")}  # fmt: skip


def class_setups(entry: Entry) -> dict[str, dict[str, str]]:
    """The setup of each machine class that measured a run."""
    found: dict[str, dict[str, set[str]]] = {}
    for machine in machines(entry.manifest).values():
        if not machine:  # a shard that never reported: no machine, no class
            continue
        into = found.setdefault(machine_class(machine), {})
        for field, value in setup(machine, entry.record).items():
            into.setdefault(field, set()).add(value)
    return {cls: {field: JOIN.join(sorted(values)) for field, values in fields.items()}
            for cls, fields in found.items()}  # fmt: skip


def find_events(entries: Sequence[Entry]) -> list[Event]:
    """Every event of the history's runs (oldest first), in run order."""
    last: dict[str, dict[str, str]] = {}
    found = []
    for order, entry in enumerate(entries):
        for cls, values in sorted(class_setups(entry).items()):
            before = last.get(cls, {})
            for field, value in values.items():
                if field in before and before[field] != value:
                    found.append(Event(cls, entry.id, order, field, before[field], value))
            last[cls] = {**before, **values}
    return found


def possible_causes(
    change: Change, events: Sequence[Event], order_of: Mapping[str, int]
) -> tuple[str, ...]:
    """The events of the change's machine classes after its last run before and up to its
    first run after: what else changed between the two."""
    low, high = order_of[change.before_run], order_of[change.after_run]
    classes = set(change.machine_class.split(CLASSES))
    named = [e.describe() for e in events if e.machine_class in classes and low < e.order <= high]
    return tuple(dict.fromkeys(named))


def with_causes(
    changes: Sequence[Change], events: Sequence[Event], order_of: Mapping[str, int]
) -> list[Change]:
    """``changes``, each naming the events that coincide with it as possible causes."""
    return [replace(c, causes=possible_causes(c, events, order_of)) for c in changes]
