"""The history folder: every run added as one set of files, written once. Only this module
knows the layout.

    HISTORY/history.json                 what the folder is (format, version); written once
    HISTORY/runs/<id>/manifest.json      the run's run.json, with the record the index shows
    HISTORY/runs/<id>/summary.parquet    the results table, one row per planned cell
    HISTORY/runs/<id>/figures.parquet    the points the trends follow (series.py)
    HISTORY/runs/<id>/values.parquet     every measured value
    HISTORY/runs/<id>/paired.parquet     the serial units paired with them
    HISTORY/runs/<id>/outcomes.parquet   every benchmark attempt
    HISTORY/runs/<id>/cpu_speed.parquet  the CPU speed samples
    HISTORY/runs/<id>/report/            the run's own pages (their assets are the site's):
                                         newest KEEP_PAGES runs only
    HISTORY/runs/<id>/raw/               pyperf's JSON, passes joined: newest KEEP_RAW runs only

The tables and figures are compare's (series.py); the run's own pages are written by the
``WritePages`` its caller passes (report/'s, from harness/publish.py), so that history/
never imports report/, which renders what history/ reads.

No file grows from run to run: a run's set is written into a hidden folder and renamed
into place in one step, and is never written again, except that the raw JSON of runs
older than the newest KEEP_RAW, and the pages of runs older than the newest KEEP_PAGES,
are deleted: an older run keeps its tables, which the trends and changes read, and its
index record, so the history and the site rebuilt from it stay bounded (a full nightly's
pages are megabytes; docs/measurements.md, "The published site").

A run's id is its creation time and a digest of its manifest and outcomes, so adding the
same run again finds it there and changes nothing.

A nightly's run is added with its ``Night``: the workflow run it came from, which a re-run
shares, and the attempt. One night is one entry: a later attempt's set is renamed into
place beside the earlier one's, which readers then pass over (that rename is the one step
that replaces it) and which is deleted right after; its record says which it replaced.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from harness import store
from harness.compare.cells import Cells, summarize
from harness.compare.verdicts import Comparison, compare_run
from harness.formats import parquet_bytes
from harness.history.record import run_record
from harness.history.series import cell_classes, cell_fingerprints, point_classes, run_figures
from harness.results import Run, load_run

FORMAT = "gilbench-history"
VERSION = 1
KEEP_RAW = 14  # runs whose pyperf JSON is kept: two weeks of nightlies
# Runs whose own pages are kept, and shown on the site: a month of nightlies. A full
# nightly's pages take about 4 MB, so a year of them would outgrow Pages' 1 GB and make
# the data branch a gigabyte to fetch, upload and push every night (nox -s site-bench).
KEEP_PAGES = 30
TABLES = ("summary", "figures", "paired", "outcomes", "cpu_speed")  # and the report's values
ASSETS = "../../assets"  # from SITE/runs/<id>/ to the site's one copy of plotly and CSS

# Writes a run's own pages into a folder, from the run and compare's figures for it, with
# their assets at ASSETS; it leaves values.parquet there, and pyperf/ if the run has raw
# files (both are moved into the set).
WritePages = Callable[[Run, Cells, Comparison, Path], None]


class HistoryError(store.StoreError):
    """A history folder that can't be read or can't take the run; one line."""


@dataclass(frozen=True)
class Night:
    """The night a nightly's run measured: the workflow run's id, which a re-run of it
    shares, and which attempt of that run this is."""

    id: str
    attempt: int = 1


@dataclass(frozen=True)
class Entry:
    """One run of the history: its folder and the record the index shows."""

    folder: Path
    manifest: dict[str, Any]

    @property
    def id(self) -> str:
        return str(self.folder.name)

    @property
    def record(self) -> dict[str, Any]:
        return dict(self.manifest["history"])

    def table(self, name: str) -> pd.DataFrame:
        return pd.read_parquet(self.folder / f"{name}.parquet")

    @property
    def has_raw(self) -> bool:
        return (self.folder / "raw").is_dir()

    @property
    def has_pages(self) -> bool:
        """Whether the history still keeps the run's own pages (the newest KEEP_PAGES)."""
        return (self.folder / "report").is_dir()

    @property
    def night(self) -> dict[str, Any] | None:
        """The night and attempt the run was added as (id, attempt, replaces), or None."""
        night = self.manifest["history"].get("night")
        return dict(night) if night else None


def is_history(folder: Path) -> bool:
    return (folder / "history.json").is_file()


