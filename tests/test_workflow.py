"""The nightly workflow: it calls the nox sessions the local nightly runs, and lints clean.

GitHub Actions can't run here, so the workflow is held to what can be checked: its
``run:`` steps are exactly harness/nightly.py's command lines (which `nox -s nightly`
runs in tests/test_e2e.py) and its git-only push of the history (run here against a
local repository), its shape is what a nightly needs, and actionlint and zizmor find
nothing in it.
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from harness import nightly
from harness.provision import tools
from tests.helpers import DATA, require_or_skip

ROOT = Path(__file__).resolve().parent.parent
WORKFLOW = ROOT / ".github" / "workflows" / "nightly.yml"
BOOTSTRAP = "python -m pip install nox"  # the one run: step that is not a gilbench session
# The workflow's selection: the dispatch inputs, handed to every compare as flags.
SELECTION = ["--profile", "$PROFILE", "--budget", "$BUDGET", "--workload", "$WORKLOADS",
             "--impl", "$IMPLS"]  # fmt: skip


@pytest.fixture(scope="module")
def workflow() -> dict[Any, Any]:
    loaded: dict[Any, Any] = yaml.safe_load(WORKFLOW.read_text())
    return loaded


def _sessions(job: dict[str, Any]) -> list[tuple[str, list[str]]]:
    """Each run: step of a job as (nox session, its arguments); the bootstrap and the
    history's git-only push left out."""
    calls = []
    for step in job["steps"]:
        if "run" not in step or step["run"].strip() == BOOTSTRAP:
            continue
        if step["run"] in (nightly.PUSH_HISTORY, nightly.FAULTS):
            continue
        words = shlex.split(step["run"])
        assert words[:4] == ["python", "-m", "nox", "-s"] and words[5] == "--", step["run"]
        calls.append((words[4], words[6:]))
    return calls


def test_every_run_step_is_a_nox_session_of_the_local_nightly(workflow: dict[Any, Any]) -> None:
    """plan, measure, merge and publish call the sessions and arguments of harness/nightly.py."""
    jobs = workflow["jobs"]
    s = nightly.SESSIONS
    assert _sessions(jobs["plan"]) == [(s["plan"], nightly.plan_args("$SHARDS", SELECTION))]
    assert _sessions(jobs["measure"]) == [
        (s["measure"], nightly.measure_args("$SHARD", "$NAME", SELECTION))]  # fmt: skip
    night = nightly.add_args("reports/merged", nightly.HISTORY, "$GITHUB_RUN_ID",
                             "$GITHUB_RUN_ATTEMPT")  # fmt: skip
    assert _sessions(jobs["merge"]) == [
        (s["merge"], nightly.merge_args(["shards/*"], "reports/merged")),
        (s["fetch"], nightly.fetch_args(nightly.HISTORY)),
        (s["add"], night),
        (
            s["publish"],
            nightly.publish_args(
                nightly.HISTORY, f"reports/{nightly.SITE}", "--site-url", "$SITE_URL"
            ),
        ),
    ]
    assert _sessions(jobs["history"]) == _sessions(jobs["publish"]) == []
    listed = (DATA / "golden" / "nox-l.txt").read_text()
    assert all(f"- {name} -> " in listed or f"* {name} -> " in listed for name in s.values())


def test_the_whole_fault_suite_runs_each_night_as_root_in_a_job_of_its_own(
    workflow: dict[Any, Any],
) -> None:
    """The faults job runs `nox -s faults` (the damaged build's rebuild too) with sudo,
    needs no other job and holds no more than the workflow's read permission."""
    job = workflow["jobs"]["faults"]
    runs = [step["run"] for step in job["steps"] if "run" in step]
    assert runs == [BOOTSTRAP, nightly.FAULTS]
    assert "needs" not in job and "permissions" not in job
    assert workflow["permissions"] == {"contents": "read"}
    session = shlex.split(nightly.FAULTS.replace('"$(command -v python)"', "python"))
    assert session == ["sudo", "python", "-m", "nox", "-s", "faults"]


def test_the_triggers_are_a_schedule_off_the_hour_and_a_dispatch_with_inputs(
    workflow: dict[Any, Any],
) -> None:
    """Nightly at a minute that isn't 0, and by hand with profile, workloads, shards and
    GraalPy on or off (on by default)."""
    on = workflow[True]  # YAML 1.1 reads the key `on` as true
    (schedule,) = on["schedule"]
    minute = schedule["cron"].split()[0]
    assert minute.isdigit() and int(minute) not in (0, 30)
    inputs = on["workflow_dispatch"]["inputs"]
    assert set(inputs) == {"profile", "workloads", "shards", "graalpy"}
    assert inputs["graalpy"]["type"] == "boolean" and inputs["graalpy"]["default"] is True


