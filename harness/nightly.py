"""The nightly: plan the shards, measure each on a machine of its own, merge, add the
merged run to the history, publish the site from the history.

The steps are command lines of ``python -m harness``, written once here. The GitHub
workflow (.github/workflows/nightly.yml) runs each as a nox session on its own runner;
``nightly`` runs the very same command lines here, one shard after another, and
tests/test_workflow.py holds the workflow's ``run:`` steps to them. The one step that is
not gilbench's, the history's push with the write token, runs git alone (PUSH_HISTORY).

A night is one workflow run: its id names the shards' batch and the history's entry, and
a re-run of it (``--attempt N`` here) takes up the shards measured before and replaces
the night's entry in the history.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from harness import store
from harness.options import UsageError
from harness.provision import cpython, sources
from harness.provision.impls import Impl
from harness.run import shards
from harness.run.plan import Bench, Profile
from harness.run.workloads import ALL

# The nox session each step runs in, by step.
SESSIONS = {"plan": "compare", "measure": "compare", "merge": "merge", "fetch": "history",
            "add": "history", "publish": "publish"}  # fmt: skip
SITE = "site"  # reports/site: where the nightly publishes
EARLIER = "earlier-attempts"  # where a re-run measure job finds the attempts before it
HISTORY = "history"  # reports/history: every nightly's run, kept (history/archive.py)
BRANCH = "gilbench-history"  # the data branch that keeps the history on GitHub (branch.py)
# What a nightly's shard provisions itself, so must measure: both CPython builds (their
# build dependencies from apt), PyPy and Jython from apt. Any other it was asked for by
# name (--impl) is expected too; the rest (IronPython, a GraalPy not asked for) may be
# unavailable without failing the night.
EXPECTED_FAMILIES = ("cpython", "pypy", "jython")

# The fault suite (tests/faults.py, ``nox -s faults``), the damaged build's rebuild
# included, which the test command leaves out for time: a job of its own each night, as
# root, since its full disk is a real tmpfs mounted for it. Not part of the local nightly:
# it checks gilbench, it measures nothing.
FAULTS = 'sudo "$(command -v python)" -m nox -s faults'

# The history's push, the one step that holds the token that may write contents: git
# alone, on a runner where nothing was installed, from the folder the merge job uploaded.
# The folder becomes one parentless commit that replaces the data branch (as branch.py's
# push does). Its repository lives outside the folder, so nothing in the folder can
# configure git; the token reaches git through a credential helper, never a command line.
PUSH_HISTORY = f"""\
export GIT_DIR="$RUNNER_TEMP/history.git" GIT_WORK_TREE=.
cd {HISTORY}
git init --quiet --initial-branch=history
git add --all --force .
git -c user.name=gilbench -c user.email=gilbench@localhost commit --quiet \\
  --message "gilbench history: run $GITHUB_RUN_ID, attempt $GITHUB_RUN_ATTEMPT"
# shellcheck disable=SC2016 # the helper expands $GITHUB_TOKEN when git runs it
helper='!f() {{ echo username=x-access-token; echo "password=$GITHUB_TOKEN"; }}; f'
git -c credential.helper= -c credential.helper="$helper" \\
  push --force "$GITHUB_SERVER_URL/$GITHUB_REPOSITORY.git" "HEAD:refs/heads/{BRANCH}"
"""


def plan_args(count: str, selection: Sequence[str]) -> list[str]:
    """The plan job's compare arguments: the shards as JSON (and GITHUB_OUTPUT on CI)."""
    return ["--plan", "--shards", count, "--json", *selection]


def measure_args(shard: str, name: str, selection: Sequence[str],
                 earlier: str | None = EARLIER) -> list[str]:  # fmt: skip
    """A measure job's compare arguments: one shard into reports/NAME, taking up what an
    earlier attempt of the job measured (a re-run downloads them into EARLIER); its serial
    cells' instructions counted whatever the profile (the history follows them)."""
    resume = ["--resume-from", earlier] if earlier is not None else []
    return ["--shard", shard, "--into", name, *resume, "--install-system-packages", "--count",
            *selection]  # fmt: skip


def merge_args(folders: Sequence[str], into: str) -> list[str]:
    return [*folders, "--into", into]


def fetch_args(history: str) -> list[str]:
    return ["fetch", "--into", history]


def add_args(run: str, history: str, night: str, attempt: str) -> list[str]:
    """history add: the merged run, as this attempt of the night (a later one replaces it)."""
    return ["add", run, "--into", history, "--night", night, "--attempt", attempt]


def publish_args(history: str, site: str, *extra: str) -> list[str]:
    return [history, "--into", site, *extra]