def open_history(folder: Path, create: bool = False) -> Path:
    """Check (or with ``create``, make) a history folder; a wrong one is a HistoryError."""
    marker = folder / "history.json"
    if not marker.exists():
        if not create:
            raise HistoryError(
                f"{folder} is not a gilbench history (no history.json); "
                "make one with 'history add RUN --into DIR'"
            )
        if folder.exists() and any(p for p in folder.iterdir() if p.name != ".git"):
            raise HistoryError(
                f"{folder} holds other files and no history.json; name an "
                "empty or new folder for the history"
            )
        (folder / "runs").mkdir(parents=True, exist_ok=True)
        store.write_atomic(marker, json.dumps({"format": FORMAT, "version": VERSION}) + "\n")
        return folder
    try:
        head = json.loads(marker.read_text())
    except (OSError, ValueError) as exc:
        raise HistoryError(f"{marker} is unreadable ({exc}); restore it from git") from None
    if head != {"format": FORMAT, "version": VERSION}:
        raise HistoryError(
            f"{marker} is not a version-{VERSION} gilbench history: {head}; "
            "use the gilbench that wrote it"
        )
    return folder


def run_id(run_dir: Path, manifest: dict[str, Any], night: Night | None = None) -> str:
    """When the run was made, and a digest of what it recorded (and of its night and
    attempt, if it has one): the same run, the same id."""
    digest = hashlib.sha256(store.manifest_path(run_dir).read_bytes())
    outcomes = store.outcomes_path(run_dir)
    if outcomes.exists():
        digest.update(outcomes.read_bytes())
    if night is not None:  # a re-run's merge of unchanged shards is still its own attempt
        digest.update(f"night {night.id} attempt {night.attempt}".encode())
    created = datetime.fromisoformat(str(manifest["created"])).astimezone(UTC)
    return f"{created:%Y%m%d-%H%M%S}-{digest.hexdigest()[:8]}"


def add_run(
    run_dir: Path,
    history: Path,
    write_pages: WritePages,
    keep_raw: int = KEEP_RAW,
    night: Night | None = None,
    keep_pages: int = KEEP_PAGES,
    run: Run | None = None,
) -> tuple[Entry, bool]:
    """Add ``run_dir`` to ``history``, its pages written by ``write_pages``; return its
    entry and whether it was new. A run of a ``night`` the history holds an earlier
    attempt of replaces that attempt's entry (the entry's ``night`` says which). ``run``:
    the run as already read from ``run_dir`` (site-bench's, widened in memory)."""
    # a run that can't be read stops here, before anything is written
    run = load_run(run_dir) if run is None else run
    open_history(history, create=True)
    _drop_replaced(history)  # what an add cut off between its rename and its delete left
    ident = run_id(run_dir, run.manifest, night)
    folder = history / "runs" / ident
    if not (folder / "manifest.json").exists():
        earlier = _earlier_attempts(history, night) if night is not None else []
        cells = summarize(run)
        record = None if night is None else {
            "id": night.id, "attempt": night.attempt,
            "replaces": sorted({a for e in earlier for a in _attempts(e)})}  # fmt: skip
        _write_set(run, cells, compare_run(cells), folder, write_pages, record)
        _drop_replaced(history)
        added = True
    else:
        added = False
    prune(history, keep_raw, keep_pages)
    return _entry(folder), added


def _earlier_attempts(history: Path, night: Night) -> list[Entry]:
    """The entries of ``night`` that its attempt replaces; a HistoryError if the history
    already holds this attempt or a later one (a run of it that is not this one)."""
    found = [e for e in _all_entries(history) if (e.night or {}).get("id") == night.id]
    for entry in found:
        held = int((entry.night or {})["attempt"])
        if held >= night.attempt:
            raise HistoryError(
                f"{history} holds attempt {held} of night {night.id!r} already ({entry.id}), "
                f"and this is attempt {night.attempt} of it: add a re-run of the night "
                f"with a higher --attempt"
            )
    return found


def _attempts(entry: Entry) -> list[int]:
    """The attempts of its night an entry stands for: its own and those it replaced."""
    night = entry.night or {}
    return [*map(int, night.get("replaces", [])), int(night["attempt"])]


def _drop_replaced(history: Path) -> None:
    """Delete every entry that a later attempt of its night replaced: renamed out of the
    way first, so that a delete cut short leaves nothing a reader takes for a run."""
    kept = {e.folder for e in entries(history)}
    for entry in _all_entries(history):
        if entry.folder not in kept:
            gone = entry.folder.with_name(f".{entry.folder.name}.replaced")
            entry.folder.rename(gone)
    for gone in (history / "runs").glob(".*.replaced"):
        shutil.rmtree(gone, ignore_errors=True)


