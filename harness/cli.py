"""``python -m harness``: provision, run, report. The nox sessions call these commands."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from harness import impls as impls_mod
from harness import provision, run, store
from harness.workloads import WorkloadError, load_workloads, select_workloads

FAILED = frozenset({"crashed", "timeout", "wrong-checksum", "gil-mismatch", "missing"})


class UsageError(Exception):
    """A command line that can't be acted on."""


def _csv(text: str) -> list[str]:
    return [part for part in text.replace(",", " ").split() if part]


def _workers(text: str) -> list[int]:
    try:
        counts = [int(part) for part in _csv(text)]
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
        help=f"concurrency model: {', '.join(run.MODELS)} (default: all)",
    )
    group.add_argument(
        "--workers",
        "-W",
        type=_workers,
        default=None,
        metavar="N,N",
        help="worker counts (default: 1,2)",
    )
    group.add_argument(
        "--quick", action="store_true", help="fewer pyperf processes and values: rough figures fast"
    )
    group.add_argument(
        "--timeout",
        type=float,
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
    group.add_argument("--reports", type=Path, default=store.REPORTS_DIR, help=argparse.SUPPRESS)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gilbench", description="Compare Python implementations and concurrency models."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    compare = sub.add_parser("compare", help="provision, measure every implementation, report")
    _add_selection(compare)
    bench = sub.add_parser("run", help="measure one implementation and report")
    bench.add_argument("--impl", required=True, help="implementation id, e.g. 3.14t")
    _add_selection(bench)
    report = sub.add_parser("report", help="rebuild a report from stored results")
    report.add_argument("run", nargs="?", default="latest", help="run folder (default: latest)")
    report.add_argument("--reports", type=Path, default=store.REPORTS_DIR, help=argparse.SUPPRESS)
    sub.add_parser("list", help="list the workloads")
    return parser


def _selection(args: argparse.Namespace) -> tuple[list[str], list[int]]:
    models = [m for item in args.model for m in _csv(item)] or list(run.MODELS)
    unknown = [m for m in models if m not in run.MODELS]
    if unknown:
        raise UsageError(f"unknown model {unknown[0]!r}; choose from {', '.join(run.MODELS)}")
    return models, args.workers or list(run.DEFAULT_WORKERS)


def _impls(args: argparse.Namespace, only: str | None = None) -> list[impls_mod.Impl]:
    """Provision what the selection needs and return every implementation row."""
    series = impls_mod.series_of(args.cpython) if args.cpython else impls_mod.DEFAULT_SERIES
    if only is not None and only not in impls_mod.cpython_ids(series):
        known = ", ".join(impls_mod.cpython_ids(series))
        raise UsageError(f"unknown implementation {only!r}; known: {known}")
    try:
        default, free_threaded = provision.provision_cpython(
            args.cpython, args.cpython_source, progress=_say
        )
    except provision.ProvisionError as exc:
        found = impls_mod.unavailable_cpython(
            series, str(exc), "nox -s compare -- --cpython-source PATH/Python-X.Y.Z.tar.xz"
        )
    else:
        found = impls_mod.cpython_impls(default, free_threaded)
    if only is not None:
        found = [i for i in found if i.id == only]
    return found


def _say(message: str) -> None:
    print(f"gilbench: {message}", file=sys.stderr, flush=True)


def cmd_measure(args: argparse.Namespace) -> int:
    from harness.progress import run_with_progress
    from harness.venvs import VenvError, ensure_venv

    models, workers = _selection(args)
    catalogue = load_workloads()
    workloads = select_workloads(catalogue, [w for item in args.workload for w in _csv(item)])
    impls = _impls(args, getattr(args, "impl", None))
    available = [i for i in impls if i.available]
    if not available:
        raise UsageError(f"nothing to measure: {impls[0].unavailable}")
    pythons = {}
    for impl in list(available):
        try:
            pythons[impl.id] = ensure_venv(impl)
        except VenvError as exc:
            _say(str(exc))
            impls = [i if i is not impl else _unavailable(i, str(exc)) for i in impls]
    profile = run.PROFILES["quick" if args.quick else "full"]
    if args.timeout:
        profile = run.Profile(profile.name, profile.passes, profile.pyperf_args, args.timeout)
    run_dir = store.new_run_dir(args.reports)
    store.write_manifest(
        run_dir,
        impls,
        profile.name,
        {"models": models, "workers": workers, "workloads": [w.name for w in workloads]},
        [{"name": w.name, "category": w.category, "tags": list(w.tags),
          "description": w.description} for w in workloads],
    )  # fmt: skip
    store.point_latest(run_dir)
    _say(f"results go to {run_dir}")
    benches = run.plan([i for i in impls if i.available], workloads, models, workers)
    outcomes = run_with_progress(benches, pythons, run_dir, profile)
    code = _report(run_dir)
    failed = sum(o.status in FAILED for o in outcomes)
    if failed:
        _say(f"{failed} of {len(outcomes)} benchmarks failed; the report says which and why")
        return 1
    return code


def _unavailable(impl: impls_mod.Impl, reason: str) -> impls_mod.Impl:
    from dataclasses import replace

    return replace(impl, unavailable=reason)


def _report(run_dir: Path) -> int:
    from harness.render import render_report
    from harness.results import load_run

    render_report(load_run(run_dir))
    _say(f"report: {run_dir / 'index.html'}")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from harness.results import resolve_run

    return _report(resolve_run(args.reports, args.run))


def cmd_list(args: argparse.Namespace) -> int:
    for w in load_workloads():
        print(f"{w.name:<16} {w.category:<10} {w.description}")
    return 0


COMMANDS = {"compare": cmd_measure, "run": cmd_measure, "report": cmd_report, "list": cmd_list}


def main(argv: Sequence[str] | None = None) -> int:
    from harness.results import ResultsError

    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except (provision.ProvisionError, WorkloadError, UsageError, ResultsError) as exc:
        print(f"gilbench: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("gilbench: interrupted; results measured so far are kept", file=sys.stderr)
        return 130