def test_a_scheduled_night_measures_every_workload_adaptively_within_the_measure_jobs_limit(
    workflow: dict[Any, Any],
) -> None:
    """With no inputs (a schedule): the adaptive profile, --workload all, 20 shards, and a
    budget that leaves the measure job's set-up, report and upload time before its limit."""
    env = workflow["env"]
    assert env["PROFILE"] == "${{ inputs.profile || 'adaptive' }}"
    assert env["WORKLOADS"] == "${{ inputs.workloads || 'all' }}"
    assert env["SHARDS"] == "${{ inputs.shards || 20 }}"
    budget, limit = env["BUDGET"], workflow["jobs"]["measure"]["timeout-minutes"]
    # the set-up alone takes up to 15 minutes (a cold CPython build, GraalPy's JDK and jars)
    assert budget.endswith("m") and 0 < int(budget[:-1]) <= limit - 15, (budget, limit)


def test_graalpy_is_planned_and_measured_every_night_on_a_jdk_25_unless_turned_off(
    workflow: dict[Any, Any],
) -> None:
    """A scheduled run, or a dispatch with graalpy on, names GraalPy to every compare (the
    plan sizes its shards for its JVMs, the shard provisions it and fails if it can't);
    the measure job sets up Temurin 25 before the shard, only then."""
    impls = workflow["env"]["IMPLS"]
    assert impls == ("${{ (github.event_name != 'workflow_dispatch' || inputs.graalpy) "
                     "&& 'graalpy' || '' }}")  # fmt: skip
    steps = workflow["jobs"]["measure"]["steps"]
    names = [step.get("uses", "").split("@")[0] or "run" for step in steps]
    java = steps[names.index("actions/setup-java")]
    shard = next(i for i, s in enumerate(steps) if "--shard" in s.get("run", ""))
    assert names.index("actions/setup-java") < shard
    assert java["with"] == {"distribution": "temurin", "java-version": "25"}
    assert java["if"] == "${{ env.IMPLS != '' }}"
    assert "actions/setup-java" not in [s.get("uses", "").split("@")[0]
                                        for s in workflow["jobs"]["plan"]["steps"]]  # fmt: skip
    for job in ("plan", "measure"):
        (args,) = [a for _, a in _sessions(workflow["jobs"][job])]
        assert args[args.index("--impl") + 1] == "$IMPLS"


def test_permissions_are_the_fewest_each_job_needs(workflow: dict[Any, Any]) -> None:
    """contents: read for all but the history job's push; Pages only to deploy; the token
    is handed to the history's fetch (read-only there) and to the git-only push."""
    assert workflow["permissions"] == {"contents": "read"}
    jobs = workflow["jobs"]
    assert "permissions" not in jobs["plan"]
    assert jobs["measure"]["permissions"] == {"contents": "read", "actions": "read"}
    assert jobs["merge"]["permissions"] == {"contents": "read", "actions": "read"}
    assert jobs["history"]["permissions"] == {"contents": "write", "actions": "read"}
    writers = [name for name, job in jobs.items()
               if job.get("permissions", {}).get("contents") == "write"]  # fmt: skip
    assert writers == ["history"]
    with_token = [(name, step["run"]) for name, job in jobs.items() for step in job["steps"]
                  if "GITHUB_TOKEN" in step.get("env", {})]  # fmt: skip
    assert [(name, run.split()[:6]) for name, run in with_token[:1]] == [
        ("merge", ["python", "-m", "nox", "-s", "history", "--"])]  # fmt: skip
    assert shlex.split(with_token[0][1])[6] == "fetch"
    assert with_token[1:] == [("history", nightly.PUSH_HISTORY)]
    assert jobs["publish"]["permissions"] == {"pages": "write", "id-token": "write"}
    assert workflow["concurrency"]["cancel-in-progress"] is False


def test_the_job_that_may_write_contents_runs_git_alone(workflow: dict[Any, Any]) -> None:
    """The history job installs nothing and runs nothing of pip's or gilbench's: it
    downloads the merge job's history and its one run: step is git commands (and the
    shell's cd, export and an assignment), after the merge job finished."""
    job = workflow["jobs"]["history"]
    assert job["needs"] == "merge"
    download, push = job["steps"]
    assert download["uses"].split("@")[0] == "actions/download-artifact"
    assert download["with"]["name"] == "${{ needs.merge.outputs.history }}"
    assert download["with"]["path"] == nightly.HISTORY
    assert push["run"] == nightly.PUSH_HISTORY and push["shell"] == "bash"
    assert push["env"] == {"GITHUB_TOKEN": "${{ github.token }}"}
    commands = nightly.PUSH_HISTORY.replace("\\\n", " ").splitlines()
    words = [shlex.split(line)[0] for line in commands if not line.startswith("#")]
    assert set(words) == {"export", "cd", "git", "helper=!f() { echo username=x-access-token; "
                          'echo "password=$GITHUB_TOKEN"; }; f'}  # fmt: skip
    assert "$GITHUB_TOKEN" not in " ".join(line for line in commands if line.startswith("git"))
    merge = workflow["jobs"]["merge"]
    upload = next(s for s in merge["steps"] if s.get("with", {}).get("path") == nightly.HISTORY)
    assert upload["with"]["name"] == merge["outputs"]["history"]
    assert merge["outputs"]["history"] == "history-attempt-${{ github.run_attempt }}"


