"""The published site: for now, the newest run's report, written into a folder of its own.

``publish`` writes into a fresh folder beside the site and then swaps it in, so that a
site being served is never half written. What the site holds is exactly what ``report``
writes into a run's folder: the pages, their assets, the downloads and the raw files.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from harness.report.build import build_report
from harness.report.write import write_report
from harness.results import load_run


def publish(run_dir: Path, site: Path) -> Path:
    """Replace ``site`` with ``run_dir``'s report; return the site's folder."""
    fresh = site.with_name(f".{site.name}.new")
    old = site.with_name(f".{site.name}.old")
    for stale in (fresh, old):
        shutil.rmtree(stale, ignore_errors=True)
    write_report(build_report(load_run(run_dir)), fresh)
    if site.exists():
        site.rename(old)
    fresh.rename(site)
    shutil.rmtree(old, ignore_errors=True)
    return site
