"""The nightly workflow: it calls the nox sessions the local nightly runs, and lints clean.

GitHub Actions can't run here, so the workflow is held to what can be checked: its
``run:`` steps are exactly harness/nightly.py's command lines (which `nox -s nightly`
runs in tests/test_e2e.py), its shape is what a nightly needs, and actionlint and zizmor
find nothing in it.
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
SELECTION = ["--profile", "$PROFILE", "--budget", "$BUDGET", "--workload", "$WORKLOADS"]


@pytest.fixture(scope="module")
def workflow() -> dict[Any, Any]:
    loaded: dict[Any, Any] = yaml.safe_load(WORKFLOW.read_text())
    return loaded


def _sessions(job: dict[str, Any]) -> list[tuple[str, list[str]]]:
    """Each run: step of a job as (nox session, its arguments); the bootstrap left out."""
    calls = []
    for step in job["steps"]:
        if "run" not in step or step["run"].strip() == BOOTSTRAP:
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
    assert _sessions(jobs["merge"]) == [
        (s["merge"], nightly.merge_args(["shards/*"], "reports/merged")),
        (s["fetch"], nightly.fetch_args(nightly.HISTORY)),
        (
            s["add"],
            nightly.add_args(
                "reports/merged", nightly.HISTORY, "$GITHUB_RUN_ID", "$GITHUB_RUN_ATTEMPT"
            ),
        ),
        (s["push"], nightly.push_args(nightly.HISTORY)),
        (
            s["publish"],
            nightly.publish_args(
                nightly.HISTORY, f"reports/{nightly.SITE}", "--site-url", "$SITE_URL"
            ),
        ),
    ]
    assert _sessions(jobs["publish"]) == []
    listed = (DATA / "golden" / "nox-l.txt").read_text()
    assert all(f"- {name} -> " in listed or f"* {name} -> " in listed for name in s.values())


def test_the_triggers_are_a_schedule_off_the_hour_and_a_dispatch_with_inputs(
    workflow: dict[Any, Any],
) -> None:
    """Nightly at a minute that isn't 0, and by hand with profile, workloads and shards."""
    on = workflow[True]  # YAML 1.1 reads the key `on` as true
    (schedule,) = on["schedule"]
    minute = schedule["cron"].split()[0]
    assert minute.isdigit() and int(minute) not in (0, 30)
    assert set(on["workflow_dispatch"]["inputs"]) == {"profile", "workloads", "shards"}


def test_permissions_are_the_fewest_each_job_needs(workflow: dict[Any, Any]) -> None:
    """contents: read for all but the history's push; the token reaches git alone; Pages only
    to deploy."""
    assert workflow["permissions"] == {"contents": "read"}
    jobs = workflow["jobs"]
    assert "permissions" not in jobs["plan"]
    assert jobs["measure"]["permissions"] == {"contents": "read", "actions": "read"}
    assert jobs["merge"]["permissions"] == {"contents": "write", "actions": "read"}
    with_token = [step for job in jobs.values() for step in job["steps"]
                  if "GITHUB_TOKEN" in step.get("env", {})]  # fmt: skip
    assert [shlex.split(step["run"])[6] for step in with_token] == ["fetch", "push"]
    assert jobs["publish"]["permissions"] == {"pages": "write", "id-token": "write"}
    assert workflow["concurrency"]["cancel-in-progress"] is False


def test_shards_run_apart_and_their_artifacts_keep_attempts_apart(
    workflow: dict[Any, Any],
) -> None:
    """fail-fast off, a matrix from the plan, one artifact per shard and attempt, a build cache."""
    measure = workflow["jobs"]["measure"]
    assert measure["strategy"]["fail-fast"] is False
    assert "fromJSON(needs.plan.outputs.matrix)" in measure["strategy"]["matrix"]["shard"]
    uses = {step["uses"].split("@")[0]: step for step in measure["steps"] if "uses" in step}
    upload = uses["actions/upload-artifact"]["with"]
    assert upload["name"] == "${{ matrix.shard.name }}-attempt-${{ github.run_attempt }}"
    assert "cpython_key" in uses["actions/cache"]["with"]["key"]
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
