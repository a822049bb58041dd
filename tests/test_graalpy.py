"""GraalPy from Maven Central: the JDK chosen, every jar checked, the JIT read, and a real run."""

from __future__ import annotations

import contextlib
import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from harness.provision import graalpy, maven
from tests.helpers import require_or_skip

pytestmark = pytest.mark.real  # it runs real interpreters: never beside another test

ROOT = Path(__file__).resolve().parent.parent
TINY = ROOT / "tests" / "data" / "workloads" / "tiny.py"


def _jdk(root: Path, name: str, version: str) -> Path:
    home = root / name
    (home / "bin").mkdir(parents=True)
    (home / "bin" / "java").write_text("#!/bin/sh\n")
    (home / "release").write_text(f'IMPLEMENTOR="x"\nJAVA_VERSION="{version}"\n')
    return home


def test_the_newest_jdk_new_enough_for_the_jit_is_chosen(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """JDK 17 is passed over, the newest of 25.x and later is taken, and none is None."""
    monkeypatch.delenv("JAVA_HOME", raising=False)
    _jdk(tmp_path, "java-17-openjdk-amd64", "17.0.15")
    assert graalpy.find_jdk((tmp_path,)) is None
    _jdk(tmp_path, "temurin-25-jdk-amd64", "25.0.3")
    newest = _jdk(tmp_path, "temurin-26-jdk-amd64", "26.0.1")
    assert graalpy.find_jdk((tmp_path,)) == (newest.resolve(), "26.0.1")


def _jar(folder: Path, name: str, data: bytes, published: str | None = None) -> Path:
    jar = folder / name
    jar.write_bytes(data)
    if published is not None:
        (folder / f"{name}.sha1").write_text(published + "\n")
    return jar


def test_every_jar_must_match_the_checksum_maven_published_for_it(tmp_path: Path) -> None:
    """A matching jar is recorded with its sha1; a tampered or unpublished one is refused."""
    good = _jar(tmp_path, "a-1.jar", b"jar a", hashlib.sha1(b"jar a").hexdigest())
    assert maven.verify([good]) == {"a-1.jar": hashlib.sha1(b"jar a").hexdigest()}
    tampered = _jar(tmp_path, "b-1.jar", b"jar b, altered", hashlib.sha1(b"jar b").hexdigest())
    with pytest.raises(maven.MavenError, match=r"b-1.jar has sha1 .*, not the .* published"):
        maven.verify([good, tampered])
    bare = _jar(tmp_path, "c-1.jar", b"jar c")
    with pytest.raises(maven.MavenError, match="has no published checksum"):
        maven.verify([bare])


def test_without_a_jdk_graalpy_is_unavailable_with_the_reason_and_the_fix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A laptop without Java keeps a GraalPy row: unavailable, why, and what to install."""
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setattr(graalpy, "JVM_ROOTS", (tmp_path,))
    row = graalpy.provision(print)
    assert not row.available and "needs a JDK 25 or newer" in row.unavailable
    assert "Temurin 25" in row.hint and "maven" in row.hint


@pytest.fixture(scope="module")
def provisioned() -> graalpy.Impl:
    """GraalPy provisioned for real from Maven (or the copy already in the cache)."""
    if graalpy.find_jdk() is None:  # a machine's JDK: Debian's archive has none this new
        pytest.skip("no JDK 25 in JAVA_HOME or /usr/lib/jvm: GraalPy's JIT needs one")
    require_or_skip(shutil.which("mvn") is not None, "Maven")
    row = graalpy.provision(lambda m: print(m, file=sys.stderr))
    assert row.available, row.unavailable
    return row


@pytest.mark.e2e
def test_graalpy_from_maven_runs_with_its_jit_on_and_every_jar_verified(
    provisioned: graalpy.Impl,
) -> None:
    """The launcher runs GraalPy 25.0.3 on the JDK found, JIT read as on, jars all checked."""
    provenance = provisioned.provenance
    assert provisioned.id.startswith("graalpy3.") and provisioned.runner == "pure"
    assert provenance["jit"] == "on" and "GraalVM CE" in str(provenance["sys_version"])
    artifacts = provenance["artifacts"]
    assert isinstance(artifacts, dict) and len(artifacts) >= 20
    assert f"all {len(artifacts)} jars matches" in str(provenance["verified"])
    assert any(name.startswith("python-language-") for name in artifacts)


@pytest.mark.e2e
def test_graalpy_measures_a_workload_serially_and_under_threads_with_its_gil_read_inside(
    provisioned: graalpy.Impl, tmp_path: Path
) -> None:
    """run --impl graalpy on tiny.py: both cells ok, with the GIL state the worker read."""
    done = subprocess.run(
        [sys.executable, "-m", "harness", "run", "--impl", "graalpy", "--workload", str(TINY),
         "--model", "serial,threads", "--workers", "1,2", "--sparse",
         "--quick", "--reports", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=1200, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    (summary,) = tmp_path.glob("2*/summary.csv")
    table = pd.read_csv(summary, keep_default_na=False).set_index("model")
    assert table.loc["serial", "status"] == "ok" and table.loc["threads", "status"] == "ok"
    assert table.loc["serial", "gil_enabled"] == 1 and table.loc["threads", "gil_enabled"] == 1


def test_compare_provisions_graalpy_from_maven_only_when_asked_for(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Unasked, the row says it could be had and how; --impl graalpy provisions it."""
    from harness.provision import catalog, discover

    asked: list[bool] = []
    monkeypatch.setattr(discover, "probe_graalpy", lambda: graalpy._unavailable("not on PATH"))
    monkeypatch.setattr(graalpy, "find_jdk", lambda: (Path("/jdk"), "25.0.3"))
    monkeypatch.setattr(shutil, "which", lambda name: f"/usr/bin/{name}")
    monkeypatch.setattr(graalpy, "provision", lambda say, dry=False, install=False:
                        asked.append(dry) or graalpy._unavailable("provisioned"))  # fmt: skip
    (row,) = catalog.gather(["graalpy"], catalog.Sources(), print)
    assert asked == [False] and row.unavailable == "provisioned"
    unasked = catalog._graalpy(print, dry=False, asked=False)
    assert asked == [False] and "measured only when asked for" in unasked.unavailable
    assert unasked.hint == "nox -s compare -- --impl graalpy"


def test_a_nightly_plan_counts_graalpy_asked_for_though_this_machine_lacks_java(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """compare --plan --impl graalpy: its measure jobs set up the JDK, so the plan counts
    and estimates its cells; measuring here without Java, it is unavailable, with why."""
    from harness.cli import main
    from harness.provision import catalog, discover

    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setattr(graalpy, "JVM_ROOTS", (tmp_path,))
    monkeypatch.setattr(discover, "probe_graalpy", lambda: graalpy._unavailable("not on PATH"))
    (planned,) = catalog.gather(["graalpy"], catalog.Sources(), print, dry=True)
    assert planned.available and "to be provisioned from Maven" in planned.provenance["version"]
    (measured,) = catalog.gather(["graalpy"], catalog.Sources(), print)
    assert not measured.available and "needs a JDK 25" in measured.unavailable
    out = tmp_path / "plan.json"
    argv = ["compare", "--plan", "--shards", "1", "--json", "--quick", "--workload", "nbody"]
    for extra in ([], ["--impl", "graalpy"]):
        with out.open("w") as sink, contextlib.redirect_stdout(sink):
            assert main([*argv, *extra]) == 0
        plans = json.loads(out.read_text())
        if not extra:
            without = plans["shards"][0]["estimate_s"]
            assert "graalpy3.12" not in plans["impls"]
    assert "graalpy3.12" in plans["impls"] and plans["shards"][0]["estimate_s"] > without


def test_maven_comes_from_apt_when_allowed_and_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--install-system-packages installs Maven for GraalPy; without it, GraalPy is
    unavailable and says Maven is missing."""
    from harness.provision import system

    monkeypatch.setattr(graalpy, "find_jdk", lambda: (tmp_path, "25.0.3"))
    monkeypatch.setattr(shutil, "which", lambda name: None)
    installed: list[list[str]] = []

    def ensure(names: list[str], say: object, allow: bool | None = None) -> None:
        installed.append(list(names))
        raise system.SystemPackagesError("apt-get is not here")

    monkeypatch.setattr(system, "ensure_packages", ensure)
    row = graalpy.provision(print)
    assert installed == [] and "needs Maven (mvn), which is not on PATH" in row.unavailable
    row = graalpy.provision(print, install=True)
    assert installed == [["maven"]] and row.unavailable.endswith("apt-get is not here")
