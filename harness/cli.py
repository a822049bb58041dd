"""``python -m harness``: provision, run, report. The nox sessions call these commands.

Each command reads as the steps of the data path, one call each (see ``cmd_measure``);
the work is done in the step packages.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from harness import nightly, publish, reading, store
from harness.options import UsageError, parse_args, split_list
from harness.provision import catalog, cpython, sources
from harness.provision.impls import Impl
from harness.provision.packages import prepare_packages
from harness.run import plan as planning
from harness.run import shards, sweep
from harness.run.plan import MODELS, QUICK_MODELS, QUICK_TAG, Bench, Profile, quick_workers
from harness.run.resume import Resumed
from harness.run.workloads import (
    Workload,
    WorkloadError,
    format_listing,
    load_workloads,
    select_workloads,
)
from harness.status import FAILED


def _sources(args: argparse.Namespace) -> catalog.Sources:
    return catalog.Sources(
        cpython=getattr(args, "cpython", None),
        cpython_source=getattr(args, "cpython_source", None),
        jython_jar=args.jython_jar,
        install=args.install_system_packages,
        unverified=getattr(args, "unverified_source", False),
    )


@dataclass(frozen=True)
class Request:
    """What a measuring command was asked for, checked before anything is built."""

    workloads: list[Workload]
    models: list[str]
    workers: list[int]
    sparse: bool  # serial only at 1 worker, the other models only at the other counts
    profile: Profile
    margin: float | None = None  # --margin: within it, equivalent (None: decisions.MARGIN)
    by_workload: bool = False  # no model named: each workload gets plan.models_for's


def parse_request(args: argparse.Namespace) -> Request:
    """The selection and effort asked for; a mistake is a UsageError or a WorkloadError."""
    models = [m for item in args.model for m in split_list(item)] or list(MODELS)
    unknown = [m for m in models if m not in MODELS]
    if unknown:
        raise UsageError(f"unknown model {unknown[0]!r}; choose from {', '.join(MODELS)}")
    source = getattr(args, "cpython_source", None)
    if source is not None and not source.exists():
        raise UsageError(f"--cpython-source {source}: no such file or folder; give the path "
                         "of a Python-X.Y.Z.tar.xz or of its unpacked source folder")  # fmt: skip
    version = getattr(args, "cpython", None)
    if version and source is None:  # refused before a word about what would be measured
        sources.parse_version(version)
        sources.require_pinned(version)
    quick = args.quick or args.profile == "quick"
    profile = planning.PROFILES["quick" if quick else args.profile or "adaptive"]
    if args.precision is not None and profile.name != "adaptive":
        raise UsageError(f"--precision sets the adaptive profile's target; the {profile.name} "
                         "profile measures a fixed effort: drop one of them")  # fmt: skip
    if quick and not args.model:
        models = list(QUICK_MODELS)
    wanted = [w for item in args.workload for w in split_list(item)]
    if quick and not wanted and not args.list:
        wanted = [QUICK_TAG]
        _say(f"--quick: the '{QUICK_TAG}'-tagged workloads; serial at 1 worker, "
             f"{', '.join(QUICK_MODELS[1:])} at {quick_workers()[1]}; choose with "
             "--workload, --model, --workers")  # fmt: skip
    workloads = select_workloads(load_workloads(), wanted, args.payload, args.task_size)
    workers = args.workers or list(quick_workers() if quick else planning.default_workers())
    profile = replace(profile, timeout_s=args.timeout or profile.timeout_s,
                      start_method=args.start_method,
                      precision=args.precision or profile.precision,
                      budget_s=args.budget or profile.budget_s,
                      count=profile.count if getattr(args, "count", None) is None
                      else args.count)  # fmt: skip
    sparse = args.sparse or (quick and not args.workers and not args.model)
    margin = getattr(args, "margin", None)
    return Request(workloads, models, list(workers), sparse, profile, margin, not args.model)


def gather_impls(args: argparse.Namespace, dry: bool = False) -> list[Impl]:
    """Provision and discover what the command needs; every known row for compare.

    ``dry``: build and install nothing (planning), see catalog.gather.
    """
    names = [n for item in args.impl for n in split_list(item)]
    if args.command == "run":
        return catalog.gather(names, _sources(args), _say, dry=dry)
    return catalog.gather(None, _sources(args), _say, extra=names, dry=dry)


def prepare_pythons(impls: list[Impl], given: Path | None) -> tuple[list[Impl], dict[str, Path]]:
    """The interpreter each available implementation is measured with.

    pyperf's runner runs in a venv of the implementation (or ``--python``, a tox env's);
    the pure runner needs only the standard library. An implementation whose venv can't
    be made becomes unavailable, with the reason.
    """
    from harness.provision.venvs import VenvError, ensure_venv

    available = [i for i in impls if i.available]
    if not available:
        raise UsageError(f"nothing to measure: {impls[0].unavailable}")
    if given is not None and len(available) != 1:
        raise UsageError("--python needs exactly one --impl")
    pythons: dict[str, Path] = {}
    for impl in available:
        try:
            if given is not None:
                pythons[impl.id] = given
            elif impl.runner == "pure" and impl.python is not None:
                pythons[impl.id] = impl.python
            else:
                pythons[impl.id] = ensure_venv(impl, _say)
        except VenvError as exc:
            _say(str(exc))
            impls = [i if i is not impl else replace(i, unavailable=str(exc)) for i in impls]
    return impls, pythons


def open_run(args: argparse.Namespace, request: Request, impls: list[Impl],
             benches: list[Bench], extra: Mapping[str, object] | None = None) -> Path:  # fmt: skip
    """A run folder with its manifest written, and ``latest`` pointing at it."""
    from harness.compare.decisions import MARGIN  # numpy and scipy: not for list or --plan

    selection = {"models": request.models, "workers": request.workers,
                 "workloads": [w.name for w in request.workloads]}  # fmt: skip
    described = [{"name": w.name, "category": w.category, "tags": list(w.tags),
                  "description": w.description, "path": str(w.path), "size": w.size,
                  "sweep": w.sweep} for w in request.workloads]  # fmt: skip
    name = getattr(args, "into", None) or ""
    profile = request.profile
    extra = {**(extra or {}), "effort": asdict(profile)}  # what --resume goes on with
    if profile.precision is not None or profile.budget_s is not None:
        extra["precision"] = {"target": profile.precision, "budget_s": profile.budget_s}
    extra["decisions"] = {"margin": request.margin or MARGIN}  # cells.levels_of reads it
    manifest = store.make_manifest(name, impls, profile.name, selection, described,
                                   [b.cell for b in benches], extra)  # fmt: skip
    if name:
        run_dir = store.join_run_dir(args.reports, name, manifest)
    else:
        run_dir = store.new_run_dir(args.reports)
        store.write_manifest(run_dir, {**manifest, "run": run_dir.name})
    _say(f"results go to {run_dir}")
    return run_dir


def measure(run_dir: Path, benches: list[Bench], pythons: dict[str, Path], profile: Profile,
            earlier: Path | None = None, resumed: Resumed | None = None) -> int:  # fmt: skip
    """Count the serial cells' instructions (if the profile counts), run the matrix with
    a progress bar, sampling the CPUs' speed between benchmarks, then report it; the exit
    status.

    The adaptive profile measures until every figure is decided (and each cell is at
    its precision, if one was asked) within the budget; its first passes' times are
    estimated from the ``earlier`` run's (or measured defaults). A ``resumed`` run keeps
    the attempts it recorded. Ctrl-C stops after the running benchmark and reports what
    was measured; the run stays resumable.
    """
    from harness.run.counts import count_first
    from harness.run.cpuspeed import Sampler
    from harness.run.matrix import Stop, was_cut
    from harness.run.progress import run_with_progress
    from harness.run.resume import resume_hint, stop_on_interrupt

    sampler = Sampler(store.cpu_speed_path(run_dir))
    try:
        with stop_on_interrupt(_say):
            profile = count_first(run_dir, benches, pythons, profile, _say, lambda: Stop.requested)
            if profile.name == "adaptive":
                from harness.run.adaptive import run_adaptive

                costs = shards.load_costs(run_dir if resumed else earlier)
                lines = resumed.lines if resumed else []
                outcomes = run_adaptive(benches, pythons, run_dir, profile, costs, _say,
                                        sampler, lines)  # fmt: skip
            else:
                done = resumed.done() if resumed else None
                outcomes = run_with_progress(benches, pythons, run_dir, profile, sampler, done)
        report = reading.report_run(run_dir)
        if not Stop.requested:
            store.mark_complete(run_dir)
            store.point_latest(run_dir)
    except store.DiskFull as exc:
        raise store.DiskFull(f"{exc}; every cell measured is kept: free space, then continue "
                             f"with: {resume_hint(run_dir)}") from None  # fmt: skip
    reading.print_answer(report, run_dir)  # the last lines, but for what it failed to do
    if Stop.requested:
        _say(f"stopped by Ctrl-C; what was measured is kept. Continue with: {resume_hint(run_dir)}")
        return 130
    cut = sum(was_cut(o) for o in outcomes)
    failed = sum(o.status in FAILED for o in outcomes) - cut
    if cut:
        _say(f"{cut} of {len(outcomes)} cells were not reached within the budget (recorded "
             "missing, with that reason): give more --budget, or select fewer cells")  # fmt: skip
    if failed:
        _say(f"{failed} of {len(outcomes)} benchmarks failed; the report says which and why")
    return int(bool(failed) or (cut > 0 and not any(o.status == "ok" for o in outcomes)))


def cmd_resume(args: argparse.Namespace) -> int:
    """compare --resume [RUN]: the cut-off run's remaining cells, then its report."""
    from harness.run.resume import find, refuse_other_flags, take_up

    refuse_other_flags(args)
    resumed = take_up(find(args.reports, args.resume), _say, args.budget, args.timeout)
    impls, pythons = prepare_pythons(resumed.impls, None)
    by_id = {i.id: i for i in impls}  # a venv that can't be made again: unavailable now
    benches = [replace(b, impl=by_id[b.impl.id]) for b in resumed.benches]
    prepare_packages(benches, pythons, _say)  # run.json has them; the cache may not
    _say(f"resuming {resumed.run_dir}: {len(resumed.lines)} attempts kept")
    return measure(resumed.run_dir, benches, pythons, resumed.profile, None, resumed)


