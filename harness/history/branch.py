"""The nightly's history on a data branch of the repository it runs in.

``fetch`` unpacks the branch's one commit into a folder (none yet: an empty folder);
``push`` replaces the branch with one new commit holding that folder, parentless. The
branch never carries an old copy of anything: the raw JSON pruned from the history is gone
from it too, so it stays the size of the history itself rather than growing like a
benchmark site that commits a data file every night. The merged run of each night is
also kept as a workflow artifact, so a night lost to a failed push can be added again.

Git runs in the repository of the current directory (the workflow's checkout), against
its ``origin``. On GitHub Actions the token comes from ``GITHUB_TOKEN`` in the
environment and is handed to git as a header for that one command, never stored.
"""

from __future__ import annotations

import base64
import io
import os
import subprocess
import tarfile
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from harness.history.archive import HistoryError
from harness.untar import extract_data

BRANCH = "gilbench-history"
LOCAL_REF = "refs/gilbench/history"


def _git(
    args: Sequence[str],
    env: Mapping[str, str] | None = None,
    check: bool = True,
    cwd: Path | None = None,
) -> subprocess.CompletedProcess[bytes]:
    auth: list[str] = []
    token = os.environ.get("GITHUB_TOKEN", "")
    if token:
        basic = base64.b64encode(f"x-access-token:{token}".encode()).decode()
        auth = ["-c", f"http.extraheader=AUTHORIZATION: basic {basic}"]
    done = subprocess.run(
        ["git", *auth, *args],
        capture_output=True,
        timeout=600,
        cwd=cwd,
        env={**os.environ, **(env or {})},
        check=False,
    )
    if check and done.returncode != 0:
        why = done.stderr.decode(errors="replace").strip().splitlines()
        raise HistoryError(f"git {args[0]} failed: {why[-1] if why else done.returncode}")
    return done


def fetch(folder: Path, branch: str = BRANCH) -> bool:
    """Unpack ``origin``'s ``branch`` into ``folder``; False if there is no such branch."""
    folder.mkdir(parents=True, exist_ok=True)
    if any(folder.iterdir()):
        raise HistoryError(f"{folder} is not empty; fetch the history into a new folder")
    got = _git(
        ["fetch", "--depth", "1", "origin", f"+refs/heads/{branch}:{LOCAL_REF}"], check=False
    )
    if got.returncode != 0:
        if b"couldn't find remote ref" in got.stderr or b"not found" in got.stderr:
            return False
        why = got.stderr.decode(errors="replace").strip().splitlines()
        raise HistoryError(f"git fetch of {branch} failed: {why[-1] if why else ''}")
    archive = _git(["archive", "--format=tar", LOCAL_REF]).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        extract_data(tar, folder)
    return True


def push(folder: Path, message: str, branch: str = BRANCH) -> str:
    """Make ``origin``'s ``branch`` one parentless commit of ``folder``; return its hash."""
    git_dir = _git(["rev-parse", "--absolute-git-dir"]).stdout.decode().strip()
    with tempfile.TemporaryDirectory(prefix="gilbench-index-") as scratch:
        env = {
            "GIT_INDEX_FILE": str(Path(scratch) / "index"),
            "GIT_DIR": git_dir,
            "GIT_WORK_TREE": str(folder.resolve()),
            "GIT_AUTHOR_NAME": "gilbench",
            "GIT_AUTHOR_EMAIL": "gilbench@localhost",
            "GIT_COMMITTER_NAME": "gilbench",
            "GIT_COMMITTER_EMAIL": "gilbench@localhost",
        }
        _git(["add", "--all", "--force", "."], env, cwd=folder)
        tree = _git(["write-tree"], env, cwd=folder).stdout.decode().strip()
        commit = _git(["commit-tree", tree, "-m", message], env, cwd=folder).stdout.decode()
    commit = commit.strip()
    _git(["push", "--force", "origin", f"{commit}:refs/heads/{branch}"])
    return commit
