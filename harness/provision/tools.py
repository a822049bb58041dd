"""Tools the project's own checks need, built from the registries into the per-user cache.

actionlint checks the GitHub workflow; it is a Go program, and Go's module proxy serves
it, so ``go install`` builds it where Go is present (the package index has only a wrapper
whose build downloads a binary from GitHub). zizmor comes as a wheel with the lint and
test extras.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from harness.provision.cpython import cache_dir

ACTIONLINT = "github.com/rhysd/actionlint/cmd/actionlint"
ACTIONLINT_VERSION = "v1.7.12"  # the newest the Go module proxy served here (2026-12)


class ToolError(Exception):
    """A tool that can't be had here; the message says what to install."""


def ensure_actionlint() -> Path:
    """actionlint at its pinned version, built once with ``go install``; its path."""
    folder = cache_dir() / "tools" / f"actionlint-{ACTIONLINT_VERSION}"
    binary = folder / "actionlint"
    if binary.is_file():
        return binary
    go = shutil.which("go")
    if go is None:
        raise ToolError("actionlint is built with Go, which is missing: install golang-go")
    env = {**os.environ, "GOBIN": str(folder), "CGO_ENABLED": "0"}
    done = subprocess.run([go, "install", f"{ACTIONLINT}@{ACTIONLINT_VERSION}"], env=env,
                          capture_output=True, text=True, check=False)  # fmt: skip
    if done.returncode != 0 or not binary.is_file():
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise ToolError(f"go install {ACTIONLINT}@{ACTIONLINT_VERSION} failed: {last}")
    return binary