def take_up_attempt(args: argparse.Namespace, profile: Profile, shard: Mapping[str, object],
                    impls: list[Impl], pythons: dict[str, Path]) -> int | None:  # fmt: skip
    """compare --shard --resume-from: a re-run CI job goes on from the attempt before it,
    with a budget of its own; None when there is none to take up."""
    from harness.run.resume import adopt, read_lines, take_up

    run_dir = args.reports / args.into
    kept = adopt(args.resume_from, run_dir, shard, impls, _say)
    if kept is None:
        return None
    if store.is_complete(run_dir):  # its job ended; only its upload or a later job failed
        reading.report_answered(run_dir)
        lines = read_lines(store.outcomes_path(run_dir))
        return int(any(line["status"] in FAILED for line in lines))
    budget = None if profile.budget_s is None else profile.budget_s + kept
    resumed = take_up(run_dir, _say, budget, args.timeout)
    by_id = {i.id: i for i in impls}
    benches = [replace(b, impl=by_id[b.impl.id]) for b in resumed.benches]
    return measure(run_dir, benches, pythons, resumed.profile, None, resumed)


def cmd_measure(args: argparse.Namespace) -> int:
    """compare and run: provision, plan, measure, report."""
    if getattr(args, "resume", None) is not None:
        return cmd_resume(args)
    request = parse_request(args)
    if args.list:
        print(format_listing(request.workloads), end="")
        return 0
    if getattr(args, "plan", False):
        return nightly.print_plan(
            args, request.profile, plan_with(request, gather_impls(args, dry=True))
        )
    sharding = _sharding(args, request)  # a wrong K/N is refused before anything is built
    if getattr(args, "resume_from", None) is not None and sharding is None:
        raise UsageError("--resume-from takes up an earlier attempt of a shard: give it with "
                         "--shard K/N --into NAME (--resume continues any other run)")  # fmt: skip
    impls, pythons = prepare_pythons(gather_impls(args), getattr(args, "python", None))
    if sharding is None and not args.workers and request.profile.budget_s:  # the default sweep
        request = sweep.fit_sweep(request, lambda r: plan_with(r, impls), args.reports, _say)
    benches = plan_with(request, impls)
    extra: dict[str, object] | None = None
    expected: list[str] = []  # a nightly's shard fails when one of these is unavailable
    if sharding is not None:
        index, total, owner = sharding
        expected = nightly.expected_impls(impls, [n for i in args.impl for n in split_list(i)])
        record = nightly.shard_record(args, index, total, owner, benches)
        extra = {"shard": record, "expected": expected}
        benches = shards.shard(benches, index, owner)
        if args.resume_from is not None:
            taken = take_up_attempt(args, request.profile, record, impls, pythons)
            if taken is not None:
                return nightly.check_expected(impls, expected, taken, _say)
    extra = {**(extra or {}), **prepare_packages(benches, pythons, _say)}  # the REQUIRES
    if request.profile.count:  # installed before run.json records the machine's valgrind
        from harness.provision.valgrind import probe_valgrind

        probe_valgrind(args.install_system_packages or None, _say)
    earlier = nightly.latest_run(args.reports)  # before this run becomes the latest
    run_dir = open_run(args, request, impls, benches, extra)
    code = measure(run_dir, benches, pythons, request.profile, earlier)
    return nightly.check_expected(impls, expected, code, _say)


