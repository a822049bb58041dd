"""``python -m harness``: provision, run, report. The nox sessions call these commands."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from harness import catalog, provision, run, store
from harness import impls as impls_mod
from harness.workloads import WorkloadError, format_listing, load_workloads, select_workloads

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
        help="worker counts instead of the default: 1, 2 and twice the usable CPUs "
        f"({','.join(map(str, run.default_workers()))} here; the last is oversubscribed)",
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
        help="apt-get install PyPy and Jython if missing (automatic as root)",
    )


def _sources(args: argparse.Namespace) -> catalog.Sources:
    return catalog.Sources(
        cpython=getattr(args, "cpython", None),
        cpython_source=getattr(args, "cpython_source", None),
        jython_jar=args.jython_jar,
        install=args.install_system_packages,
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gilbench", description="Compare Python implementations and concurrency models."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    compare = sub.add_parser("compare", help="provision, measure every implementation, report")
    compare.add_argument(
        "--impl",
        action="append",
        default=[],
        metavar="X.Y",
        help="add another CPython on this machine as a row, e.g. 3.12",
    )
    _add_selection(compare)
    _add_sources(compare)
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
    report.add_argument("--reports", type=Path, default=store.REPORTS_DIR, help=argparse.SUPPRESS)
    sub.add_parser("list", help="list the workloads")
    cpus = sub.add_parser(
        "cpus", help="sample every CPU's speed for a while: can this machine scale steadily?"
    )
    cpus.add_argument("--seconds", type=_positive, default=20.0, help="how long (default 20)")
    return parser


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive number of seconds")
    return value


def _selection(args: argparse.Namespace) -> tuple[list[str], list[int]]:
    """The models and worker counts asked for; with --list, print the workloads and exit."""
    models = [m for item in args.model for m in _csv(item)] or list(run.MODELS)
    unknown = [m for m in models if m not in run.MODELS]
    if unknown:
        raise UsageError(f"unknown model {unknown[0]!r}; choose from {', '.join(run.MODELS)}")
    if args.list:
        cmd_list(args)
        raise SystemExit(0)
    if args.quick and not args.model:
        models = list(run.QUICK_MODELS)
    if args.workers:
        return models, args.workers
    return models, list(run.QUICK_WORKERS if args.quick else run.default_workers())


def _impls(args: argparse.Namespace) -> list[impls_mod.Impl]:
    """Provision and discover what the command needs; every known row for compare."""
    if args.command == "run":
        names = [n for item in args.impl for n in _csv(item)]
        return catalog.gather(names, _sources(args), _say)
    extra = [n for item in args.impl for n in _csv(item)]
    return catalog.gather(None, _sources(args), _say, extra=extra)


def _say(message: str) -> None:
    print(f"gilbench: {message}", file=sys.stderr, flush=True)


def cmd_measure(args: argparse.Namespace) -> int:
    from harness.progress import run_with_progress
    from harness.venvs import VenvError, ensure_venv

    models, workers = _selection(args)
    catalogue = load_workloads()
    wanted = [w for item in args.workload for w in _csv(item)]
    if args.quick and not wanted:
        wanted = [run.QUICK_TAG]
        _say(f"--quick: the '{run.QUICK_TAG}'-tagged workloads; serial at 1 worker, "
             f"{', '.join(run.QUICK_MODELS[1:])} at 2; choose with --workload, --model, "
             "--workers")  # fmt: skip
    workloads = select_workloads(catalogue, wanted)
    impls = _impls(args)
    available = [i for i in impls if i.available]
    if not available:
        raise UsageError(f"nothing to measure: {impls[0].unavailable}")
    pythons: dict[str, Path] = {}
    given = getattr(args, "python", None)
    if given is not None and len(available) != 1:
        raise UsageError("--python needs exactly one --impl")
    for impl in available:
        if given is not None:
            pythons[impl.id] = given
            continue
        if impl.runner == "pure" and impl.python is not None:
            pythons[impl.id] = impl.python  # no venv: pure_runner.py needs only the stdlib
            continue
        try:
            pythons[impl.id] = ensure_venv(impl)
        except VenvError as exc:
            _say(str(exc))
            impls = [i if i is not impl else _unavailable(i, str(exc)) for i in impls]
    profile = run.PROFILES["quick" if args.quick else "full"]
    profile = replace(
        profile,
        timeout_s=args.timeout or profile.timeout_s,
        start_method=getattr(args, "start_method", None),
    )
    selection = {"models": models, "workers": workers, "workloads": [w.name for w in workloads]}
    described = [{"name": w.name, "category": w.category, "tags": list(w.tags),
                  "description": w.description} for w in workloads]  # fmt: skip
    if getattr(args, "into", None):
        run_dir = store.join_run_dir(
            args.reports, args.into, impls, profile.name, selection, described
        )
    else:
        run_dir = store.new_run_dir(args.reports)
        store.write_manifest(run_dir, impls, profile.name, selection, described)
    store.point_latest(run_dir)
    _say(f"results go to {run_dir}")
    sparse = args.sparse or (args.quick and not args.workers and not args.model)
    benches = run.plan([i for i in impls if i.available], workloads, models, workers, sparse)
    outcomes = run_with_progress(benches, pythons, run_dir, profile)
    code = _report(run_dir)
    failed = sum(o.status in FAILED for o in outcomes)
    if failed:
        _say(f"{failed} of {len(outcomes)} benchmarks failed; the report says which and why")
        return 1
    return code


def _unavailable(impl: impls_mod.Impl, reason: str) -> impls_mod.Impl:
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
    """Print the workloads (those selected, under compare/run --list) and what each stresses."""
    chosen = [w for item in getattr(args, "workload", []) for w in _csv(item)]
    print(format_listing(select_workloads(load_workloads(), chosen)), end="")
    return 0


def cmd_impls(args: argparse.Namespace) -> int:
    print(catalog.format_impls(catalog.gather(None, _sources(args), _say)), end="")
    return 0


def cmd_cpus(args: argparse.Namespace) -> int:
    """Sample all CPUs together once a second; print each sample and the verdict."""
    from harness.cpuspeed import machine_cpus, sample, steadiness

    cpus, samples = machine_cpus(), []
    end = time.monotonic() + args.seconds
    while time.monotonic() < end:
        rates = sample(cpus)
        if rates:
            samples.append(rates)
            print("  ".join(f"cpu{c} {r / 1e6:5.1f} M/s" for c, r in sorted(rates.items())))
        time.sleep(0.75)
    print(steadiness(samples).sentence())
    return 0


COMMANDS = {
    "compare": cmd_measure,
    "run": cmd_measure,
    "report": cmd_report,
    "list": cmd_list,
    "impls": cmd_impls,
    "cpus": cmd_cpus,
}


def main(argv: Sequence[str] | None = None) -> int:
    from harness.results import ResultsError

    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except (
        provision.ProvisionError,
        WorkloadError,
        UsageError,
        ResultsError,
        catalog.UnknownImplError,
        store.StoreError,
    ) as exc:
        print(f"gilbench: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("gilbench: interrupted; results measured so far are kept", file=sys.stderr)
        return 130