def test_the_push_makes_the_branch_one_parentless_commit_of_the_history(tmp_path: Path) -> None:
    """PUSH_HISTORY, run as the workflow runs it against a local origin, replaces the data
    branch with one parentless commit of the folder, twice over; a .git in the folder is
    not taken for the repository."""
    origin = tmp_path / "srv" / "origin.git"
    subprocess.run(["git", "init", "-q", "--bare", str(origin)], check=True)
    work = tmp_path / "work"
    commits = []
    for attempt in ("1", "2"):
        shutil.rmtree(work, ignore_errors=True)
        shutil.copytree(DATA / "history", work / nightly.HISTORY)
        (work / nightly.HISTORY / ".git").mkdir()
        (work / nightly.HISTORY / ".git" / "config").write_text("[core]\n\tbare = true\n")
        temp = tmp_path / f"temp-{attempt}"
        temp.mkdir()
        env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "RUNNER_TEMP": str(temp),
               "GITHUB_SERVER_URL": f"file://{tmp_path / 'srv'}", "GITHUB_REPOSITORY": "origin",
               "GITHUB_TOKEN": "not-a-token", "GITHUB_RUN_ID": "7",
               "GITHUB_RUN_ATTEMPT": attempt}  # fmt: skip
        subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c",
                        nightly.PUSH_HISTORY], cwd=work, env=env, check=True,
                       capture_output=True, timeout=120)  # fmt: skip
        log = subprocess.run(["git", "-C", str(origin), "log", "--format=%H %P|%s",
                              nightly.BRANCH], capture_output=True, text=True,
                             check=True).stdout.splitlines()  # fmt: skip
        (line,) = log
        head, subject = line.split("|")
        assert subject == f"gilbench history: run 7, attempt {attempt}"
        assert len(head.split()) == 1  # the commit alone: no parent
        commits.append(head)
    listing = ["git", "-C", str(origin), "ls-tree", "-r", "--name-only", nightly.BRANCH]
    files = subprocess.run(listing, capture_output=True, text=True, check=True)
    expected = sorted(str(p.relative_to(DATA / "history")) for p in (DATA / "history").rglob("*")
                      if p.is_file())  # fmt: skip
    assert sorted(files.stdout.split()) == expected
    assert commits[0] != commits[1]


def test_shards_run_apart_and_their_artifacts_keep_attempts_apart(
    workflow: dict[Any, Any],
) -> None:
    """fail-fast off, a matrix from the plan, one artifact per shard and attempt."""
    measure = workflow["jobs"]["measure"]
    assert measure["strategy"]["fail-fast"] is False
    assert "fromJSON(needs.plan.outputs.matrix)" in measure["strategy"]["matrix"]["shard"]
    uses = {step["uses"].split("@")[0]: step for step in measure["steps"] if "uses" in step}
    upload = uses["actions/upload-artifact"]["with"]
    assert upload["name"] == "${{ matrix.shard.name }}-attempt-${{ github.run_attempt }}"
    download = next(s for s in workflow["jobs"]["merge"]["steps"]
                    if s.get("uses", "").startswith("actions/download-artifact"))  # fmt: skip
    assert download["with"]["pattern"] == "shard-*"
    assert download["with"]["run-id"] == "${{ github.run_id }}"


def test_a_re_run_measure_job_takes_up_the_uploads_of_the_attempts_before_it(
    workflow: dict[Any, Any],
) -> None:
    """From attempt 2 on, the shard's earlier uploads land where --resume-from looks, and
    every attempt uploads, a cancelled one included."""
    steps = workflow["jobs"]["measure"]["steps"]
    names = [step.get("uses", "").split("@")[0] or "run" for step in steps]
    download = steps[names.index("actions/download-artifact")]
    assert download["if"] == "${{ github.run_attempt != '1' }}"
    assert download["with"]["pattern"] == "${{ matrix.shard.name }}-attempt-*"
    assert download["with"]["path"] == nightly.EARLIER
    assert download["with"]["run-id"] == "${{ github.run_id }}"
    assert names.index("actions/download-artifact") < names.index("actions/upload-artifact")
    measure_args = nightly.measure_args("$SHARD", "$NAME", SELECTION)
    assert measure_args[measure_args.index("--resume-from") + 1] == nightly.EARLIER
    assert steps[names.index("actions/upload-artifact")]["if"] == "${{ always() }}"