def plan_with(request: Request, impls: list[Impl]) -> list[Bench]:
    return planning.plan(impls, request.workloads, request.models, request.workers,
                         request.sparse, request.by_workload)  # fmt: skip


def _sharding(args: argparse.Namespace, request: Request) -> tuple[int, int, dict[str, int]] | None:
    """(K, N, workload -> shard) for --shard K/N; the assignment depends on the selection only."""
    if not getattr(args, "shard", None):
        return None
    index, total = shards.parse_shard(args.shard)
    counting = [Impl(id="-", family="cpython", python=None)]  # every impl plans the same cells
    return index, total, shards.assign(plan_with(request, counting), total)


def cmd_merge(args: argparse.Namespace) -> int:
    """Join shard folders into one run folder and report it."""
    from harness.merge import merge

    merged = merge(args.shards, args.into)
    reading.report_answered(merged)
    manifest = store.load_manifest(merged)
    for shard in manifest["shards"]:
        if shard["status"] != "merged":
            _say(f"shard {shard['index']}/{shard['of']} {shard['status']}: {shard['reason']}")
    for refused in manifest["refused"]:
        _say(refused)
    return 0


def cmd_nightly(args: argparse.Namespace) -> int:
    """The nightly workflow's steps, on this machine, one shard after another."""
    return nightly.run_nightly(args.shards, args.selection, args.reports, main, args.night,
                               args.attempt)  # fmt: skip


