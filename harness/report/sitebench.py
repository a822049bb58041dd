"""How big the history and its published site grow, and how long publishing takes, over a
year of nightlies: a benchmark that prints figures (``nox -s site-bench``), not a test.

A night is a real frozen run, tests/data/runs/quick (a quick compare of five
implementations on this project's 2-vCPU VM), widened to a full nightly's size: its cells
copied COPIES times over under new workload names (``nbody-07``), values unchanged, which
makes 2100 cells, about the 2130 a full nightly of every workload measures here. That run
is added to a history once, as ``history add`` adds one (archive.add_run: compare's tables
and figures, and the run's own pages). Each simulated night is then that set copied under
the night's date, its figures moved by noise drawn from each figure's own interval, so
that the trends and the change detection read series like real ones; the raw JSON is the
frozen run's own, not widened, kept for the newest archive.KEEP_RAW nights as history add
keeps it.

At each of CHECKPOINTS nights (and the last), printed: the history's size (what the merge
job fetches and uploads and the history job pushes, every night), the site's (what Pages
serves, up to 1 GB) and the publish time (read_history, which decides every change, then
write_site), once as before the bound, every night keeping its pages, and once as
history add now prunes it: pages for the newest archive.KEEP_PAGES nights only.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from harness import argtypes, store
from harness.history import archive
from harness.history.read import read_history
from harness.options import Parser
from harness.publish import write_run_pages
from harness.report.site import write_site
from harness.results import Run, assemble_run, load_run

FROZEN = store.ROOT / "tests" / "data" / "runs" / "quick"
# 20 copies of the frozen run's 105 cells: 2100, about the 2130 cells a full nightly of
# every workload measures on this machine (compare --plan --profile full --workload all).
COPIES = 20
NIGHTS = 365
CHECKPOINTS = (30, 91, 182)  # a month, a quarter, half a year; then --nights
FIRST_NIGHT = datetime(2027, 1, 1, 3, 17, tzinfo=UTC)  # the nightly's 03:17 UTC
Z95 = 1.96  # a figure's 95% interval is about 2 x 1.96 of its standard errors wide
MB = 1e6


@dataclass(frozen=True)
class Figures:
    """One history and its site, measured."""

    history_bytes: int
    site_bytes: int
    read_s: float  # read_history: every change decided
    write_s: float  # write_site
    paged: int  # runs whose pages the site carries
    changes: int


def widen(run: Run, copies: int) -> Run:
    """``run`` with its cells copied ``copies`` times over, each copy's workloads renamed
    ``<name>-<k>`` (the first keeps its names): a run of a bigger matrix, of real values."""

    def named(name: str, k: int) -> str:
        return f"{name}-{k:02d}" if k else name

    def tables(frame: pd.DataFrame) -> pd.DataFrame:
        return pd.concat([frame.assign(workload=[named(str(w), k) for w in frame["workload"]])
                          for k in range(copies)], ignore_index=True)  # fmt: skip

    manifest = json.loads(json.dumps(run.manifest))
    manifest["workloads"] = [{**w, "name": named(w["name"], k)} for k in range(copies)
                             for w in run.manifest["workloads"]]  # fmt: skip
    manifest["plan"] = [[i, named(w, k), m, n] for k in range(copies)
                        for i, w, m, n in run.manifest["plan"]]  # fmt: skip
    manifest["selection"]["workloads"] = [w["name"] for w in manifest["workloads"]]
    return assemble_run(run.directory, manifest, tables(run.outcomes), tables(run.values),
                        tables(run.paired), run.cpu_speed, run.cpu_machines, run.problems,
                        {}, tables(run.counts))  # fmt: skip


def noisy_figures(figures: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """The figures moved, each by a factor drawn from its own interval's spread."""
    ratio = (figures["ci_high"] / figures["ci_low"]).to_numpy(dtype=float)
    spread = np.nan_to_num(np.log(ratio) / (2 * Z95))  # no interval: not moved
    factor = np.exp(rng.normal(0.0, np.clip(spread, 0.0, 1.0)))
    return figures.assign(value=figures["value"] * factor, ci_low=figures["ci_low"] * factor,
                          ci_high=figures["ci_high"] * factor)  # fmt: skip


def add_night(base: archive.Entry, history: Path, night: int, figures: pd.DataFrame,
              raw: bool) -> None:  # fmt: skip
    """``base``'s set as night ``night`` (its date FIRST_NIGHT plus that many days) of
    ``history``, with ``figures``; its raw JSON only if ``raw``. Files that stay as they
    were are hard links: the sizes printed count each one where it lies."""
    created = (FIRST_NIGHT + timedelta(days=night)).isoformat()
    digest = hashlib.sha256(f"night {night}".encode()).hexdigest()[:8]
    ident = f"{FIRST_NIGHT + timedelta(days=night):%Y%m%d-%H%M%S}-{digest}"
    folder = history / "runs" / ident
    skipped = ["manifest.json", "figures.parquet", *([] if raw else ["raw"])]
    shutil.copytree(
        base.folder,
        folder,
        copy_function=os.link,
        ignore=lambda where, names: skipped if Path(where) == base.folder else [],
    )
    record = {**base.record, "id": ident, "created": created}
    manifest = {**base.manifest, "created": created, "history": record}
    store.write_atomic(folder / "manifest.json", json.dumps(manifest, default=str))
    figures.to_parquet(folder / "figures.parquet", index=False)


