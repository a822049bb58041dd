"""Write a built report into a folder: the HTML site, summary.csv, summary.md, values.parquet.

Everything written here is rebuilt from the raw results by ``python -m harness report``,
each file replaced in one step (store.write_atomic). The chart library's JavaScript is
copied next to the pages, so the site opens offline, straight from the file system, and
works unchanged on a static host.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import plotly.offline

from harness import store
from harness.report.build import Report
from harness.report.markdown import format_markdown
from harness.report.pages import TEMPLATES, render_pages

STATIC = ("report.css", "report.js")  # copied from templates/ into assets/


def write_report(report: Report, folder: Path, assets: str = "assets") -> None:
    """Write every derived file of ``report`` into ``folder``.

    ``assets``: where the pages find plotly and the CSS; the default is the folder's own
    copy, written here. A site's run reports share the site's one copy instead.
    """
    folder.mkdir(parents=True, exist_ok=True)
    store.write_atomic(folder / "summary.csv",
                       report.summary.to_csv(index=False, float_format="%.6g"))  # fmt: skip
    store.write_atomic(folder / "summary.md", format_markdown(report))
    parquet = io.BytesIO()
    report.values.to_parquet(parquet, index=False)
    store.write_atomic(folder / "values.parquet", parquet.getvalue())
    if assets == "assets":
        write_assets(folder / "assets")
    _copy_raw(report, folder)
    for name, html in render_pages(report, assets).items():
        store.write_atomic(folder / name, html)


def _copy_raw(report: Report, folder: Path) -> None:
    """Put the raw pyperf files beside a report written outside its run, for the downloads."""
    for path in report.raw:
        target = folder / "raw" / path.name
        target.parent.mkdir(exist_ok=True)
        if not target.exists() or not target.samefile(path):
            store.write_atomic(target, path.read_bytes())


def write_assets(assets: Path) -> None:
    """plotly.min.js, report.css and report.js into ``assets``, rewritten only if changed."""
    assets.mkdir(parents=True, exist_ok=True)
    target = assets / "plotly.min.js"
    text: Any = plotly.offline.get_plotlyjs()
    # 4+ MB: rewrite it only when plotly itself changed.
    if not target.exists() or target.stat().st_size != len(text.encode()):
        store.write_atomic(target, text)
    for name in STATIC:
        source = (TEMPLATES / name).read_text()
        if not (assets / name).exists() or (assets / name).read_text() != source:
            store.write_atomic(assets / name, source)