def cmd_report(args: argparse.Namespace) -> int:
    from harness.results import resolve_run

    reading.report_answered(resolve_run(args.reports, args.run))
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    """Print the workloads and what each stresses."""
    print(format_listing(load_workloads()), end="")
    return 0


def cmd_impls(args: argparse.Namespace) -> int:
    print(catalog.format_impls(catalog.gather(None, _sources(args), _say)), end="")
    return 0


def cmd_cpus(args: argparse.Namespace) -> int:
    """Sample all CPUs together once a second; print each sample and the verdict."""
    from harness.run.cpuspeed import watch

    watch(args.seconds)
    return 0


def _say(message: str) -> None:
    print(f"gilbench: {message}", file=sys.stderr, flush=True)


COMMANDS = {
    "compare": cmd_measure,
    "run": cmd_measure,
    "merge": cmd_merge,
    "publish": publish.cmd_publish,
    "history": publish.cmd_history,
    "nightly": cmd_nightly,
    "report": cmd_report,
    "show": reading.cmd_show,
    "diff": reading.cmd_diff,
    "list": cmd_list,
    "impls": cmd_impls,
    "cpus": cmd_cpus,
}


def main(argv: Sequence[str] | None = None) -> int:
    from harness.merge import MergeError

    args = parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except (
        cpython.ProvisionError,
        WorkloadError,
        UsageError,
        catalog.UnknownImplError,
        store.StoreError,  # with results.py's and archive.py's (they import pandas)
        shards.ShardError,
        MergeError,
    ) as exc:
        print(f"gilbench: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("gilbench: interrupted; results measured so far are kept", file=sys.stderr)
        return 130
