"""Which implementations the comparisons are made against, found from the run's manifest."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Roles:
    """Which implementations the comparisons are made against, found from the data."""

    reference: str | None  # every other implementation is measured against this one
    free_threaded: str | None  # a free-threaded build with the GIL off (``X.Yt``)
    default: str | None  # the default build of the same version (``X.Y``)


def find_roles(manifest: Mapping[str, Any]) -> Roles:
    """Pair a free-threaded build with its default build; neither is assumed to exist.

    The pair is found by id (``X.Yt`` with ``X.Y``) or, failing that, by the provenance
    (same family and version, one built free-threaded): ids are data, not constants.
    """
    impls = [i for i in manifest.get("impls", []) if not i.get("unavailable")]
    for ft in impls:
        prov_ft = ft.get("provenance") or {}
        if ft.get("expect_gil") != 0 or not (
            prov_ft.get("free_threaded") or re.fullmatch(r"\d+\.\d+t", str(ft["id"]))
        ):
            continue
        base = str(ft["id"])[:-1] if str(ft["id"]).endswith("t") else None
        for default in impls:
            prov = default.get("provenance") or {}
            same_build = (
                default.get("family") == ft.get("family")
                and prov.get("version") == prov_ft.get("version") is not None
                and prov.get("free_threaded") is False
            )
            if default.get("expect_gil") == 1 and (default["id"] == base or same_build):
                return Roles(str(default["id"]), str(ft["id"]), str(default["id"]))
    reference = str(impls[0]["id"]) if impls else None
    return Roles(reference, None, None)