def shard_record(args: argparse.Namespace, index: int, total: int, owner: Mapping[str, int],
                 benches: Sequence[Bench]) -> dict[str, Any]:  # fmt: skip
    """What a shard's manifest says of it: enough for the merge to do without the others."""
    attempt = args.attempt or int(os.environ.get("GITHUB_RUN_ATTEMPT") or 1)
    batch = args.batch if args.batch is not None else os.environ.get("GITHUB_RUN_ID", "")
    return {"index": index, "of": total, "attempt": attempt, "batch": batch,
            "assignment": dict(owner), "plan": [list(b.cell) for b in benches]}  # fmt: skip


def expected_impls(impls: Sequence[Impl], named: Sequence[str]) -> list[str]:
    """The implementations a shard must measure: those of EXPECTED_FAMILIES, and any the
    command line named (``--impl``)."""
    return [i.id for i in impls if i.family in EXPECTED_FAMILIES or i.id in named
            or i.family in named]  # fmt: skip


def check_expected(impls: Sequence[Impl], expected: Sequence[str], code: int,
                   say: Callable[[str], None]) -> int:  # fmt: skip
    """A shard's exit status: 1 when an implementation it expected is unavailable (its
    cells are recorded missing, with the reason), after one line per reason naming it;
    else ``code``. On GitHub Actions the line is also an error annotation of the run."""
    absent: dict[str, list[str]] = {}
    for impl in impls:
        if impl.id in expected and not impl.available:
            absent.setdefault(impl.unavailable, []).append(impl.id)
    if not absent or code not in (0, 1):
        return code
    mark = "::error::" if os.environ.get("GITHUB_ACTIONS") == "true" else ""
    for reason, ids in absent.items():
        names = " and ".join([", ".join(ids[:-1]), ids[-1]] if len(ids) > 1 else ids)
        say(f"{mark}error: the nightly expects {names}, unavailable here: {reason}")
    return 1


def cache_key(impls: Sequence[Impl]) -> str:
    """What the CPython builds' cache is keyed on: version and configure flags."""
    versions = sorted({str(i.provenance.get("version")) for i in impls if i.family == "cpython"})
    version = versions[0] if versions else sources.pinned_versions()[0]
    return f"cpython-{version}-{cpython.flag_key(cpython.CONFIGURE_FLAGS)}"


def print_plan(args: argparse.Namespace, profile: Profile, benches: list[Bench]) -> int:
    """``compare --plan``: the shards and their estimated times; measures nothing."""
    workloads = {b.workload.name for b in benches}
    count = min(args.shards, len(workloads))
    costs = shards.load_costs(args.costs or latest_run(args.reports))
    plan = shards.plan_shards(benches, count, profile, costs, args.job_limit * 60.0)
    if count < args.shards:
        plan["note"] = " ".join(filter(None, [
            f"asked for {args.shards} shards; the selection has {len(workloads)} workloads, "
            f"and a shard holds whole ones, so {count}.", str(plan["note"])]))  # fmt: skip
    impls = list({b.impl.id: b.impl for b in benches if b.impl.available}.values())
    plan["impls"] = [i.id for i in impls]
    plan["cpython_key"] = cache_key(impls)
    output = os.environ.get("GITHUB_OUTPUT")  # a GitHub Actions step's outputs
    if output:
        with Path(output).open("a") as out:
            out.write(f"matrix={json.dumps(plan['shards'])}\n")
            out.write(f"cpython_key={plan['cpython_key']}\n")
    print(json.dumps(plan, indent=2) if args.json else format_plan(plan))
    return 0


def format_plan(plan: Mapping[str, Any]) -> str:
    """The plan as a table a person reads."""
    lines = [f"{plan['cells']} cells, profile {plan['profile']} ({plan['passes']} passes); "
             f"costs: {plan['costs']}"]  # fmt: skip
    for row in plan["shards"]:
        mark = "  over the job limit" if row["over_limit"] else ""
        lines.append(f"  shard {row['shard']:>5}: {row['cells']:>4} cells, about "
                     f"{row['estimate_s'] / 60:5.1f} min (+ setup): "
                     f"{', '.join(row['workloads'])}{mark}")  # fmt: skip
    if plan["note"]:
        lines.append(str(plan["note"]))
    return "\n".join(lines)


def latest_run(reports: Path) -> Path | None:
    latest = reports / "latest"
    return latest.resolve() if store.manifest_path(latest).is_file() else None