def size(folder: Path) -> int:
    """The bytes of every file under ``folder`` (a hard link counted where it lies)."""
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def measure(history: Path, site: Path) -> Figures:
    started = time.perf_counter()
    found = read_history(history)
    read_s = time.perf_counter() - started
    started = time.perf_counter()
    write_site(found, site)
    write_s = time.perf_counter() - started
    return Figures(size(history), size(site), read_s, write_s,
                   sum(e.has_pages for e in found.entries), len(found.changes))  # fmt: skip


def format_row(nights: int, bound: str, figures: Figures) -> str:
    publish = figures.read_s + figures.write_s
    return (f"{nights:>6}  {bound:<12} {figures.history_bytes / MB:>10.1f} "
            f"{figures.site_bytes / MB:>8.1f} {figures.paged:>6} {figures.read_s:>7.1f} "
            f"{figures.write_s:>7.1f} {publish:>9.1f} {figures.changes:>7}")  # fmt: skip


def bench(frozen: Path, nights: int, copies: int, keep_pages: int, work: Path,
          seed: int) -> list[tuple[int, Figures, Figures]]:  # fmt: skip
    """Build the two histories night by night; at each checkpoint measure both, before
    the bound and with it, printing a row for each."""
    run = widen(load_run(frozen), copies)
    started = time.perf_counter()
    base, _ = archive.add_run(frozen, work / "base", write_run_pages, run=run)
    added_s = time.perf_counter() - started
    pages = size(base.folder / "report")
    print(
        f"a night: {frozen} widened {copies} times, {len(run.cells)} cells, "
        f"{len(run.manifest['workloads'])} workloads; history add took {added_s:.1f} s, "
        f"its set {size(base.folder) / MB:.1f} MB, {pages / MB:.1f} MB of it pages"
    )
    print(
        f"{'nights':>6}  {'pages kept':<12} {'history MB':>10} {'site MB':>8} "
        f"{'paged':>6} {'read s':>7} {'write s':>7} {'publish s':>9} {'changes':>7}"
    )
    figures, rng = base.table("figures"), np.random.default_rng(seed)
    unbounded, bounded = work / "every-night", work / "bounded"
    for history in (unbounded, bounded):
        archive.open_history(history, create=True)
    found = []
    stops = sorted({n for n in CHECKPOINTS if n < nights} | {nights})
    for night in range(nights):
        moved = noisy_figures(figures, rng)
        # the raw JSON that history add keeps: the newest KEEP_RAW nights' at the end
        raw = night >= nights - archive.KEEP_RAW
        for history in (unbounded, bounded):
            add_night(base, history, night, moved, raw)
        if night + 1 in stops:
            archive.prune(bounded, archive.KEEP_RAW, keep_pages)
            before = measure(unbounded, work / "site-every-night")
            print(format_row(night + 1, "every night", before), flush=True)
            after = measure(bounded, work / "site-bounded")
            print(format_row(night + 1, f"newest {keep_pages}", after), flush=True)
            found.append((night + 1, before, after))
    return found


def main(argv: Sequence[str] | None = None) -> int:
    parser = Parser(prog="site-bench", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--run",
        type=Path,
        default=FROZEN,
        help="the frozen run each night is made of (default: %(default)s)",
    )
    parser.add_argument(
        "--nights",
        type=argtypes.whole,
        default=NIGHTS,
        help="nights in the history (default: %(default)s)",
    )
    parser.add_argument("--copies", type=argtypes.whole, default=COPIES,
                        help="times the run's cells are copied into a night (default: "
                        "%(default)s: a full nightly's size)")  # fmt: skip
    parser.add_argument("--keep-pages", type=argtypes.whole, default=archive.KEEP_PAGES,
                        help="nights whose pages the bounded history keeps (default: "
                        "%(default)s, archive.KEEP_PAGES)")  # fmt: skip
    parser.add_argument("--seed", type=int, default=20261204)
    args = parser.parse_args(argv)
    for flag, value in (("--nights", args.nights), ("--copies", args.copies),
                        ("--keep-pages", args.keep_pages)):  # fmt: skip
        if value < 1:
            parser.error(f"{flag} must be 1 or more, not {value}")
    if not store.manifest_path(args.run).is_file():
        parser.error(f"--run {args.run} holds no gilbench run (no run.json): name a run folder")
    with tempfile.TemporaryDirectory(prefix="gilbench-site-bench-") as scratch:
        try:
            bench(args.run, args.nights, args.copies, args.keep_pages, Path(scratch), args.seed)
        except OverflowError:  # compare's Bonferroni over many copies of a 2-pass cell
            print(f"site-bench: error: compare's intervals overflow on {args.copies} copies "
                  f"of {args.run}; choose fewer --copies", file=sys.stderr)  # fmt: skip
            return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
