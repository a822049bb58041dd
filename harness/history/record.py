"""What the runs index shows of a run: worked out once, when the run is added to the
history (archive.py), and kept in its manifest's ``history`` record."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pandas as pd

from harness.history.series import machines
from harness.machine import fingerprint, machine_class
from harness.status import FAILED


def run_record(
    ident: str, manifest: dict[str, Any], summary: pd.DataFrame, speeds: pd.DataFrame
) -> dict[str, Any]:
    """The run's id, when it was made and added, its versions, machines, cells by status
    and CPU speed."""
    status = summary["status"]
    cpu = []
    for label, rows in speeds.groupby("machine", sort=True):
        cpu.append(
            {
                "machine": str(label),
                "samples": int(rows["sample"].nunique()),
                "median_rate": float(rows["rate"].median()),
                "slowest_rate": float(rows["rate"].min()),
            }
        )
    return {
        "id": ident,
        "added": datetime.now(UTC).isoformat(timespec="seconds"),
        "created": manifest["created"],
        "gilbench": manifest.get("gilbench", {}),
        "profile": manifest.get("profile", ""),
        "versions": {
            str(i["id"]): str(i.get("provenance", {}).get("version") or "")
            for i in manifest["impls"]
            if not i.get("unavailable")
        },
        "machines": {
            label: {**_described(m), "fingerprint": fingerprint(m), "class": machine_class(m)}
            for label, m in machines(manifest).items()
        },
        "cells": {
            "ok": int((status == "ok").sum()),
            "failed": int(status.isin(FAILED).sum()),
            "missing": int((status == "missing").sum()),
            "unavailable": int((status == "unavailable").sum()),
            "unsupported": int((status == "unsupported").sum()),
        },
        "cpu_speed": cpu,
    }


def _described(machine: dict[str, Any]) -> dict[str, Any]:
    keys = ("cpu_model", "cpu_count", "cpu_affinity", "memory_gib", "kernel", "os", "runner",
            "machine", "packages")  # fmt: skip
    return {key: machine.get(key, "unknown") for key in keys}
