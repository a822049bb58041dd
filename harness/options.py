"""The command line's flags: one argparse parser for every ``python -m harness`` command.

Mistakes that argparse can see (a non-numeric ``--workers``, an unknown flag) exit 2 with
one line before anything runs; the commands raise ``UsageError`` for the rest.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from harness import __version__, argtypes, store
from harness.run import plan as planning
from harness.run.plan import MODELS


class UsageError(Exception):
    """A command line that can't be acted on."""


class Parser(argparse.ArgumentParser):
    """argparse, with a refusal of one line (what was wrong, where help is) in place of its
    usage block and error."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}; see '{self.prog} --help'\n")


def split_list(text: str) -> list[str]:
    return [part for part in text.replace(",", " ").split() if part]


def _workers(text: str) -> list[int]:
    try:
        counts = [int(part) for part in split_list(text)]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--workers takes whole numbers like 1,2,4, not {text!r}"
        ) from None
    if not counts or min(counts) < 1:
        raise argparse.ArgumentTypeError(f"--workers must be 1 or more, not {text!r}")
    return counts


def _add_selection(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("selection")
    group.add_argument(
        "--workload",
        "-k",
        action="append",
        default=[],
        metavar="NAME",
        help="workload name, category, tag or .py path (repeat or comma-separate)",
    )
    group.add_argument(
        "--model",
        "-m",
        action="append",
        default=[],
        metavar="MODEL",
        help=f"concurrency model: {', '.join(MODELS)} (default: all)",
    )
    group.add_argument(
        "--workers",
        "-W",
        type=_workers,
        default=None,
        metavar="N,N",
        help="worker counts instead of the default: powers of two up to the usable CPUs, "
        "their count and twice it, as many as the budget's first passes can take "
        f"({','.join(map(str, planning.default_workers()))} here; the last is oversubscribed; "
        "the answer is read at the CPU count)",
    )
    group.add_argument(
        "--payload",
        type=argtypes.payload,
        default=None,
        metavar="SIZES",
        help="bytes in and out of each unit of the payload workloads (those that declare "
        "PAYLOADS, e.g. payload_bytes), e.g. 0,1KiB,64KiB,1MiB (default: each one's own)",
    )
    group.add_argument(
        "--task-size",
        type=argtypes.task_size,
        default=None,
        metavar="SIZES",
        help="the work in each task of the task-size workloads (TASK_SIZES, e.g. "
        "task_size), e.g. 10us,100us,1ms,10ms (default: each one's own)",
    )
    group.add_argument(
        "--start-method",
        choices=("spawn", "forkserver", "fork"),
        default=None,
        help="how the processes model starts its workers (default: the platform's; "
        "fork is refused where it isn't safe)",
    )
    group.add_argument(
        "--list",
        action="store_true",
        help="list the selected workloads with their categories, then exit",
    )
    group.add_argument(
        "--quick",
        action="store_true",
        help="3 pyperf processes x 3 values a cell and, unless chosen, a small headline "
        "selection: rough figures in minutes",
    )
    group.add_argument(
        "--sparse",
        action="store_true",
        help="serial only at 1 worker (every speedup's baseline), the other models only at "
        "the other counts (the default under --quick)",
    )
    group.add_argument(
        "--timeout",
        type=argtypes.positive,
        default=None,
        metavar="S",
        help="kill a benchmark that runs longer than S seconds",
    )
    group.add_argument(
        "--cpython",
        metavar="X.Y.Z",
        default=None,
        help="CPython version to build (default: newest pinned that can be had)",
    )
    group.add_argument(
        "--cpython-source",
        type=Path,
        default=None,
        metavar="PATH",
        help="a Python-X.Y.Z.tar.xz or source folder to build from",
    )
    group.add_argument(
        "--unverified-source",
        action="store_true",
        help="build a --cpython-source tarball whose sha256 matches no pin; its builds are "
        "marked unverified in their provenance and the report",
    )
    group.add_argument(
        "--profile",
        choices=sorted(planning.PROFILES),
        default=None,
        help="the effort: adaptive (the default: until every figure is decided), quick "
        "(as --quick) or full (a fixed 20 processes x 3 values, as earlier runs)",
    )
    group.add_argument(
        "--count",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="count each serial cell's instructions per unit under valgrind, before the timed "
        "passes (default: counted by the adaptive and full profiles, not by --quick)",
    )
    group.add_argument(
        "--precision",
        type=argtypes.precision,
        default=None,
        metavar="P",
        help="besides deciding every figure, measure each cell until the interval of its "
        "speedup and of its ratio to the reference lies within +-P, e.g. 0.02 or 2%% "
        "(default: no width asked)",
    )
    group.add_argument(
        "--margin",
        type=argtypes.margin,
        default=None,
        metavar="M",
        help="two figures within M of each other are equivalent, e.g. 0.05 or 5%% (the "
        "default): the adaptive profile measures until each figure is a difference or "
        "within it",
    )
    group.add_argument(
        "--budget",
        type=argtypes.parse_duration,
        default=None,
        metavar="DURATION",
        help="stop starting benchmarks after this long, e.g. 90m, 2h or 1h30m (default: "
        f"{planning.DEFAULT_BUDGET_S / 60:.0f}m for the adaptive profile, none for the fixed)",
    )
    group.add_argument(
        "--resume",
        nargs="?",
        const="",
        default=None,
        metavar="RUN",
        help="continue a run that was cut off (default: the newest unfinished one): its "
        "measured cells are kept, the rest measured",
    )
    group.add_argument("--reports", type=Path, default=store.reports_dir(), metavar="DIR",
                       help="where run folders go (default: ./reports)")  # fmt: skip


def _add_sharding(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("many machines (a nightly; see README)")
    group.add_argument(
        "--shard", default=None, metavar="K/N",
        help="measure only the K-th of N parts of the selection (whole workloads each)",
    )  # fmt: skip
    group.add_argument(
        "--plan", action="store_true",
        help="print the shards and their estimated times, then exit (measures nothing)",
    )  # fmt: skip
    group.add_argument("--shards", type=_count, default=1, metavar="N",
                       help="with --plan: how many shards (default 1)")  # fmt: skip
    group.add_argument("--json", action="store_true", help="with --plan: as JSON")
    group.add_argument(
        "--costs", type=Path, default=None, metavar="RUN",
        help="with --plan: a finished run whose benchmark times estimate the shards' "
        "(default: the newest run in reports/, else measured defaults)",
    )  # fmt: skip
    group.add_argument("--job-limit", type=_count, default=350, metavar="MINUTES",
                       help="with --plan: a CI job's time limit (default 350)")  # fmt: skip
    group.add_argument(
        "--into", default=None, metavar="NAME",
        help="write into reports/NAME (a shard's fixed folder, or one shared by tox envs)",
    )  # fmt: skip
    group.add_argument(
        "--resume-from", type=Path, default=None, metavar="FOLDER",
        help="with --shard: take up the newest earlier attempt of this shard found in FOLDER "
        "(a re-run CI job's download of them), if measured on a machine of this kind; an "
        "empty or absent FOLDER measures from the start",
    )  # fmt: skip
    group.add_argument("--attempt", type=_count, default=None, help=argparse.SUPPRESS)
    group.add_argument("--batch", default=None, help=argparse.SUPPRESS)


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of 1 or more")
    return value


def _add_sources(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("implementations")
    group.add_argument(
        "--jython-jar",
        type=Path,
        default=None,
        metavar="JAR",
        help="a jython-standalone jar to use instead of `jython` on PATH",
    )
    group.add_argument(
        "--install-system-packages",
        action="store_true",
        help="apt-get install CPython's build dependencies, PyPy and Jython if missing "
        "(automatic as root)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="gilbench", description="Compare Python implementations and concurrency models."
    )
    parser.add_argument("--version", action="version", version=f"gilbench {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    compare = sub.add_parser("compare", help="provision, measure every implementation, report")
    compare.add_argument(
        "--impl",
        action="append",
        default=[],
        metavar="X.Y",
        help="add a row: another CPython on this machine (e.g. 3.12), or graalpy (from "
        "Maven on a JDK 25 when none is on PATH; measured only when asked for)",
    )
    _add_selection(compare)
    _add_sources(compare)
    _add_sharding(compare)
    bench = sub.add_parser("run", help="measure some implementations and report")
    bench.add_argument(
        "--impl",
        action="append",
        required=True,
        metavar="ID",
        help="implementation id, e.g. 3.14t, pypy3, jython2.7 (repeatable)",
    )
    bench.add_argument(
        "--python",
        type=Path,
        default=None,
        metavar="PATH",
        help="measure with this interpreter (e.g. a tox env's) instead of "
        "gilbench's own venv for it; needs pyperf installed",
    )
    bench.add_argument(
        "--into",
        default=None,
        metavar="NAME",
        help="write into reports/NAME, shared with other runs (tox envs)",
    )
    _add_selection(bench)
    _add_sources(bench)
    listing = sub.add_parser("impls", help="list every implementation and how to get it")
    _add_sources(listing)
    report = sub.add_parser("report", help="rebuild a report from stored results")
    report.add_argument("run", nargs="?", default="latest", help="run folder (default: latest)")
    report.add_argument("--reports", type=Path, default=store.reports_dir(), help=argparse.SUPPRESS)
    show = sub.add_parser("show", help="print a run's answer table and what is undecided")
    show.add_argument("run", nargs="?", default="latest", metavar="RUN",
                      help="a run folder, a run's id or latest (the default)")  # fmt: skip
    show.add_argument("--reports", type=Path, default=store.reports_dir(), metavar="DIR",
                      help="where run ids are looked for (default: ./reports)")  # fmt: skip
    diff = sub.add_parser("diff", help="compare two runs cell by cell: B's throughput over A's")
    for side in ("run_a", "run_b"):
        diff.add_argument(side, metavar=side[-1].upper(),
                          help="a run folder, a run's id or latest")  # fmt: skip
    diff.add_argument("--margin", type=argtypes.margin, default=None, metavar="M",
                      help="within M of each other, a cell's two figures are equivalent "
                      "(default 5%%)")  # fmt: skip
    diff.add_argument("--reports", type=Path, default=store.reports_dir(), metavar="DIR",
                      help="where run ids are looked for (default: ./reports)")  # fmt: skip
    merge = sub.add_parser("merge", help="join shard runs into one run folder, and report it")
    merge.add_argument("shards", nargs="+", type=Path, metavar="SHARD_DIR",
                       help="the folders that compare --shard K/N wrote")  # fmt: skip
    merge.add_argument("--into", type=Path, required=True, metavar="DIR",
                       help="the new run folder")  # fmt: skip
    publish = sub.add_parser("publish", help="build the site to publish from a history")
    publish.add_argument("run", type=Path, metavar="HISTORY",
                         help="a history folder (history add), or a single run folder")  # fmt: skip
    publish.add_argument("--into", type=Path, required=True, metavar="SITE",
                         help="the site's folder (replaced)")  # fmt: skip
    publish.add_argument("--site-url", default="", metavar="URL",
                         help="where the site is served, for the Atom feed's links")  # fmt: skip
    _add_regression_flag(publish)
    history = sub.add_parser("history", help="keep runs in a history: history add RUN --into DIR")
    history_sub = history.add_subparsers(dest="history_command", required=True, metavar="ACTION")
    add = history_sub.add_parser("add", help="add a run to a history (nothing if already there)")
    add.add_argument("run", type=Path, help="a run folder (merged or not)")
    add.add_argument("--into", type=Path, required=True, metavar="HISTORY",
                     help="the history's folder (made if new)")  # fmt: skip
    add.add_argument("--keep-raw", type=argtypes.whole, default=None, metavar="K",
                     help="keep pyperf's raw JSON of the newest K runs (default 14); the "
                     "tables of every run are always kept")  # fmt: skip
    add.add_argument("--night", default=None, metavar="ID",
                     help="the nightly's run this run is a night of (its workflow run id): "
                     "a later --attempt of it replaces its entry")  # fmt: skip
    add.add_argument("--attempt", type=_count, default=None, metavar="N",
                     help="with --night: that run's attempt (a re-run's is 2, 3, ...)")  # fmt: skip
    _add_regression_flag(add)
    fetch = history_sub.add_parser("fetch", help="unpack the history from a data branch")
    fetch.add_argument("--into", type=Path, required=True, metavar="DIR", help="a new folder")
    fetch.add_argument("--branch", default="gilbench-history",
                       help="origin's branch holding it (default gilbench-history)")  # fmt: skip
    push = history_sub.add_parser("push", help="replace the data branch with the history")
    push.add_argument("history_dir", type=Path, metavar="HISTORY")
    push.add_argument("--branch", default="gilbench-history",
                      help="origin's branch to replace (default gilbench-history)")  # fmt: skip
    nightly = sub.add_parser(
        "nightly",
        help="what the nightly workflow does, here: plan, shards, merge, publish",
        description="Every other flag is compare's, e.g. nightly --shards 3 --quick.",
    )
    nightly.add_argument("--shards", type=_count, default=2, metavar="N",
                         help="how many shards, measured in turn (default 2)")  # fmt: skip
    nightly.add_argument("--attempt", type=_count, default=1, metavar="N",
                         help="re-run a night as attempt N: shards take up the attempt "
                         "before, and the history's entry of the night is replaced")  # fmt: skip
    nightly.add_argument("--night", default=None, metavar="STAMP",
                         help="with --attempt: the night (reports/nightly/STAMP; default: the "
                         "newest)")  # fmt: skip
    nightly.add_argument("--reports", type=Path, default=store.reports_dir(),
                         help=argparse.SUPPRESS)  # fmt: skip
    sub.add_parser("list", help="list the workloads")
    cpus = sub.add_parser(
        "cpus", help="sample every CPU's speed for a while: can this machine scale steadily?"
    )
    cpus.add_argument("--seconds", type=argtypes.positive, default=20.0,
                      help="how long (default 20)")  # fmt: skip
    return parser


def _add_regression_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--fail-on-regression", action="store_true",
                        help="exit 1 when the newest run brings a regression to light")  # fmt: skip


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line; ``nightly`` keeps the flags it doesn't know for compare."""
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra and args.command != "nightly":
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    args.selection = extra
    return args
