"""gilbench's front door. ``nox -l`` lists the sessions; each calls into ``harness``.

Arguments after ``--`` go to gilbench, e.g. ``nox -s compare -- --quick --workload nbody``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nox

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))

from harness.provision import cpython, impls, system, tools  # noqa: E402  (stdlib-only: cheap)

nox.options.reuse_venv = "yes"  # the host venv's packages change rarely; pip re-checks them
nox.options.sessions = ["lint", "tests"]
# Implementations are run as external interpreters by gilbench, never as nox pythons.
nox.options.error_on_missing_interpreters = False


PYPROJECT = nox.project.load_toml(ROOT / "pyproject.toml")
PLANNING = ("--plan", "--list")  # compare's flags that measure and read nothing
# The tests `nox -s tests` runs side by side: those that start no measured interpreter.
PARALLEL = "not e2e and not real"


def _install_host(session: nox.Session, extras: str = "") -> None:
    session.install("-e", f".{extras}")


def _install_light(session: nox.Session) -> None:
    """gilbench with its light core alone (pyproject's dependency-groups.light): a session
    that lists or plans reads no results, so it goes without pandas, scipy, plotly, pyarrow."""
    session.install(*nox.project.dependency_groups(PYPROJECT, "light"))
    session.install("--no-deps", "-e", ".")


@nox.session
def compare(session: nox.Session) -> None:
    """Provision every implementation, measure all workloads and models, build the report."""
    if any(flag in session.posargs for flag in PLANNING):
        _install_light(session)
    else:
        _install_host(session)
    # Ctrl-C: gilbench finishes the running benchmark and writes the report; nox waits.
    session.run("python", "-m", "harness", "compare", *session.posargs, interrupt_timeout=None)


@nox.session
def report(session: nox.Session) -> None:
    """Rebuild the newest report (or the run named after --) from stored results."""
    _install_host(session)
    session.run("python", "-m", "harness", "report", *session.posargs)


@nox.session
def show(session: nox.Session) -> None:
    """Print a run's answer table (the newest, or the run named after --) and what is undecided."""
    _install_host(session)
    session.run("python", "-m", "harness", "show", *session.posargs)


@nox.session
def diff(session: nox.Session) -> None:
    """Compare two runs cell by cell, with intervals and decisions: diff -- RUN_A RUN_B."""
    _install_host(session)
    session.run("python", "-m", "harness", "diff", *session.posargs)


@nox.session(name="list")
def list_workloads(session: nox.Session) -> None:
    """List the workloads with their categories and what each one stresses."""
    _install_light(session)
    session.run("python", "-m", "harness", "list", *session.posargs)


@nox.session(name="impls")
def impls_table(session: nox.Session) -> None:
    """List every implementation gilbench knows: measurable, or why not and how to fix it."""
    _install_light(session)
    session.run("python", "-m", "harness", "impls", *session.posargs)


@nox.session
def cpus(session: nox.Session) -> None:
    """Sample every CPU's speed for 20 s: is this machine steady enough to measure scaling?"""
    _install_light(session)
    session.run("python", "-m", "harness", "cpus", *session.posargs)


@nox.session
def tests(session: nox.Session) -> None:
    """Run the test suite, end-to-end measurements included; installs what it needs."""
    _install_host(session, "[test]")
    try:
        system.ensure_packages(system.TEST_PACKAGES, say=session.log)
    except system.SystemPackagesError as exc:
        session.error(str(exc))
    # pytest exits 5 when it collects no test; nox fails on any non-zero status, so an
    # empty run (or an empty half) can never pass as green.
    if session.posargs:
        session.run("pytest", *session.posargs, success_codes=[0])
        return
    # The tests that run no interpreter, on every CPU (a file's tests on one worker, so a
    # module's fixture is computed once; files in conftest's order, the slowest first);
    # then the ones that measure, one at a time, alone on the machine as a benchmark must be.
    session.run("pytest", "-m", PARALLEL, "-n", "auto", "--dist", "loadfile",
                "--no-loadscope-reorder", success_codes=[0])  # fmt: skip
    session.run("pytest", "-m", f"not ({PARALLEL})", success_codes=[0])


@nox.session
def lint(session: nox.Session) -> None:
    """ruff, mypy --strict, and actionlint and zizmor over the GitHub workflow."""
    _install_host(session, "[lint]")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    session.run("mypy")
    try:
        actionlint = tools.ensure_actionlint()
    except tools.ToolError as exc:
        session.error(str(exc))
    session.run(str(actionlint), external=True)
    session.run("zizmor", "--offline", "--persona", "auditor", ".")


@nox.session
def merge(session: nox.Session) -> None:
    """Join shard runs (compare --shard K/N) into one run folder: merge SHARD... --into DIR."""
    _install_host(session)
    session.run("python", "-m", "harness", "merge", *session.posargs)


@nox.session
def publish(session: nox.Session) -> None:
    """Build the site from a history (or one run): publish HISTORY --into SITE."""
    _install_host(session)
    session.run("python", "-m", "harness", "publish", *session.posargs)


@nox.session
def history(session: nox.Session) -> None:
    """Keep runs in a history: history add RUN --into DIR (also fetch and push a data branch)."""
    _install_host(session)
    session.run("python", "-m", "harness", "history", *session.posargs)


@nox.session
def faults(session: nox.Session) -> None:
    """Inject real faults (SIGKILL, a full disk, corrupt files, bad workloads): what survived?"""
    _install_host(session, "[test]")
    try:  # its runs build CPython, which a fresh runner lacks the headers for
        system.ensure_packages(system.CPYTHON_BUILD_PACKAGES, say=session.log)
    except system.SystemPackagesError as exc:
        session.error(str(exc))
    session.run("python", "-m", "tests.faults", *session.posargs)


@nox.session(name="detection-bench")
def detection_bench(session: nox.Session) -> None:
    """Print how often the change-point rules find injected steps and cry wolf (real noise)."""
    _install_host(session)
    session.run("python", "-m", "harness.history.detection", *session.posargs)


@nox.session(name="site-bench")
def site_bench(session: nox.Session) -> None:
    """Print the history's and site's size and the publish time over 365 simulated nights."""
    _install_host(session)
    session.run("python", "-m", "harness.report.sitebench", *session.posargs)


@nox.session(name="coverage-bench")
def coverage_bench(session: nox.Session) -> None:
    """Print how often the printed 95% intervals hold the truth, on real passes resampled."""
    _install_host(session)
    session.run("python", "-m", "harness.compare.coveragebench", *session.posargs)


@nox.session(name="agreement-bench")
def agreement_bench(session: nox.Session) -> None:
    """Print how many of runs' decisions a long reference run contradicts (measures nothing)."""
    _install_host(session)
    session.run("python", "-m", "harness.compare.agreement", *session.posargs)


@nox.session(name="precision-bench")
def precision_bench(session: nox.Session) -> None:
    """Print the fixed full profile's time and precision per cell against the adaptive mode's."""
    _install_host(session)
    session.run("python", "-m", "harness.run.precisionbench", *session.posargs)


@nox.session(name="instructions-bench")
def instructions_bench(session: nox.Session) -> None:
    """Print the quick serial cells' instruction counts, CV, cost, and smallest step found."""
    _install_host(session)
    session.run("python", "-m", "harness.run.instructionsbench", *session.posargs)


@nox.session(name="sweep-bench")
def sweep_bench(session: nox.Session) -> None:
    """Print each model against threads by payload, and each pool's per-task cost and payoff."""
    _install_host(session)
    session.run("python", "-m", "harness.run.sweepbench", *session.posargs)


@nox.session
def nightly(session: nox.Session) -> None:
    """The nightly workflow here: plan, N shards in turn, merge, keep in history, publish site."""
    _install_host(session)
    session.run("python", "-m", "harness", "nightly", *session.posargs)


def _bench_session(impl_id: str) -> None:
    def bench(session: nox.Session) -> None:
        _install_host(session)
        session.run("python", "-m", "harness", "run", "--impl", impl_id, *session.posargs,
                    interrupt_timeout=None)  # fmt: skip

    how = "gilbench's own runner" if impl_id.startswith(PURE_RUNNER_IMPLS) else "pyperf in a venv"
    bench.__doc__ = f"Measure {impl_id} alone ({how}) and report."
    nox.session(name=f"bench-{impl_id}")(bench)


def _series() -> str:
    """The CPython series to name sessions after: a cached build's, else the newest pin's."""
    built = cpython.find_builds()
    return impls.series_of(built[0].version) if built else impls.DEFAULT_SERIES


# Other families by a fixed id prefix (pypy3 selects pypy3.9, ...): naming them needs no
# interpreter start, so `nox -l` stays instant.
OTHER_IMPLS = ("pypy3", "jython2.7", "ironpython3.4", "graalpy")
PURE_RUNNER_IMPLS = ("jython", "ironpython")  # pyperf can't run there (it needs 3.9+)

for _impl_id in (*impls.cpython_ids(_series()), *OTHER_IMPLS):
    _bench_session(_impl_id)