def test_the_build_cache_is_saved_in_a_step_of_its_own_even_when_the_shard_fails(
    workflow: dict[Any, Any],
) -> None:
    """Restored before the shard, saved after it under the same key and paths with
    always(), only when the restore missed and both builds finished, where gilbench's
    cache is (GILBENCH_CACHE)."""
    measure = workflow["jobs"]["measure"]
    steps = measure["steps"]
    names = [step.get("uses", "").split("@")[0] or "run" for step in steps]
    assert "actions/cache" not in names  # its save runs only when the job succeeds
    restore = steps[names.index("actions/cache/restore")]
    save = steps[names.index("actions/cache/save")]
    shard = next(i for i, s in enumerate(steps) if "--shard" in s.get("run", ""))
    assert names.index("actions/cache/restore") < shard < names.index("actions/cache/save")
    assert "cpython_key" in restore["with"]["key"]
    assert save["with"]["key"] == f"${{{{ steps.{restore['id']}.outputs.cache-primary-key }}}}"
    assert save["with"]["path"] == restore["with"]["path"]
    condition = save["if"]
    assert condition.startswith("${{ always() && ") and "cache-hit != 'true'" in condition
    for kind in ("default", "freethreaded"):
        assert f"hashFiles('gilbench-cache/cpython/*/{kind}/gilbench-provenance.json')" in condition
    assert measure["env"]["GILBENCH_CACHE"] == "${{ github.workspace }}/gilbench-cache"
    assert restore["with"]["path"].split() == ["gilbench-cache/cpython", "gilbench-cache/sources"]


def test_each_attempt_deploys_the_pages_artifact_its_merge_uploaded(
    workflow: dict[Any, Any],
) -> None:
    """The Pages artifact is named per attempt, and deploy-pages takes the name the merge
    job gave (a re-run of the publish job alone finds the earlier attempt's)."""
    merge = workflow["jobs"]["merge"]
    assert merge["outputs"]["pages"] == "github-pages-${{ github.run_attempt }}"
    upload = next(s for s in merge["steps"]
                  if s.get("uses", "").startswith("actions/upload-pages-artifact@"))  # fmt: skip
    assert upload["with"]["name"] == merge["outputs"]["pages"]
    publish = workflow["jobs"]["publish"]
    (deploy,) = publish["steps"]
    assert deploy["uses"].startswith("actions/deploy-pages@")
    assert deploy["with"]["artifact_name"] == "${{ needs.merge.outputs.pages }}"
    assert "merge" in publish["needs"] and "history" in publish["needs"]


def test_the_machine_fingerprint_names_the_runner_label_it_runs_on(
    workflow: dict[Any, Any],
) -> None:
    """The measure job tells gilbench its runs-on label, which the fingerprint takes in."""
    measure = workflow["jobs"]["measure"]
    assert measure["env"]["GILBENCH_RUNNER_LABEL"] == measure["runs-on"]


def test_every_action_is_pinned_to_a_version(workflow: dict[Any, Any]) -> None:
    """No action rides a branch: each names a release (zizmor.yml allows GitHub's by tag)."""
    uses = [s["uses"] for job in workflow["jobs"].values() for s in job["steps"] if "uses" in s]
    assert uses and all(u.startswith("actions/") and "@v" in u for u in uses)


def test_actionlint_finds_nothing() -> None:
    """actionlint (with shellcheck on the run: scripts) reports no finding."""
    require_or_skip(shutil.which("go") is not None, "go (to build actionlint)")
    require_or_skip(shutil.which("shellcheck") is not None, "shellcheck")
    actionlint = tools.ensure_actionlint()
    done = subprocess.run([str(actionlint), str(WORKFLOW)], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, check=False)  # fmt: skip
    assert (done.returncode, done.stdout) == (0, ""), done.stdout + done.stderr


def test_zizmor_finds_nothing_even_as_an_auditor() -> None:
    """zizmor --persona auditor, offline, reports no finding at any severity."""
    zizmor = shutil.which("zizmor", path=str(Path(sys.executable).parent)) or shutil.which("zizmor")
    assert zizmor, "zizmor is a test dependency (pyproject [test] extra)"
    done = subprocess.run([zizmor, "--offline", "--persona", "auditor", "."], cwd=ROOT,
                          capture_output=True, text=True, timeout=120, check=False)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "No findings to report" in done.stdout
