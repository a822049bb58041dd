"""Jython from Maven Central when Debian's is older or missing, and the row says which."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from harness.provision import discover, jython
from tests.helpers import require_or_skip

pytestmark = pytest.mark.real  # it runs real interpreters: never beside another test


def test_a_debian_version_is_read_as_its_upstream_version() -> None:
    """Debian's "2.7.3+repack1-1" is 2.7.3, older than Maven's 2.7.4; an epoch is dropped."""
    assert jython.version_key("2.7.3+repack1-1") == (2, 7, 3)
    assert jython.version_key("1:2.7.5-1") == (2, 7, 5)
    assert jython.version_key("2.7.3+repack1-1") < jython.version_key(jython.VERSION)
    assert jython.version_key("junk") == ()


@pytest.mark.parametrize(
    ("tools", "on_path", "debian", "reason"),
    [
        (("java", "mvn"), None, "", "no jython is installed"),
        (("java", "mvn"), "/usr/bin/jython", "2.7.3-1", "Debian's jython 2.7.3-1 is older"),
        (("java", "mvn"), "/usr/bin/jython", "2.7.5-1", ""),
        (("java", "mvn"), "/opt/jython/bin/jython", "2.7.3+repack1-1", ""),
        (("java",), None, "", ""),
        (("mvn",), "/usr/bin/jython", "2.7.3+repack1-1", ""),
    ],
)  # fmt: skip
def test_maven_s_jython_is_wanted_only_over_an_older_debian_one_or_none(
    monkeypatch: pytest.MonkeyPatch, tools: tuple[str, ...], on_path: str | None,
    debian: str, reason: str,
) -> None:  # fmt: skip
    """Maven's is used where Debian's is older or none is installed, and Java and Maven are
    here; a newer Debian one, or a Jython of another origin on PATH, is left as it is."""
    monkeypatch.setattr(jython.shutil, "which", lambda name: name if name in tools else None)
    monkeypatch.setattr(jython, "debian_version", lambda: debian)
    assert jython.wanted(on_path) == reason


def test_the_row_says_maven_s_jython_was_used_and_its_checksum_was_checked() -> None:
    """On a machine with Debian's 2.7.3, Java and Maven: Jython 2.7.4 from Maven, verified,
    with the reason it was chosen; a second probe takes it from the cache."""
    require_or_skip(all(shutil.which(t) for t in ("java", "mvn", "jython")), "java, mvn, jython")
    if not jython.wanted(shutil.which("jython")):
        pytest.skip("the jython here is not Debian's older package")
    said: list[str] = []
    row = discover.probe_jython(say=said.append)
    assert row.available, row.unavailable
    assert row.provenance["version"] == f"Jython {jython.VERSION}"
    assert str(row.provenance["chosen"]).startswith(f"Maven's {jython.VERSION}: Debian's jython")
    assert "matches the checksum Maven published" in str(row.provenance["verified"])
    assert row.command[:2] == ("java", "-jar") and Path(row.command[2]).is_file()
    again: list[str] = []
    assert discover.probe_jython(say=again.append).command == row.command and not again