def pick_night(reports: Path, night: str | None, attempt: int) -> str:
    """The night to measure: a new one (attempt 1), else the one named or the newest."""
    nights = reports / "nightly"
    if attempt == 1:
        if night is not None:
            raise UsageError(f"--night {night} names a night to re-run: give its --attempt (2 "
                             "or more), or leave --night out to measure a new night")  # fmt: skip
        return datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    found = sorted(p.name for p in nights.glob("*") if p.is_dir()) if nights.is_dir() else []
    if night is None and not found:
        raise UsageError(f"--attempt {attempt} re-runs a night, and {nights} holds none: "
                         "measure one first, without --attempt")  # fmt: skip
    chosen = night or found[-1]
    if chosen not in found:
        raise UsageError(f"no night {chosen!r} in {nights}; nights there: "
                         f"{', '.join(found) or 'none'}")  # fmt: skip
    if (nights / chosen / attempt_folder(attempt)).exists() and attempt > 1:
        raise UsageError(f"night {chosen} has an attempt {attempt} already: re-run it as "
                         f"--attempt {attempt + 1}")  # fmt: skip
    return chosen


def attempt_folder(attempt: int) -> str:
    """Where an attempt's shards and merge go in its night's folder: the first attempt's
    at the top, a re-run's in attempt-N/."""
    return "" if attempt == 1 else f"attempt-{attempt}"


def run_nightly(count: int, selection: Sequence[str], reports: Path,
                main: Callable[[Sequence[str] | None], int], night: str | None = None,
                attempt: int = 1) -> int:  # fmt: skip
    """Plan, measure every shard here one after another, merge, add to the history and
    publish into reports/site; 1 if a shard failed (as its job fails on GitHub).

    ``attempt`` 2 or more re-runs ``night`` (the newest by default) as GitHub's "re-run"
    does: each shard takes up the newest earlier attempt of it, and the history's entry
    of the night is replaced by this attempt's."""
    from harness.run.progress import format_duration

    if not {"--workload", "-k", "--quick"} & {arg.split("=")[0] for arg in selection}:
        selection = [*selection, "--workload", ALL]  # the sized workloads too, as on CI
    stamp = pick_night(reports, night, attempt)
    if attempt > 1:
        print(f"re-running night {stamp} as attempt {attempt}")
    folder = "/".join(filter(None, ["nightly", stamp, attempt_folder(attempt)]))
    hidden = ["--reports", str(reports)]  # where the tests put their runs; the default on CI
    timings: list[tuple[str, float]] = []

    def step(name: str, argv: list[str]) -> tuple[int, str]:
        started, captured = time.monotonic(), io.StringIO()
        with contextlib.redirect_stdout(captured):
            code = main(argv)
        timings.append((name, time.monotonic() - started))
        return code, captured.getvalue()

    code, text = step("plan", ["compare", *plan_args(str(count), selection), *hidden])
    if code != 0:
        return code
    plan = json.loads(text)
    print(format_plan(plan))
    made, failed = [], []
    night_flags = ["--batch", stamp, "--attempt", str(attempt)]
    for row in plan["shards"]:
        name = f"{folder}/{row['name']}"
        earlier = _earlier_attempt(reports / "nightly" / stamp, row["name"], attempt)
        argv = ["compare", *measure_args(row["shard"], name, [*selection, *night_flags],
                                         earlier)]  # fmt: skip
        code, _ = step(f"shard {row['shard']}", [*argv, *hidden])
        if code == 2:
            return code
        if code != 0:
            failed.append(row["shard"])
        made.append(str(reports / name))
    merged, site = str(reports / folder / "merged"), str(reports / SITE)
    history = str(reports / HISTORY)  # here the history stays in reports/, not on a branch
    for name, argv in (("merge", ["merge", *merge_args(made, merged)]),
                       ("history", ["history", *add_args(merged, history, stamp, str(attempt))]),
                       ("publish", ["publish", *publish_args(history, site)])):  # fmt: skip
        code, _ = step(name, argv)
        if code != 0:
            return code
    estimates = {f"shard {r['shard']}": r["estimate_s"] for r in plan["shards"]}
    print("wall time of each step (and the plan's estimate, setup aside):")
    for name, seconds in timings:
        guess = f" (estimated {format_duration(estimates[name])})" if name in estimates else ""
        print(f"  {name:>12}: {format_duration(seconds)}{guess}")
    print(f"merged run: {merged}\nhistory: {history}\nsite: {site}/index.html")
    if failed:
        print(f"shard {', '.join(failed)} failed (see above); the night is published without "
              "its failed cells, and its job would fail on GitHub")  # fmt: skip
        return 1
    return 0


def _earlier_attempt(night: Path, shard: str, attempt: int) -> str | None:
    """The newest earlier attempt's folder of ``shard`` in ``night``, for --resume-from."""
    for earlier in range(attempt - 1, 0, -1):
        folder = night / attempt_folder(earlier) / shard
        if folder.is_dir():
            return str(folder)
    return None