def _write_set(
    run: Run,
    cells: Cells,
    comparison: Comparison,
    folder: Path,
    write_pages: WritePages,
    night: dict[str, Any] | None = None,
) -> None:
    """Write the run's files beside the others, then rename them into place at once; an
    earlier attempt that was cut short left only a hidden folder, removed here."""
    for stale in folder.parent.glob(f".{folder.name}.*.new"):
        shutil.rmtree(stale, ignore_errors=True)
    fresh = folder.with_name(f".{folder.name}.{os.getpid()}.new")
    fresh.mkdir(parents=True)
    speeds = pd.DataFrame(
        [
            {"machine": m, "cpu": cpu, "rate": rate, "sample": i}
            for i, (m, sample) in enumerate(zip(run.cpu_machines, run.cpu_speed, strict=True))
            for cpu, rate in sample.items()
        ],
        columns=["machine", "cpu", "rate", "sample"],
    )
    summary = cells.table.assign(
        fingerprint=cell_fingerprints(run.manifest, cells.table),
        machine_class=cell_classes(run.manifest, cells.table),
    )
    tables = {
        "summary": summary,
        "figures": run_figures(run.manifest, cells, comparison),
        "paired": run.paired,
        "outcomes": run.outcomes,
        "cpu_speed": speeds,
    }
    for name in TABLES:  # each with its format version (formats.py)
        data = parquet_bytes(tables[name], f"{name}.parquet")
        store.write_atomic(fresh / f"{name}.parquet", data)
    record = run_record(folder.name, run.manifest, summary, speeds)
    if night is not None:
        record["night"] = night
    manifest = {**run.manifest, "history": record}
    store.write_atomic(
        fresh / "manifest.json", json.dumps(manifest, indent=2, sort_keys=True, default=str) + "\n"
    )
    report_dir = fresh / "report"
    write_pages(run, cells, comparison, report_dir)  # assets at ASSETS: the site's one copy
    (report_dir / "values.parquet").rename(fresh / "values.parquet")  # kept once
    if (report_dir / "pyperf").is_dir():  # each implementation's pyperf file, passes joined
        (report_dir / "pyperf").rename(fresh / "raw")
    fresh.rename(folder)


def _entry(folder: Path) -> Entry:
    try:
        return Entry(folder, json.loads((folder / "manifest.json").read_text()))
    except (OSError, ValueError) as exc:
        raise HistoryError(
            f"{folder}/manifest.json is unreadable ({exc}); delete that run's "
            "folder and add the run again"
        ) from None


def entries(history: Path) -> list[Entry]:
    """Every run of the history, oldest first (by creation time, then id); of a night's
    attempts, only the newest."""
    found = _all_entries(history)
    newest: dict[str, int] = {}
    for entry in found:
        if entry.night:
            night, attempt = str(entry.night["id"]), int(entry.night["attempt"])
            newest[night] = max(newest.get(night, attempt), attempt)
    return [e for e in found
            if not e.night or int(e.night["attempt"]) == newest[str(e.night["id"])]]  # fmt: skip


def _all_entries(history: Path) -> list[Entry]:
    """Every run folder, a replaced attempt's too, oldest first."""
    open_history(history)
    folders = [p for p in (history / "runs").iterdir() if p.is_dir() and not p.name.startswith(".")]
    return sorted((_entry(p) for p in folders), key=lambda e: (e.record["created"], e.id))


def prune(history: Path, keep_raw: int = KEEP_RAW, keep_pages: int = KEEP_PAGES) -> None:
    """Delete the raw JSON of every run older than the newest ``keep_raw``, and the pages
    of every run older than the newest ``keep_pages`` (renamed out of the way first, so
    that a delete cut short never leaves a run with half its pages)."""
    found = entries(history)
    for entry in found[: max(0, len(found) - keep_raw)]:
        if entry.has_raw:
            shutil.rmtree(entry.folder / "raw")
    for entry in found[: max(0, len(found) - max(1, keep_pages))]:
        if entry.has_pages:
            (entry.folder / "report").rename(entry.folder / ".report.pruned")
    for gone in (history / "runs").glob("*/.report.pruned"):
        shutil.rmtree(gone, ignore_errors=True)


def points(found: list[Entry]) -> pd.DataFrame:
    """Every run's figures in one table, with the run's id and place (``order``) in it, and
    each point's machine class (series.point_classes: derived where a run predates it)."""
    frames = []
    for i, entry in enumerate(found):
        figures = entry.table("figures")
        classes = point_classes(entry.manifest, figures)
        frames.append(figures.assign(machine_class=classes, run=entry.id, order=i))
    if not frames:
        return pd.DataFrame(columns=["run", "order"])
    return pd.concat(frames, ignore_index=True)


def iter_raw(entry: Entry) -> Iterator[Path]:
    yield from sorted((entry.folder / "raw").glob("*")) if entry.has_raw else ()


def copy_report(entry: Entry, target: Path, downloads: bool = True) -> None:
    """The run's own report as a site shows it: its pages and summary.md, and with
    ``downloads`` its summary.csv, values and raw JSON (while the history keeps it)."""
    keep = shutil.ignore_patterns() if downloads else shutil.ignore_patterns("summary.csv")
    shutil.copytree(entry.folder / "report", target, ignore=keep)
    if not downloads:
        return
    shutil.copy2(entry.folder / "values.parquet", target / "values.parquet")
    # where the run's pages link them: pyperf/, or raw/ in pages older than the pieces
    linked = "pyperf" if 'href="pyperf/' in (target / "index.html").read_text() else "raw"
    for raw in iter_raw(entry):
        (target / linked).mkdir(exist_ok=True)
        shutil.copy2(raw, target / linked / raw.name)
